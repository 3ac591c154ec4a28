import type { SyscallEvent, TraceStats } from '../model/event.js';
import type { Output, OutputStats } from './output.js';
import type { TargetOptions } from './target-options.js';

/** An event waiting in an output's queue; `seq` is stable across retries (idempotency keys, ordering checks). */
export interface QueuedEvent {
  ev: SyscallEvent;
  seq: number;
}

export interface QueueSettings {
  /** Events held while the destination is slow or down; beyond this, new events are dropped and counted. */
  maxQueue: number;
  /** Events handed to one delivery attempt. */
  maxBatch: number;
  /** Further attempts after a failed delivery, before the batch is dropped and counted. */
  retries: number;
  /** First back-off after a failure; doubles each attempt (with jitter) up to maxBackoffMs. */
  backoffMs: number;
  maxBackoffMs: number;
  /** How long close() keeps trying to deliver what is queued; the rest is counted as dropped. */
  flushTimeoutMs: number;
}

/** Delivery failed for good (e.g. HTTP 400, a symlink at the file path): drop the batch without retrying. */
export class PermanentError extends Error {
  override name = 'PermanentError';
  /** How many leading events of the batch were delivered before the failure. */
  constructor(
    message: string,
    readonly delivered = 0,
  ) {
    super(message);
  }
}

/** The common `?queue=&batch=&retries=&backoff=&flushTimeout=` options every queued output accepts. */
export function queueSettings(o: TargetOptions, defaults: Partial<QueueSettings> = {}): QueueSettings {
  const d: QueueSettings = { maxQueue: 10_000, maxBatch: 500, retries: 5, backoffMs: 200, maxBackoffMs: 10_000, flushTimeoutMs: 5000, ...defaults };
  return {
    maxQueue: o.count('queue', d.maxQueue, { min: 1 }),
    maxBatch: o.count('batch', d.maxBatch, { min: 1 }),
    retries: o.count('retries', d.retries),
    backoffMs: o.duration('backoff', d.backoffMs),
    maxBackoffMs: d.maxBackoffMs,
    flushTimeoutMs: o.duration('flushTimeout', d.flushTimeoutMs),
  };
}

/** Resolves after `ms` or with `work`, whichever is first; its timer keeps Node alive (a flush must not end in an exit with nothing left to run). */
async function within(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/**
 * An output that never blocks tracing: write() enqueues into a bounded queue and returns at once; one pump per
 * output delivers batches in order, retrying with back-off. Invariant: accepted == sent + dropped + queued.
 */
export abstract class QueuedOutput implements Output {
  private queue: QueuedEvent[] = [];
  private inflight = 0;
  private nextSeq = 0;
  private sent = 0;
  private dropped = 0;
  private retried = 0;
  private pumping: Promise<void> | undefined;
  private aborted = false;
  private lastWarn = new Map<string, number>();
  /** Ends a back-off early when close() gives up: the pump must not sleep past the flush deadline. */
  private wakeFromBackoff: (() => void) | undefined;

  constructor(
    readonly name: string,
    protected readonly settings: QueueSettings,
  ) {}

  /** Delivers the batch in order; returns how many leading events were delivered (the rest is retried). Throws = none. */
  protected abstract deliver(batch: readonly QueuedEvent[]): Promise<number>;

  /** Resolves when delivering is worth trying (e.g. the connection is up). Awaited before each attempt. */
  protected usable(): Promise<void> {
    return Promise.resolve();
  }

  /** Releases connections and files; called once, after the flush. */
  protected async shutdown(): Promise<void> {}

  write(batch: readonly SyscallEvent[]): void {
    const droppedBefore = this.dropped;
    for (const ev of batch) {
      if (this.aborted || this.queue.length + this.inflight >= this.settings.maxQueue) this.dropped++;
      else this.queue.push({ ev, seq: this.nextSeq++ });
    }
    if (this.dropped > droppedBefore && !this.aborted) {
      this.warn('full', `queue full (${this.settings.maxQueue} events); dropping new events (${this.dropped} so far)`);
    }
    if (this.queue.length && !this.pumping) {
      this.pumping = this.pump().finally(() => (this.pumping = undefined));
    }
  }

  stats(): OutputStats {
    return { name: this.name, sent: this.sent, dropped: this.dropped, retried: this.retried, queued: this.queue.length + this.inflight };
  }

  async close(_final: TraceStats): Promise<void> {
    await within(this.idle(), this.settings.flushTimeoutMs);
    this.aborted = true; // from here on nothing new is attempted; what is left is dropped
    this.wakeFromBackoff?.();
    const left = this.queue.length + this.inflight;
    if (left) this.warn('flush', `${left} events still queued at the flush deadline (${this.settings.flushTimeoutMs} ms); counted as dropped`);
    this.dropped += this.queue.length;
    this.queue = [];
    await this.shutdown().catch((err: unknown) => this.warn('shutdown', String((err as Error)?.message ?? err)));
    await within(this.idle(), 1000);
    this.dropped += this.inflight; // a delivery still hanging after shutdown: count it, once
    this.inflight = 0;
  }

  /** One line on stderr per kind of trouble, at most every 10 s, so a down server does not flood the terminal. */
  protected warn(kind: string, message: string): void {
    const now = Date.now();
    if (now - (this.lastWarn.get(kind) ?? -Infinity) < 10_000) return;
    this.lastWarn.set(kind, now);
    const clear = process.stderr.isTTY ? '\r\x1b[K' : ''; // over a live status line, which is redrawn within a second
    process.stderr.write(`${clear}watchpost: ${this.name}: ${message}\n`);
  }

  /** Unref'd while tracing (tracing keeps the process alive); close() wakes it, so a flush never waits on it. */
  private backoff(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms).unref();
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeFromBackoff = done;
    }).finally(() => (this.wakeFromBackoff = undefined));
  }

  private async idle(): Promise<void> {
    while (this.pumping) await this.pumping;
  }

  private async pump(): Promise<void> {
    while (this.queue.length && !this.aborted) {
      const batch = this.queue.splice(0, this.settings.maxBatch);
      this.inflight = batch.length;
      let pending: readonly QueuedEvent[] = batch;
      for (let attempt = 0; pending.length && !this.aborted; attempt++) {
        let done = 0;
        let failure: unknown;
        try {
          await this.usable();
          if (this.aborted) break;
          done = await this.deliver(pending);
        } catch (err) {
          failure = err;
          if (err instanceof PermanentError) done = err.delivered;
        }
        if (this.inflight === 0) return; // close() gave up on this batch and counted it
        this.sent += done;
        this.inflight -= done;
        pending = pending.slice(done);
        if (!pending.length || this.aborted) break;
        const reason = failure ? String((failure as Error)?.message ?? failure) : 'partial delivery';
        if (failure instanceof PermanentError || attempt >= this.settings.retries) {
          this.warn('drop', `${reason}; dropped ${pending.length} events`);
          this.dropped += pending.length;
          this.inflight -= pending.length;
          pending = [];
          break;
        }
        this.warn('retry', `${reason}; retrying`);
        this.retried += pending.length;
        const backoff = Math.min(this.settings.maxBackoffMs, this.settings.backoffMs * 2 ** attempt);
        await this.backoff(backoff * (0.5 + Math.random() / 2));
      }
      if (this.aborted && this.inflight) return; // close() counts the rest
      this.inflight = 0;
    }
  }
}
