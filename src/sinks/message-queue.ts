/**
 * An output's queue holds bytes, not events: each batch becomes one block of messages (a JSON line, a syslog frame…)
 * back to back in one buffer, so what waits costs exactly its bytes, and the bound is in bytes as well as messages.
 */

/** Messages back to back in `bytes`: message i ends at ends[i] and starts where message i - 1 ends (message 0 at 0). */
export interface MessageBlock {
  readonly bytes: Buffer;
  readonly ends: Uint32Array;
  /** A short string per message that travels beside it (e.g. the NATS subject of its event). */
  readonly labels?: readonly string[];
  /** For shared, reusable bytes (JSON lines): held while queued, released once all of it was delivered or dropped. */
  readonly held?: number;
  retain?(): void;
  release?(): void;
}

/** One message per string. */
export function blockOf(messages: readonly string[]): MessageBlock {
  const bufs = messages.map((m) => Buffer.from(m));
  const ends = new Uint32Array(bufs.length);
  let end = 0;
  for (let i = 0; i < bufs.length; i++) ends[i] = end += bufs[i].length;
  return { bytes: Buffer.concat(bufs, end), ends };
}

/** Queued messages [next, end) of a block; `size`: the bytes it holds in memory (counted until it is done). */
interface Entry {
  /** The block itself, when its bytes are shared and must be released. */
  block?: MessageBlock;
  bytes: Buffer;
  ends: Uint32Array;
  labels: readonly string[] | undefined;
  next: number;
  end: number;
  size: number;
}

const startOf = (ends: Uint32Array, i: number): number => (i === 0 ? 0 : ends[i - 1]);

/** Consecutive messages from the head of a queue, handed to one delivery attempt. */
export class Messages {
  /** Index of each part's first message within this run. */
  private readonly firsts: number[] = [];
  private cursor = 0;
  readonly length: number;
  readonly byteLength: number;

  constructor(
    private readonly parts: readonly Entry[],
    /** The sequence number of the first message (stable across retries: idempotency keys, ordering checks). */
    readonly seq: number,
  ) {
    let n = 0;
    let bytes = 0;
    for (const p of parts) {
      this.firsts.push(n);
      n += p.end - p.next;
      bytes += p.ends[p.end - 1] - startOf(p.ends, p.next);
    }
    this.length = n;
    this.byteLength = bytes;
  }

  /** The part holding message i (kept as a cursor: in order, each is found at once). */
  private partOf(i: number): number {
    let p = this.cursor;
    if (i < this.firsts[p] || i >= this.firsts[p] + this.parts[p].end - this.parts[p].next) {
      p = 0;
      while (i >= this.firsts[p] + this.parts[p].end - this.parts[p].next) p++;
      this.cursor = p;
    }
    return p;
  }

  /** Message i's bytes (a view, not a copy). */
  message(i: number): Buffer {
    const p = this.partOf(i);
    const part = this.parts[p];
    const j = part.next + i - this.firsts[p];
    return part.bytes.subarray(startOf(part.ends, j), part.ends[j]);
  }

  /** Message i's label (see MessageBlock). */
  label(i: number): string {
    const p = this.partOf(i);
    const part = this.parts[p];
    return part.labels![part.next + i - this.firsts[p]];
  }

  /** Sizes in bytes of messages [0, n), each. */
  sizes(): Uint32Array {
    const out = new Uint32Array(this.length);
    let k = 0;
    for (const p of this.parts) for (let j = p.next; j < p.end; j++) out[k++] = p.ends[j] - startOf(p.ends, j);
    return out;
  }

  /** Messages [from, to) back to back, as the few buffers they span (views, not copies). */
  chunks(from = 0, to = this.length): Buffer[] {
    const out: Buffer[] = [];
    for (let p = 0; p < this.parts.length && from < to; p++) {
      const part = this.parts[p];
      const first = this.firsts[p];
      const n = part.end - part.next;
      if (from >= first + n) continue;
      const a = part.next + from - first;
      const b = part.next + Math.min(to, first + n) - first;
      out.push(part.bytes.subarray(startOf(part.ends, a), part.ends[b - 1]));
      from = first + n;
    }
    return out;
  }

  /** This run without its first n messages (what is left to retry after a partial delivery). */
  after(n: number): Messages {
    const parts: Entry[] = [];
    let skip = n;
    for (const p of this.parts) {
      const len = p.end - p.next;
      if (skip >= len) {
        skip -= len;
        continue;
      }
      parts.push({ ...p, next: p.next + skip });
      skip = 0;
    }
    return new Messages(parts, this.seq + n);
  }
}

/** Messages waiting for one output, bounded by count and by bytes. Invariant: `count` and `bytes` cover what is queued. */
export class MessageQueue {
  private entries: Entry[] = [];
  private head = 0;
  private headSeq = 0;
  /** Messages queued (those being delivered included). */
  count = 0;
  /** Bytes the queued messages hold in memory. */
  bytes = 0;

  constructor(
    readonly maxCount: number,
    readonly maxBytes: number,
  ) {}

  /** How many more messages fit by count, 0 when the queue is full by count or by bytes. */
  room(): number {
    return this.bytes >= this.maxBytes ? 0 : Math.max(0, this.maxCount - this.count);
  }

  /** Queues the first messages of the block that fit (at most n); returns how many. The block must not change after. */
  push(block: MessageBlock, n = block.ends.length): number {
    const { ends } = block;
    let k = Math.min(n, ends.length, this.maxCount - this.count);
    const roomBytes = this.maxBytes - this.bytes;
    while (k > 0 && ends[k - 1] > roomBytes) k--;
    if (k <= 0) return 0;
    // a part of a block is copied out: the rest of the block is not held for nothing (and not counted)
    const whole = k === ends.length && (block.held ?? 0) <= roomBytes;
    const bytes = whole ? block.bytes : Buffer.from(block.bytes.subarray(0, ends[k - 1]));
    const kept = whole ? ends : ends.slice(0, k);
    const labels = whole ? block.labels : block.labels?.slice(0, k);
    const size = (whole ? (block.held ?? bytes.length) : bytes.length) + (labels ? 8 * k : 0); // a label is a pointer to a shared string
    if (whole) block.retain?.();
    this.entries.push({ block: whole ? block : undefined, bytes, ends: kept, labels, next: 0, end: k, size });
    this.count += k;
    this.bytes += size;
    return k;
  }

  /** The first n messages (or all there are), left in the queue. */
  peek(n: number): Messages {
    const parts: Entry[] = [];
    for (let i = this.head; i < this.entries.length && n > 0; i++) {
      const e = this.entries[i];
      const take = Math.min(n, e.end - e.next);
      parts.push({ ...e, end: e.next + take });
      n -= take;
    }
    return new Messages(parts, this.headSeq);
  }

  /** Removes the first n messages (delivered or dropped); an entry's bytes are released once all of it is gone. */
  shift(n: number): void {
    n = Math.min(n, this.count);
    this.count -= n;
    this.headSeq += n;
    while (n > 0) {
      const e = this.entries[this.head];
      const take = Math.min(n, e.end - e.next);
      e.next += take;
      n -= take;
      if (e.next === e.end) this.release();
    }
  }

  /** Removes every message after the first n; returns how many were removed. */
  keepFirst(n: number): number {
    const removed = Math.max(0, this.count - n);
    let left = n;
    let i = this.head;
    for (; i < this.entries.length; i++) {
      const e = this.entries[i];
      const len = e.end - e.next;
      if (left < len) {
        e.end = e.next + left;
        left = 0;
        if (e.end > e.next) i++;
        break;
      }
      left -= len;
    }
    for (let j = i; j < this.entries.length; j++) {
      this.bytes -= this.entries[j].size;
      this.entries[j].block?.release?.();
    }
    this.entries.length = i;
    this.count -= removed;
    if (this.head >= this.entries.length) this.reset();
    return removed;
  }

  /**
   * Forgets every message, its shared bytes never released: a delivery may still be using them (a write to a hung
   * disk, at exit), so they are left to the garbage collector rather than reused. Returns how many there were.
   */
  abandon(): number {
    const n = this.count;
    this.count = 0;
    this.bytes = 0;
    this.reset();
    return n;
  }

  private release(): void {
    const e = this.entries[this.head];
    this.bytes -= e.size;
    e.block?.release?.();
    this.entries[this.head] = undefined as unknown as Entry; // let the buffer go now, not at the next compaction
    this.head++;
    if (this.head === this.entries.length) this.reset();
    else if (this.head >= 1024 && this.head * 2 >= this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }

  private reset(): void {
    this.entries = [];
    this.head = 0;
  }
}
