import { connect, type NatsConnection } from 'nats';
import { seqOf } from './events.js';

export interface StoredEvent {
  subject: string;
  seq: number;
  json: Record<string, any>;
}

/** Reads the whole stream back through an ordered consumer, as a fleet consumer would. */
export async function readStream(port: number, stream: string): Promise<StoredEvent[]> {
  const nc: NatsConnection = await connect({ servers: `nats://127.0.0.1:${port}` });
  try {
    const js = nc.jetstream();
    const consumer = await js.consumers.get(stream);
    const got: StoredEvent[] = [];
    for (;;) {
      const batch = await consumer.fetch({ max_messages: 1000, expires: 1000 });
      let n = 0;
      for await (const m of batch) {
        const json = m.json<Record<string, any>>();
        got.push({ subject: m.subject, seq: seqOf(json as any), json });
        n++;
      }
      if (n === 0) return got;
    }
  } finally {
    await nc.close();
  }
}

