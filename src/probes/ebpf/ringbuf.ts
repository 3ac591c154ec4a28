import { BpfMap, MapType } from './maps.js';
import { mmap, munmap, PAGE_SIZE, PROT_READ, PROT_WRITE } from './sys.js';

/**
 * Consumer side of a BPF ring buffer (BPF_MAP_TYPE_RINGBUF).
 * Layout: consumer page (RW) at page 0, producer page (RO) at page 1, then the data area (RO), offered twice back to
 * back so that a record that wraps is contiguous. The kernel maps every page of a mapping at mmap, and each counts in
 * our RSS while mapped: so the data area is mapped a window at a time, from where reading starts (WINDOW_BYTES, or what
 * a spill takes), instead of whole. The ring's memory is the kernel's either way, like tracefs's buffers.
 */

const BUSY = 0x80000000;
export const DISCARDED = 0x40000000;
export const LENGTH_MASK = 0x3fffffff;
/** Every record starts with an 8-byte header (u32 length and flags, u32 page offset) and takes a multiple of 8 bytes. */
export const HEADER = 8;

/** The bytes a record takes, header and padding included, from its header's first u32. */
export const recordBytes = (hdr: number): number => ((hdr & LENGTH_MASK) + HEADER + 7) & ~7;
/**
 * How much of the data area a read maps at least: a queue's worth of plain records (512 of 160 bytes) fits, and at
 * 100k records/s one mapping serves ~15 ms of reads (a map and an unmap cost some 20 us). A whole 8 MB ring mapped
 * had put ~7 MB more in the peak RSS at 100k ioperm/s (bench --rss, one A/B).
 */
const WINDOW_BYTES = 256 << 10;

/** Called with a view over (part of) the data area and the record's offset and length in it. */
export type RecordHandler = (data: DataView, offset: number, length: number) => void;

interface Window {
  addr: bigint;
  length: number;
  /** The data-area offset of its first byte. */
  from: number;
  data: DataView;
  bytes: Uint8Array;
}

export class RingBuffer {
  readonly map: BpfMap;
  private consumer: { addr: bigint; buffer: ArrayBuffer } | undefined;
  private producer: { addr: bigint; buffer: ArrayBuffer } | undefined;
  private readonly consumerPos: BigUint64Array;
  private readonly producerPos: BigUint64Array;
  private readonly mask: number;
  private window: Window | undefined;

  /** `size` must be a power of two and a multiple of the page size. */
  constructor(name: string, readonly size: number) {
    if (size < PAGE_SIZE || (size & (size - 1)) !== 0) throw new Error(`ring buffer size ${size} must be a power of two >= ${PAGE_SIZE}`);
    this.map = new BpfMap({ name, type: MapType.ringbuf, keySize: 0, valueSize: 0, maxEntries: size });
    this.mask = size - 1;
    try {
      this.consumer = mmap(PAGE_SIZE, PROT_READ | PROT_WRITE, this.map.fd, 0, 'mapping the ring buffer consumer page');
      this.producer = mmap(PAGE_SIZE, PROT_READ, this.map.fd, PAGE_SIZE, 'mapping the ring buffer producer page');
    } catch (e) {
      this.close();
      throw e;
    }
    this.consumerPos = new BigUint64Array(this.consumer.buffer, 0, 1);
    this.producerPos = new BigUint64Array(this.producer.buffer, 0, 1);
  }

  get fd(): number {
    return this.map.fd;
  }

  /** Bytes written by the kernel and not yet consumed. */
  pending(): number {
    if (!this.producer) return 0;
    return Number(Atomics.load(this.producerPos, 0) - Atomics.load(this.consumerPos, 0));
  }

  /**
   * A mapping of the data area that holds [at, at + length) contiguously (`at` a data-area offset, `length` at most the
   * ring's size); the current one when it does, else a new one of at least WINDOW_BYTES.
   */
  private view(at: number, length: number): Window {
    const w = this.window;
    if (w && at >= w.from && at + length <= w.from + w.length) return w;
    if (w) munmap(w.addr, w.length);
    this.window = undefined;
    const firstPage = Math.floor(at / PAGE_SIZE);
    const pages = Math.min(Math.ceil((at - firstPage * PAGE_SIZE + Math.max(length, WINDOW_BYTES)) / PAGE_SIZE), (2 * this.size) / PAGE_SIZE - firstPage);
    const m = mmap(pages * PAGE_SIZE, PROT_READ, this.map.fd, (2 + firstPage) * PAGE_SIZE, 'mapping the ring buffer data');
    this.window = { addr: m.addr, length: pages * PAGE_SIZE, from: firstPage * PAGE_SIZE, data: new DataView(m.buffer), bytes: new Uint8Array(m.buffer) };
    return this.window;
  }

  /**
   * Hands every committed record to `handle`, then releases their space to the kernel.
   * Hot path: one BigInt read of each position per call, plain numbers per record.
   */
  consume(handle: RecordHandler, maxRecords = Infinity): number {
    if (!this.producer) return 0;
    const start = Atomics.load(this.consumerPos, 0);
    const avail = Number(Atomics.load(this.producerPos, 0) - start);
    if (avail <= 0) return 0;
    let off = 0;
    let n = 0;
    reading: while (off + HEADER <= avail && n < maxRecords) {
      const base = Number((start + BigInt(off)) & BigInt(this.mask));
      const w = this.view(base, Math.min(avail - off, WINDOW_BYTES));
      const data = w.data;
      const limit = off + Math.min(avail - off, w.from + w.length - base); // what this window holds
      let at = base - w.from;
      const before = off;
      while (off + HEADER <= limit && n < maxRecords) {
        const hdr = data.getUint32(at, true);
        if (hdr & BUSY) break reading;
        const step = recordBytes(hdr);
        if (off + step > limit) break; // the record runs past the window: the next one maps from it
        if (!(hdr & DISCARDED)) {
          handle(data, at + HEADER, hdr & LENGTH_MASK);
          n++;
        }
        off += step;
        at += step;
      }
      if (off === before) break; // a record longer than the rest of the data: not all written yet
    }
    if (off > 0) Atomics.store(this.consumerPos, 0, start + BigInt(off));
    return n;
  }

  /** Bytes the first unread record takes (header and padding included); 0 when there is none or it is still being written. */
  nextRecordBytes(): number {
    if (!this.producer) return 0;
    const start = Atomics.load(this.consumerPos, 0);
    if (Atomics.load(this.producerPos, 0) === start) return 0;
    const base = Number(start & BigInt(this.mask));
    const w = this.view(base, HEADER);
    const hdr = w.data.getUint32(base - w.from, true);
    return hdr & BUSY ? 0 : recordBytes(hdr);
  }

  /**
   * Copies committed records into `dst` at `at`, whole and in order, headers included, as many as fit before `end`, and
   * releases their space to the kernel: the backlog (../backlog.ts) serves them later. Returns bytes copied.
   */
  takeInto(dst: Uint8Array, at: number, end: number): number {
    if (!this.producer) return 0;
    const start = Atomics.load(this.consumerPos, 0);
    const avail = Number(Atomics.load(this.producerPos, 0) - start);
    if (avail <= 0) return 0;
    const base = Number(start & BigInt(this.mask));
    const room = Math.min(end - at, avail);
    const w = this.view(base, room);
    const data = w.data;
    const from = base - w.from;
    let off = 0;
    while (off + HEADER <= room) {
      const hdr = data.getUint32(from + off, true);
      if (hdr & BUSY) break;
      const step = recordBytes(hdr);
      if (off + step > room) break;
      off += step;
    }
    if (off === 0) return 0;
    dst.set(w.bytes.subarray(from, from + off), at);
    Atomics.store(this.consumerPos, 0, start + BigInt(off));
    return off;
  }

  close(): void {
    if (this.window) munmap(this.window.addr, this.window.length);
    if (this.consumer) munmap(this.consumer.addr, PAGE_SIZE);
    if (this.producer) munmap(this.producer.addr, PAGE_SIZE);
    this.window = undefined;
    this.consumer = undefined;
    this.producer = undefined;
    this.map.close();
  }
}
