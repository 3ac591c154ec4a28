import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodePage } from '../../../src/probes/tracefs/page.js';

/** Builds a ring-buffer page byte for byte as kernel/trace/ring_buffer.c writes it. */
class PageBuilder {
  private readonly words: number[] = [];
  constructor(private readonly ts: number) {}
  private header(typeLen: number, delta: number): void {
    this.words.push(((delta << 5) | typeLen) >>> 0);
  }
  /** A data record; payload length must be a multiple of 4. Up to 112 bytes uses the short form. */
  data(delta: number, payload: number[], long = payload.length > 112): this {
    if (!long) {
      this.header(payload.length / 4, delta);
    } else {
      this.header(0, delta);
      this.words.push(payload.length + 4); // array[0] counts itself
    }
    for (let i = 0; i < payload.length; i += 4) this.words.push(payload[i] | (payload[i + 1] << 8) | (payload[i + 2] << 16) | (payload[i + 3] << 24));
    return this;
  }
  extend(delta: number): this {
    this.header(30, delta % 2 ** 27);
    this.words.push(Math.floor(delta / 2 ** 27));
    return this;
  }
  absolute(ts: number): this {
    this.header(31, ts % 2 ** 27);
    this.words.push(Math.floor(ts / 2 ** 27));
    return this;
  }
  /** A discarded record of `bytes` payload. */
  discarded(bytes: number): this {
    this.header(29, 1);
    this.words.push(bytes + 4); // array[0] = record length - 4
    for (let i = 0; i < bytes; i += 4) this.words.push(0xdeadbeef);
    return this;
  }
  nullPadding(): this {
    this.header(29, 0);
    return this;
  }
  build(opts: { missed?: boolean; missedCount?: number; pageSize?: number } = {}): Buffer {
    const size = this.words.length * 4;
    const page = Buffer.alloc(opts.pageSize ?? 4096);
    page.writeBigUInt64LE(BigInt(this.ts), 0);
    let commit = size;
    if (opts.missed) commit |= 0x80000000;
    if (opts.missedCount !== undefined) commit |= 0x40000000;
    page.writeUInt32LE(commit >>> 0, 8);
    this.words.forEach((w, i) => page.writeUInt32LE(w >>> 0, 16 + i * 4));
    if (opts.missedCount !== undefined) page.writeBigUInt64LE(BigInt(opts.missedCount), 16 + size);
    return page;
  }
}

function decode(page: Buffer): { records: Array<{ ts: number; bytes: number[] }>; summary: ReturnType<typeof decodePage> } {
  const records: Array<{ ts: number; bytes: number[] }> = [];
  const view = new DataView(page.buffer, page.byteOffset, page.byteLength);
  const summary = decodePage(view, 0, page.length, (_v, off, len, ts) => records.push({ ts, bytes: [...page.subarray(off, off + len)] }));
  return { records, summary };
}

const payload = (n: number, seed = 1): number[] => Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);

describe('ring-buffer page decoder', () => {
  it('reads short records and adds each time delta to the page timestamp', () => {
    const { records, summary } = decode(new PageBuilder(1_000_000).data(0, payload(8)).data(5, payload(12, 2)).data(100, payload(4, 3)).build());
    assert.deepEqual(records.map((r) => r.ts), [1_000_000, 1_000_005, 1_000_105]);
    assert.deepEqual(records[1].bytes, payload(12, 2));
    assert.equal(summary.records, 3);
    assert.equal(summary.missedEvents, false);
    assert.equal(summary.missedCount, undefined);
  });

  it('reads a long record whose length is in the word after the header', () => {
    const big = payload(200, 9);
    const { records } = decode(new PageBuilder(50).data(3, big).data(1, payload(8)).build());
    assert.equal(records.length, 2);
    assert.deepEqual(records[0].bytes, big);
    assert.deepEqual(records.map((r) => r.ts), [53, 54]);
  });

  it('also reads a short payload written in the long form (type_len 0)', () => {
    const { records } = decode(new PageBuilder(0).data(2, payload(16), true).build());
    assert.deepEqual(records[0].bytes, payload(16));
  });

  it('applies time-extend records (delta wider than 27 bits)', () => {
    const delta = 5 * 2 ** 27 + 12345;
    const { records } = decode(new PageBuilder(10).data(0, payload(8)).extend(delta).data(7, payload(8)).build());
    assert.deepEqual(records.map((r) => r.ts), [10, 10 + delta + 7]);
  });

  it('takes absolute timestamps as the new base', () => {
    const abs = 3 * 2 ** 32 + 99;
    const { records } = decode(new PageBuilder(10).data(1, payload(8)).absolute(abs).data(4, payload(8)).build());
    assert.deepEqual(records.map((r) => r.ts), [11, abs + 4]);
  });

  it('skips discarded records and stops at null padding', () => {
    const b = new PageBuilder(0).data(1, payload(8)).discarded(24).data(1, payload(8, 5)).nullPadding();
    const page = b.build();
    const { records } = decode(page);
    assert.equal(records.length, 2);
    assert.deepEqual(records[1].bytes, payload(8, 5));
    assert.deepEqual(records.map((r) => r.ts), [1, 2]);
  });

  it('reports lost events flagged without a count', () => {
    const { summary, records } = decode(new PageBuilder(0).data(1, payload(8)).build({ missed: true }));
    assert.equal(summary.missedEvents, true);
    assert.equal(summary.missedCount, undefined);
    assert.equal(records.length, 1);
  });

  it('reports the lost-event count stored after the data', () => {
    const { summary, records } = decode(new PageBuilder(0).data(1, payload(8)).data(1, payload(8)).build({ missed: true, missedCount: 4242 }));
    assert.equal(summary.missedEvents, true);
    assert.equal(summary.missedCount, 4242);
    assert.equal(records.length, 2, 'the stored count is not read as a record');
  });

  it('never reads past a short read or a torn record', () => {
    const page = new PageBuilder(0).data(1, payload(8)).data(1, payload(100)).build();
    const view = new DataView(page.buffer, page.byteOffset, page.byteLength);
    const seen: number[] = [];
    decodePage(view, 0, 16 + 12 + 20, (_v, off, len) => seen.push(len));
    assert.deepEqual(seen, [8]);
  });
});
