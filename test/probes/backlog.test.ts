import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BLOCK_BYTES, BlockPool } from '../../src/probes/backlog.js';
import { SpilledRecords } from '../../src/probes/ebpf/spilled-records.js';
import type { RingBuffer } from '../../src/probes/ebpf/ringbuf.js';
import { SpillingPages } from '../../src/probes/tracefs/spilled-pages.js';
import type { PageSource } from '../../src/probes/tracefs/decoder.js';

/** Records as the ring holds them: 8-byte header (length), body (u32 sequence number, padding to `len`), 8-aligned. */
function ringOf(lengths: number[]): { ring: RingBuffer; taken: () => number } {
  const parts: Buffer[] = [];
  lengths.forEach((len, seq) => {
    const r = Buffer.alloc(8 + ((len + 7) & ~7));
    r.writeUInt32LE(len, 0);
    r.writeUInt32LE(seq, 8);
    parts.push(r);
  });
  const bytes = Buffer.concat(parts);
  let at = 0;
  const fake = {
    pending: () => bytes.length - at,
    nextRecordBytes: () => (at < bytes.length ? 8 + ((bytes.readUInt32LE(at) + 7) & ~7) : 0),
    takeInto(dst: Uint8Array, to: number, end: number): number {
      let n = 0;
      while (at + n < bytes.length) {
        const step = 8 + ((bytes.readUInt32LE(at + n) + 7) & ~7);
        if (n + step > end - to) break;
        n += step;
      }
      dst.set(bytes.subarray(at, at + n), to);
      at += n;
      return n;
    },
  };
  return { ring: fake as unknown as RingBuffer, taken: () => at };
}

function served(src: SpilledRecords, max = Infinity): number[] {
  const seqs: number[] = [];
  src.consume((d, off) => seqs.push(d.getUint32(off, true)), max);
  return seqs;
}

describe('eBPF backlog: records out of the ring, served in order', () => {
  it('records that do not fit a block start the next one; every record comes back once, in order', () => {
    const lengths = Array.from({ length: 20_000 }, (_, i) => 152 + (i % 5) * 100); // ~5 MB: several blocks
    const { ring } = ringOf(lengths);
    const pool = new BlockPool(64 << 20);
    const spilled = new SpilledRecords(pool);
    const moved = spilled.takeFrom(ring);
    assert.equal(ring.pending(), 0);
    assert.ok(moved > 4 * BLOCK_BYTES, `moved ${moved}`);
    const held = pool.stats().bytes;
    assert.ok(held >= moved && held < moved + BLOCK_BYTES, `held ${held} for ${moved} moved: whole blocks, the last one partly used`);
    const first = served(spilled, 7);
    assert.deepEqual(first, [0, 1, 2, 3, 4, 5, 6], 'a budget is kept');
    const rest = served(spilled);
    assert.deepEqual([...first, ...rest], lengths.map((_, i) => i));
    assert.ok(spilled.empty);
    assert.equal(pool.stats().bytes, 0, 'every block back in the pool');
    assert.ok(pool.stats().peakBytes >= moved);
  });

  it('stops at the limit: the ring keeps the rest', () => {
    const { ring } = ringOf(Array.from({ length: 20_000 }, () => 152)); // 3.2 MB
    const spilled = new SpilledRecords(new BlockPool(2 * BLOCK_BYTES));
    const moved = spilled.takeFrom(ring);
    assert.ok(moved <= 2 * BLOCK_BYTES && moved > 2 * BLOCK_BYTES - 200, `moved ${moved}`);
    assert.equal(ring.pending(), 20_000 * 160 - moved);
    assert.deepEqual(served(spilled), Array.from({ length: moved / 160 }, (_, i) => i));
  });
});

/** Per-CPU pages of a fake trace_pipe_raw: header (u64 time, commit = data bytes), then `used` bytes holding the page's number. */
function pagesOf(sizes: number[][], pageSize = 4096): PageSource & { left: (i: number) => number } {
  const queues = sizes.map((s, cpu) => s.map((size, k) => ({ size, tag: cpu * 1000 + k })));
  return {
    cpus: sizes.map((_, i) => i),
    pageSize,
    left: (i) => queues[i].length,
    readPage(i, buf, offset) {
      const p = queues[i].shift();
      if (!p) return 0;
      buf.fill(0xee, offset, offset + pageSize); // what follows the data is not the page's: a copy need not keep it
      buf.writeBigUInt64LE(123n, offset);
      buf.writeBigUInt64LE(BigInt(p.size), offset + 8);
      buf.writeUInt32LE(p.tag, offset + 16);
      return pageSize;
    },
  };
}

function readAll(src: PageSource, i: number): Array<{ tag: number; size: number; got: number }> {
  const buf = Buffer.alloc(src.pageSize);
  const out: Array<{ tag: number; size: number; got: number }> = [];
  for (let got = src.readPage(i, buf, 0); got > 0; got = src.readPage(i, buf, 0)) out.push({ tag: buf.readUInt32LE(16), size: Number(buf.readBigUInt64LE(8)), got });
  return out;
}

describe('tracefs backlog: pages read ahead, served per CPU in order', () => {
  it('keeps a page’s used bytes only, stops a CPU at a page under half full, serves the backlog before the kernel', () => {
    const kernel = pagesOf([
      [4000, 4000, 100, 4000],
      [3000, 4050],
    ]);
    const pool = new BlockPool(8 << 20);
    const spilling = new SpillingPages(kernel, pool);
    const moved = spilling.spill();
    assert.equal(moved, 16 * 5 + 4000 * 2 + 100 + 3000 + 4050);
    assert.equal(kernel.left(0), 1, 'CPU 0 stopped after the page under half full');
    assert.equal(kernel.left(1), 0);
    assert.deepEqual(readAll(spilling, 0), [
      { tag: 0, size: 4000, got: 4016 },
      { tag: 1, size: 4000, got: 4016 },
      { tag: 2, size: 100, got: 116 },
      { tag: 3, size: 4000, got: 4096 }, // from the kernel, whole
    ]);
    assert.deepEqual(readAll(spilling, 1).map((p) => p.tag), [1000, 1001]);
    assert.equal(pool.stats().bytes, 0);
  });

  it('stops at the limit: the kernel keeps the rest, and order holds across the two', () => {
    const kernel = pagesOf([Array.from({ length: 600 }, () => 4000)]);
    const spilling = new SpillingPages(kernel, new BlockPool(2 * BLOCK_BYTES));
    spilling.spill();
    const perBlock = Math.floor(BLOCK_BYTES / (4 + 4096)); // a slot is kept for a whole page
    assert.ok(kernel.left(0) < 600 - 2 * perBlock + 5 && kernel.left(0) > 0, `left ${kernel.left(0)}`);
    assert.deepEqual(readAll(spilling, 0).map((p) => p.tag), Array.from({ length: 600 }, (_, k) => k));
  });
});
