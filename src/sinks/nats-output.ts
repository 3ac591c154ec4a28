import type { JetStreamClient, NatsConnection } from 'nats';
import { UsageError } from '../model/errors.js';
import { agentHost } from '../enrich/agent-host.js';
import type { SyscallEvent } from '../model/event.js';
import { jsonLines } from './json.js';
import type { MessageBlock, Messages } from './message-queue.js';
import { QueuedOutput, queueSettings, type QueueSettings } from './queued-output.js';
import { registerOutput } from './registry.js';
import { TargetOptions } from './target-options.js';

export interface NatsOutputOptions {
  /** `nats://HOST:PORT` (several comma-separated for a cluster). */
  servers: string[];
  /** Subject prefix: each event goes to `<subject>.<host>.<eventName>`. */
  subject: string;
  /** Stream created (file storage, limits retention) when no stream covers `<subject>.>`. */
  stream: string;
  /** How long to wait for the JetStream acknowledgement of one publish. */
  ackTimeoutMs: number;
  queue: QueueSettings;
}

/** A subject token: no dots, spaces or wildcards (a host name like a.b.c would otherwise add levels). */
export function subjectToken(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]/g, '_') || '_';
}

/** Subject tokens of event names, made once each. */
const eventTokens = new Map<string, string>();
function eventToken(name: string): string {
  let t = eventTokens.get(name);
  if (t === undefined) {
    if (eventTokens.size >= 4096) eventTokens.clear();
    eventTokens.set(name, (t = subjectToken(name)));
  }
  return t;
}

/**
 * `-o nats:nats://HOST:PORT?subject=watchpost.events`: each event is a JetStream message on
 * `<subject>.<host>.<eventName>` (host: see agent-host.ts), acknowledged by the stream. Every event carries a Nats-Msg-Id
 * (`<host>.<pid>.<start>.<seq>`) so a publish retried after a lost acknowledgement is stored once (the stream's
 * duplicate window, 2 minutes by default). Nothing is published while disconnected: events wait in the bounded
 * queue (overflow is dropped and counted) and go out in order once the client has reconnected.
 */
export class NatsOutput extends QueuedOutput {
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private connecting: Promise<void> | undefined;
  private connected = false;
  private streamReady = false;
  private wakeUp: (() => void) | undefined;
  private closed = false;
  private readonly host = subjectToken(agentHost);
  private readonly idPrefix = `${agentHost}.${process.pid}.${Date.now()}`;

  constructor(private readonly opts: NatsOutputOptions) {
    super(`nats:${opts.servers.map((u) => u.replace(/\/\/[^@/]*@/, '//')).join(',')}`, opts.queue); // no credentials in logs and metrics
  }

  /** Connects on first use (the client library is loaded only then), and waits out disconnections. */
  protected override async usable(): Promise<void> {
    this.connecting ??= this.connect();
    await this.connecting;
    while (!this.connected && !this.closed) {
      this.warn('down', `not connected; holding events in the queue (${this.stats().queued} queued, ${this.stats().dropped} dropped so far)`);
      await new Promise<void>((resolve) => (this.wakeUp = resolve));
    }
    if (this.closed) throw new Error('output closed');
    if (!this.streamReady) await this.ensureStream();
  }

  private async connect(): Promise<void> {
    const { connect, Events } = await import('nats');
    // A server not up yet is an outage like any other: keep trying (quietly after the first warning) until close.
    for (;;) {
      try {
        this.nc = await connect({
          servers: this.opts.servers,
          name: `watchpost@${agentHost}`,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 250,
          pingInterval: 10_000,
        });
        break;
      } catch (err) {
        if (this.closed) throw new Error('output closed');
        this.warn('down', `cannot connect (${(err as Error).message}); holding events in the queue`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
    this.connected = true;
    this.js = this.nc.jetstream({ timeout: this.opts.ackTimeoutMs });
    void (async () => {
      for await (const s of this.nc!.status()) {
        if (s.type === Events.Disconnect) this.connected = false;
        if (s.type === Events.Reconnect) {
          this.connected = true;
          this.warn('up', 'reconnected; sending what is queued');
          this.wake();
        }
      }
    })();
    void this.nc.closed().then(() => {
      this.connected = false;
      this.closed = true;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }

  private async ensureStream(): Promise<void> {
    const jsm = await this.nc!.jetstreamManager();
    const probe = `${this.opts.subject}.${this.host}.ioperm`;
    try {
      await jsm.streams.find(probe);
    } catch {
      try {
        await jsm.streams.add({ name: this.opts.stream, subjects: [`${this.opts.subject}.>`] });
        this.warn('stream', `created JetStream stream ${this.opts.stream} for ${this.opts.subject}.>`);
      } catch (err) {
        throw new Error(`no stream covers ${this.opts.subject}.> and creating ${this.opts.stream} failed: ${(err as Error).message}`);
      }
    }
    this.streamReady = true;
  }

  /**
   * The JSON lines, each labelled with its event's subject token. A copy of the shared lines: the client may keep a
   * message's bytes in its own buffers past the publish (to resend after a reconnect), so they must never be reused.
   */
  protected override encode(batch: readonly SyscallEvent[], max: number): MessageBlock {
    const lines = jsonLines(batch);
    const labels = new Array<string>(max);
    for (let i = 0; i < max; i++) labels[i] = eventToken(batch[i].eventName);
    const ends = lines.ends.subarray(0, max);
    return { bytes: Buffer.from(lines.bytes.subarray(0, max ? ends[max - 1] : 0)), ends, labels };
  }

  protected async deliver(messages: Messages): Promise<number> {
    const js = this.js!;
    // Published back to back on one connection: the server stores them in this order; acks are awaited together.
    const acks: Promise<unknown>[] = new Array(messages.length);
    for (let i = 0; i < messages.length; i++) {
      const line = messages.message(i);
      acks[i] = js.publish(`${this.opts.subject}.${this.host}.${messages.label(i)}`, line.subarray(0, line.length - 1), { msgID: `${this.idPrefix}.${messages.seq + i}` });
    }
    const results = await Promise.allSettled(acks);
    const firstFailure = results.findIndex((r) => r.status === 'rejected');
    if (firstFailure < 0) return messages.length;
    const err = (results[firstFailure] as PromiseRejectedResult).reason as Error & { code?: string };
    if (err.code === '503') this.streamReady = false; // no responders: the stream went away (a server with a fresh store)
    if (firstFailure === 0) throw err;
    this.warn('partial', `${err.message}; retrying from the first unacknowledged event`);
    return firstFailure;
  }

  protected override async shutdown(): Promise<void> {
    this.closed = true;
    this.wake();
    const nc = this.nc;
    if (!nc || nc.isClosed()) return;
    if (this.connected) await nc.drain().catch(() => nc.close());
    else await nc.close();
  }
}

registerOutput('nats', (target) => {
  const spec = `nats:${target}`;
  const { base, options } = TargetOptions.split(target);
  const servers = base.split(',').filter(Boolean);
  if (!servers.length || !servers.every((s) => /^(nats|tls):\/\/[^/?#]+$/.test(s))) {
    throw new UsageError(`-o ${spec}: expected nats:nats://HOST:PORT[,nats://HOST:PORT…][?subject=watchpost.events]`);
  }
  const subject = options.string('subject', 'watchpost.events');
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(subject)) throw new UsageError(`-o ${spec}: subject=${subject}: use dot-separated tokens without wildcards`);
  const stream = options.string('stream', 'WATCHPOST');
  if (!/^[A-Za-z0-9_-]+$/.test(stream)) throw new UsageError(`-o ${spec}: stream=${stream}: letters, digits, _ and - only`);
  const ackTimeoutMs = options.duration('ackTimeout', 5000);
  const queue = queueSettings(options, { maxBatch: 256, retries: 10 });
  options.rejectUnknown();
  return new NatsOutput({ servers, subject, stream, ackTimeoutMs, queue });
}, 'nats:nats://HOST:PORT[?subject=S]');
