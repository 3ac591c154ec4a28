import type { SyscallEvent, TraceStats } from '../model/event.js';
import { batchParts, jsonLines } from './json.js';
import { MessageQueue, type MessageBlock, type Messages } from './message-queue.js';
import type { Output, OutputStats } from './output.js';
import type { TargetOptions } from './target-options.js';

export interface QueueSettings {
  /** Events held while the destination is slow or down; beyond this, new events are dropped and counted. */
  maxQueue: number;
  /** Bytes the held events may take (as this output sends them); beyond this, new events are dropped and counted. */
  maxQueueBytes: number;
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

/** The common `?queue=&queueBytes=&batch=&retries=&backoff=&flushTimeout=` options every queued output accepts. */
export function queueSettings(o: TargetOptions, defaults: Partial<QueueSettings> = {}): QueueSettings {
  const d: QueueSettings = { maxQueue: 10_000, maxQueueBytes: 8 << 20, maxBatch: 500, retries: 5, backoffMs: 200, maxBackoffMs: 10_000, flushTimeoutMs: 5000, ...defaults };
  return {
    maxQueue: o.count('queue', d.maxQueue, { min: 1 }),
    maxQueueBytes: o.count('queueBytes', d.maxQueueBytes, { min: 1, bytes: true }),
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
 * An output that never blocks tracing: write() turns the batch into this output's messages (bytes), puts them in a
 * bounded queue and returns at once; one pump per output delivers them in order, retrying with back-off.
 * Invariant: accepted == sent + dropped + queued.
 */
export abstract class QueuedOutput implements Output {
  private readonly queue: MessageQueue;
  /** Messages at the head of the queue that a delivery attempt is working on. */
  private inflight = 0;
  private sent = 0;
  private dropped = 0;
  private retried = 0;
  private pumping: Promise<void> | undefined;
  private aborted = false;
  /** close() counted everything still queued: a delivery that returns after that changes nothing. */
  private settled = false;
  private lastWarn = new Map<string, number>();
  /** Ends a back-off early when close() gives up: the pump must not sleep past the flush deadline. */
  private wakeFromBackoff: (() => void) | undefined;

  constructor(
    readonly name: string,
    protected readonly settings: QueueSettings,
  ) {
    this.queue = new MessageQueue(settings.maxQueue, settings.maxQueueBytes);
  }

  /** Delivers the messages in order; returns how many leading ones were delivered (the rest is retried). Throws = none. */
  protected abstract deliver(messages: Messages): Promise<number>;

  /**
   * This output's messages for the first `max` events of the batch (it may make more; only `max` are queued). By
   * default the batch's JSON lines, made once for every output that prints them.
   */
  protected encode(batch: readonly SyscallEvent[], _max: number): MessageBlock {
    return jsonLines(batch);
  }

  /** Resolves when delivering is worth trying (e.g. the connection is up). Awaited before each attempt. */
  protected usable(): Promise<void> {
    return Promise.resolve();
  }

  /** Releases connections and files; called once, after the flush. */
  protected async shutdown(): Promise<void> {}

  write(batch: readonly SyscallEvent[]): void {
    for (const part of batchParts(batch)) this.enqueue(part);
    if (this.queue.count > this.inflight && !this.pumping) {
      this.pumping = this.pump().finally(() => (this.pumping = undefined));
    }
  }

  private enqueue(batch: readonly SyscallEvent[]): void {
    if (batch.length === 0) return;
    const room = this.aborted ? 0 : Math.min(batch.length, this.queue.room());
    const accepted = room > 0 ? this.queue.push(this.encode(batch, room), room) : 0; // a full queue costs no serialising
    if (accepted < batch.length) {
      this.dropped += batch.length - accepted;
      if (!this.aborted) {
        const { maxQueue, maxQueueBytes } = this.settings;
        this.warn('full', `queue full (${maxQueue} events or ${Math.round(maxQueueBytes / 1024)} KiB); dropping new events (${this.dropped} so far)`);
      }
    }
  }

  stats(): OutputStats {
    return { name: this.name, sent: this.sent, dropped: this.dropped, retried: this.retried, queued: this.queue.count };
  }

  /** Bytes the queue holds (what this output keeps in memory for events not yet delivered). */
  queuedBytes(): number {
    return this.queue.bytes;
  }

  async close(_final: TraceStats): Promise<void> {
    await within(this.idle(), this.settings.flushTimeoutMs);
    this.aborted = true; // from here on nothing new is attempted; what is left is dropped
    this.wakeFromBackoff?.();
    const left = this.queue.count;
    if (left) this.warn('flush', `${left} events still queued at the flush deadline (${this.settings.flushTimeoutMs} ms); counted as dropped`);
    this.dropped += this.queue.keepFirst(this.inflight);
    await this.shutdown().catch((err: unknown) => this.warn('shutdown', String((err as Error)?.message ?? err)));
    await within(this.idle(), 1000);
    this.dropped += this.queue.abandon(); // a delivery still hanging after shutdown: count it, once
    this.inflight = 0;
    this.settled = true;
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

  /** Counts the first n queued messages as delivered or dropped. */
  private settle(n: number, as: 'sent' | 'dropped'): void {
    this[as] += n;
    this.inflight -= n;
    this.queue.shift(n);
  }

  private async pump(): Promise<void> {
    while (this.queue.count && !this.aborted) {
      let pending = this.queue.peek(this.settings.maxBatch);
      this.inflight = pending.length;
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
        if (this.settled) return; // close() gave up on these and counted them
        this.settle(done, 'sent');
        pending = pending.after(done);
        if (!pending.length || this.aborted) break;
        const reason = failure ? String((failure as Error)?.message ?? failure) : 'partial delivery';
        if (failure instanceof PermanentError || attempt >= this.settings.retries) {
          this.warn('drop', `${reason}; dropped ${pending.length} events`);
          this.settle(pending.length, 'dropped');
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
