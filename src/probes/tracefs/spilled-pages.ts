import type { BlockPool } from '../backlog.js';
import type { PageSource } from './decoder.js';
import { usedBytes } from './page.js';

interface Block {
  buf: Buffer;
  /** Bytes filled, and where the next page to serve starts: each page is a u32 length and its used bytes. */
  end: number;
  at: number;
}

/**
 * The tracefs backlog: each CPU's pages read out of trace_pipe_raw ahead of the decoder, their used bytes kept in
 * blocks, served in order before the kernel's (per CPU, as the kernel hands them over).
 */
export class SpillingPages implements PageSource {
  readonly cpus: readonly number[];
  readonly pageSize: number;
  private readonly queues: Block[][];
  private readonly scratch: Buffer;

  constructor(
    private readonly kernel: PageSource,
    private readonly pool: BlockPool,
  ) {
    this.cpus = kernel.cpus;
    this.pageSize = kernel.pageSize;
    this.queues = kernel.cpus.map(() => []);
    this.scratch = Buffer.allocUnsafeSlow(kernel.pageSize);
  }

  readPage(i: number, buf: Buffer, offset: number): number {
    const q = this.queues[i];
    while (q.length > 0) {
      const b = q[0];
      if (b.at < b.end) {
        const len = b.buf.readUInt32LE(b.at);
        b.buf.copy(buf, offset, b.at + 4, b.at + 4 + len);
        b.at += 4 + len;
        return len;
      }
      q.shift();
      this.pool.give(b.buf);
    }
    return this.kernel.readPage(i, buf, offset);
  }

  /**
   * Reads each CPU's full pages into the backlog while the pool has blocks. A CPU stops at a page less than half full:
   * the kernel handed over the page it is writing, and reading on would take a few records per read while it writes.
   * Returns bytes moved.
   */
  spill(): number {
    const slot = 4 + this.pageSize;
    let moved = 0;
    for (let i = 0; i < this.cpus.length; i++) {
      const q = this.queues[i];
      for (;;) {
        let b = q[q.length - 1];
        let got: number;
        if (b && b.buf.length - b.end >= slot) got = this.kernel.readPage(i, b.buf, b.end + 4);
        else {
          // a page is read before a block is taken: no block for a CPU with nothing to read
          if (this.pool.full()) return moved; // the backlog is full: the kernel keeps the rest
          got = this.kernel.readPage(i, this.scratch, 0);
          if (got <= 0) break;
          b = { buf: this.pool.take()!, end: 0, at: 0 };
          q.push(b);
          this.scratch.copy(b.buf, 4, 0, got);
        }
        if (got <= 0) break;
        const used = usedBytes(b.buf, b.end + 4, got);
        b.buf.writeUInt32LE(used, b.end);
        b.end += 4 + used;
        moved += used;
        if (used < this.pageSize / 2) break;
      }
    }
    return moved;
  }
}
