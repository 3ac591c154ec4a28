import { UsageError } from '../model/errors.js';
import type { SyscallEvent } from '../model/event.js';
import { falcoJson, toFalco } from './falco-format.js';
import { blockOf, type MessageBlock, type Messages } from './message-queue.js';
import { PermanentError, QueuedOutput, queueSettings, type QueueSettings } from './queued-output.js';
import { registerOutput } from './registry.js';
import { TargetOptions } from './target-options.js';

export interface WebhookOutputOptions {
  url: string;
  /** json: a JSON array of Tracee-shaped events per POST; falco: one Falco payload per POST (what falcosidekick takes). */
  format: 'json' | 'falco';
  /** A request that has not answered by then is a failure (a hanging receiver must not hold the queue forever). */
  timeoutMs: number;
  queue: QueueSettings;
}

/** `[line,line,…]`: the JSON lines with their newlines turned into commas. */
function jsonArray(lines: Messages): Buffer {
  const body = Buffer.allocUnsafe(lines.byteLength + 1);
  body[0] = 0x5b; // [
  let off = 1;
  for (const chunk of lines.chunks()) off += chunk.copy(body, off);
  let end = 0;
  for (const size of lines.sizes()) body[(end += size)] = 0x2c; // the newline ending each line (a JSON line has no other)
  body[end] = 0x5d; // ]
  return body;
}

/** Statuses worth retrying: the receiver is overloaded, restarting or timed out. Other 4xx will not get better. */
const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504]);

/** `-o webhook:URL[?format=falco]`: batched POSTs with retries and back-off, through Node's built-in fetch. */
export class WebhookOutput extends QueuedOutput {
  constructor(private readonly opts: WebhookOutputOptions) {
    const u = new URL(opts.url);
    super(`webhook:${u.origin}${u.pathname}`, opts.queue); // the name shows in logs and metrics: no query (tokens)
  }

  protected override encode(batch: readonly SyscallEvent[], max: number): MessageBlock {
    if (this.opts.format === 'json') return super.encode(batch, max);
    return blockOf(batch.slice(0, max).map((ev) => falcoJson(toFalco(ev))));
  }

  protected async deliver(messages: Messages): Promise<number> {
    if (this.opts.format === 'json') {
      await this.post(jsonArray(messages));
      return messages.length;
    }
    let done = 0;
    try {
      for (; done < messages.length; done++) await this.post(messages.message(done));
    } catch (err) {
      if (!done) throw err;
    }
    return done;
  }

  private async post(body: Uint8Array): Promise<void> {
    const res = await fetch(this.opts.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'watchpost' },
      body: body as Uint8Array<ArrayBuffer>, // our buffers are never shared memory
      signal: AbortSignal.timeout(this.opts.timeoutMs),
    });
    await res.arrayBuffer().catch(() => undefined); // let the connection be reused
    if (res.ok) return;
    const msg = `HTTP ${res.status} ${res.statusText}`;
    throw RETRYABLE.has(res.status) ? new Error(msg) : new PermanentError(`${msg} (not retried)`);
  }
}

/** Watchpost's own options; any other query parameter belongs to the receiver's URL (e.g. a token) and stays there. */
const OWN_KEYS = ['format', 'timeout', 'queue', 'batch', 'retries', 'backoff', 'flushTimeout'];

registerOutput('webhook', (target) => {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new UsageError(`-o webhook:${target}: not a URL; expected webhook:http(s)://HOST[:PORT]/PATH`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`-o webhook:${target}: only http:// and https:// URLs`);
  const own = new URLSearchParams();
  for (const key of OWN_KEYS) {
    for (const v of url.searchParams.getAll(key)) own.append(key, v);
    url.searchParams.delete(key);
  }
  const options = new TargetOptions(`webhook:${target}`, own.toString());
  const format = options.oneOf('format', ['json', 'falco'] as const, 'json');
  const timeoutMs = options.duration('timeout', 10_000);
  const queue = queueSettings(options, { maxBatch: format === 'falco' ? 50 : 500 });
  return new WebhookOutput({ url: url.toString(), format, timeoutMs, queue });
}, 'webhook:URL[?format=falco]');
