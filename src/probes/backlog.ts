/**
 * The backlog: kernel records moved into user-space memory while the pipeline is behind, so that a burst faster than
 * the pipeline decodes is held instead of lost. Moving costs one copy of the raw bytes (nothing is decoded); the moved
 * records are handed over, in order, before anything still in the kernel. Bounded: once `limit` bytes are held, the
 * kernel buffer fills as it would without a backlog, and the kernel counts what it then loses.
 */
export const DEFAULT_BACKLOG_MB = 128;

/** The unit the backlog grows by. */
export const BLOCK_BYTES = 1 << 20;
/** Empty blocks kept once the backlog is empty (the next burst starts without page faults); the rest go back to the system. */
const BLOCKS_KEPT = 1;

export interface BacklogStats {
  /** Bytes held now. */
  bytes: number;
  /** The most held at once this run. */
  peakBytes: number;
  limitBytes: number;
}

/**
 * The backlog's memory: blocks of BLOCK_BYTES up to the limit, reused while a burst lasts (a fresh block costs a page
 * fault per 4 KB, which a hypervisor makes dear), released but a few once it is over.
 */
export class BlockPool {
  private held = 0;
  private peak = 0;
  private readonly spare: Buffer[] = [];

  constructor(readonly limit: number) {}

  /** A block, or undefined when the limit is reached. */
  take(): Buffer | undefined {
    if (this.held + BLOCK_BYTES > this.limit) return undefined;
    this.held += BLOCK_BYTES;
    if (this.held > this.peak) this.peak = this.held;
    return this.spare.pop() ?? Buffer.allocUnsafeSlow(BLOCK_BYTES);
  }

  give(block: Buffer): void {
    this.held -= BLOCK_BYTES;
    this.spare.push(block);
    if (this.held === 0 && this.spare.length > BLOCKS_KEPT) this.spare.length = BLOCKS_KEPT;
  }

  stats(): BacklogStats {
    return { bytes: this.held, peakBytes: this.peak, limitBytes: this.limit };
  }
}
