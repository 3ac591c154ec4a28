import type { BlockPool } from '../backlog.js';
import type { RecordSource } from './drain.js';
import { DISCARDED, HEADER, LENGTH_MASK, recordBytes, type RecordHandler, type RingBuffer } from './ringbuf.js';

interface Block {
  buf: Buffer;
  view: DataView;
  /** Bytes filled, and where the next record to serve starts. */
  end: number;
  at: number;
}

/** The eBPF backlog: records taken out of the ring buffer, in blocks, served in order as the ring serves them. */
export class SpilledRecords implements RecordSource {
  private readonly blocks: Block[] = [];

  constructor(private readonly pool: BlockPool) {}

  get empty(): boolean {
    return this.blocks.length === 0;
  }

  /** Moves the ring's committed records into blocks while the pool has them; returns bytes moved. */
  takeFrom(ring: RingBuffer): number {
    let moved = 0;
    for (let next = ring.nextRecordBytes(); next > 0; next = ring.nextRecordBytes()) {
      let tail: Block | undefined = this.blocks[this.blocks.length - 1];
      if (!tail || tail.buf.length - tail.end < next) {
        const buf = this.pool.take();
        if (!buf) break; // the backlog is full: the ring keeps the rest
        tail = { buf, view: new DataView(buf.buffer, buf.byteOffset, buf.byteLength), end: 0, at: 0 };
        this.blocks.push(tail);
      }
      const n = ring.takeInto(tail.buf, tail.end, tail.buf.length);
      tail.end += n;
      moved += n;
    }
    return moved;
  }

  consume(handle: RecordHandler, maxRecords = Infinity): number {
    let n = 0;
    while (n < maxRecords && this.blocks.length > 0) {
      const b = this.blocks[0];
      const d = b.view;
      let at = b.at;
      while (at < b.end && n < maxRecords) {
        const hdr = d.getUint32(at, true);
        if (!(hdr & DISCARDED)) {
          handle(d, at + HEADER, hdr & LENGTH_MASK);
          n++;
        }
        at += recordBytes(hdr);
      }
      b.at = at;
      if (at < b.end) break;
      this.blocks.shift();
      this.pool.give(b.buf);
    }
    return n;
  }
}
