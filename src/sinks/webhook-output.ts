import { UsageError } from '../model/errors.js';
import { falcoJson, toFalco } from './falco-format.js';
import { eventToJson } from './json.js';
import { PermanentError, QueuedOutput, queueSettings, type QueuedEvent, type QueueSettings } from './queued-output.js';
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

/** Statuses worth retrying: the receiver is overloaded, restarting or timed out. Other 4xx will not get better. */
const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504]);

/** `-o webhook:URL[?format=falco]`: batched POSTs with retries and back-off, through Node's built-in fetch. */
export class WebhookOutput extends QueuedOutput {
  constructor(private readonly opts: WebhookOutputOptions) {
    const u = new URL(opts.url);
    super(`webhook:${u.origin}${u.pathname}`, opts.queue); // the name shows in logs and metrics: no query (tokens)
  }

  protected async deliver(batch: readonly QueuedEvent[]): Promise<number> {
    if (this.opts.format === 'json') {
      await this.post(`[${batch.map((q) => eventToJson(q.ev)).join(',')}]`);
      return batch.length;
    }
    let done = 0;
    try {
      for (const { ev } of batch) {
        await this.post(falcoJson(toFalco(ev)));
        done++;
      }
    } catch (err) {
      if (!done) throw err;
    }
    return done;
  }

  private async post(body: string): Promise<void> {
    const res = await fetch(this.opts.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'watchpost' },
      body,
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
