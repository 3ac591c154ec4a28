import type { BacklogStats } from '../model/event.js';

/**
 * The backlog: kernel records moved into user-space memory while the pipeline is behind, so that a burst faster than
 * the pipeline decodes is held instead of lost. Moving costs one copy of the raw bytes (nothing is decoded); the moved
 * records are handed over, in order, before anything still in the kernel. Bounded: once `limit` bytes are held, the
 * kernel buffer fills as it would without a backlog, and the kernel counts what it then loses.
 */
export const DEFAULT_BACKLOG_MB = 256;

/** The unit the backlog grows by, by default. */
export const BLOCK_BYTES = 1 << 20;

/**
 * The backlog's memory: blocks up to the limit, reused while a burst lasts (fresh memory costs ~0.5 ms per MB to fault
 * in on this VM, reused ~0.1), all let go once it is over: a run at a steady rate keeps none.
 */
export class BlockPool {
  private held = 0;
  private peak = 0;
  private readonly spare: Buffer[] = [];

  constructor(
    readonly limit = DEFAULT_BACKLOG_MB << 20,
    readonly blockBytes = BLOCK_BYTES,
  ) {}

  /** No block can be taken: the limit is reached. */
  full(): boolean {
    return this.held + this.blockBytes > this.limit;
  }

  /** A block, or undefined when the limit is reached. */
  take(): Buffer | undefined {
    if (this.full()) return undefined;
    this.held += this.blockBytes;
    if (this.held > this.peak) this.peak = this.held;
    return this.spare.pop() ?? Buffer.allocUnsafeSlow(this.blockBytes);
  }

  give(block: Buffer): void {
    this.held -= this.blockBytes;
    if (this.held === 0) this.spare.length = 0;
    else this.spare.push(block);
  }

  stats(): BacklogStats {
    return { bytes: this.held, peakBytes: this.peak, limitBytes: this.limit };
  }
}
