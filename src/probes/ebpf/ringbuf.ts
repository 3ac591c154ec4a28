import { BpfMap, MapType } from './maps.js';
import { mmap, munmap, PAGE_SIZE, PROT_READ, PROT_WRITE } from './sys.js';

/**
 * Consumer side of a BPF ring buffer (BPF_MAP_TYPE_RINGBUF).
 * Layout: consumer page (RW) at offset 0; producer page and the data area (RO) at offset PAGE_SIZE. The kernel offers
 * the data area twice back to back so that a wrapping record is contiguous, but every mapped page counts in our RSS
 * from mmap on (the kernel maps them all at once): we map it once and copy the rare record that wraps.
 */

const BUSY = 0x80000000;
export const DISCARDED = 0x40000000;
export const LENGTH_MASK = 0x3fffffff;
/** Every record starts with an 8-byte header (u32 length and flags, u32 page offset) and takes a multiple of 8 bytes. */
export const HEADER = 8;

/** Called with the view over the data area and the record's offset and length in it. */
export type RecordHandler = (data: DataView, offset: number, length: number) => void;

export class RingBuffer {
  readonly map: BpfMap;
  private consumer: { addr: bigint; buffer: ArrayBuffer } | undefined;
  private producer: { addr: bigint; buffer: ArrayBuffer } | undefined;
  private readonly consumerPos: BigUint64Array;
  private readonly producerPos: BigUint64Array;
  private readonly data: DataView;
  private readonly bytes: Uint8Array;
  private readonly mask: number;
  private readonly producerLength: number;
  /** A record that wraps, made contiguous (grown to the longest seen). */
  private wrapped = new DataView(new ArrayBuffer(256));

  /** `size` must be a power of two and a multiple of the page size. */
  constructor(name: string, readonly size: number) {
    if (size < PAGE_SIZE || (size & (size - 1)) !== 0) throw new Error(`ring buffer size ${size} must be a power of two >= ${PAGE_SIZE}`);
    this.map = new BpfMap({ name, type: MapType.ringbuf, keySize: 0, valueSize: 0, maxEntries: size });
    this.mask = size - 1;
    this.producerLength = PAGE_SIZE + size;
    try {
      this.consumer = mmap(PAGE_SIZE, PROT_READ | PROT_WRITE, this.map.fd, 0, 'mapping the ring buffer consumer page');
      this.producer = mmap(this.producerLength, PROT_READ, this.map.fd, PAGE_SIZE, 'mapping the ring buffer data');
    } catch (e) {
      this.close();
      throw e;
    }
    this.consumerPos = new BigUint64Array(this.consumer.buffer, 0, 1);
    this.producerPos = new BigUint64Array(this.producer.buffer, 0, 1);
    this.data = new DataView(this.producer.buffer, PAGE_SIZE, size);
    this.bytes = new Uint8Array(this.producer.buffer, PAGE_SIZE, size);
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
   * Hands every committed record to `handle`, then releases their space to the kernel.
   * Hot path: one BigInt read of each position per call, plain numbers per record.
   */
  consume(handle: RecordHandler, maxRecords = Infinity): number {
    if (!this.producer) return 0;
    const start = Atomics.load(this.consumerPos, 0);
    const end = Atomics.load(this.producerPos, 0);
    const avail = Number(end - start);
    if (avail <= 0) return 0;
    const data = this.data;
    const size = this.size;
    const base = Number(start & BigInt(this.mask));
    let off = 0;
    let n = 0;
    while (off < avail && n < maxRecords) {
      const at = (base + off) & this.mask;
      const hdr = data.getUint32(at, true);
      if (hdr & BUSY) break;
      const len = hdr & LENGTH_MASK;
      if (!(hdr & DISCARDED)) {
        // the 8-byte header never wraps (records are 8-aligned, the size a power of two); the body may
        if (at + HEADER + len <= size) handle(data, at + HEADER, len);
        else handle(this.unwrap(at + HEADER, len), 0, len);
        n++;
      }
      off += (len + HEADER + 7) & ~7;
    }
    if (off > 0) Atomics.store(this.consumerPos, 0, start + BigInt(off));
    return n;
  }

  /** Bytes the first unread record takes (header and padding included); 0 when there is none or it is still being written. */
  nextRecordBytes(): number {
    if (!this.producer) return 0;
    const start = Atomics.load(this.consumerPos, 0);
    if (Atomics.load(this.producerPos, 0) === start) return 0;
    const hdr = this.data.getUint32(Number(start & BigInt(this.mask)), true);
    return hdr & BUSY ? 0 : ((hdr & LENGTH_MASK) + HEADER + 7) & ~7;
  }

  /**
   * Copies committed records into `dst` at `at`, whole and in order, headers included, as many as fit before `end`, and
   * releases their space to the kernel: the backlog (../backlog.ts) serves them later. Returns bytes copied.
   */
  takeInto(dst: Uint8Array, at: number, end: number): number {
    if (!this.producer) return 0;
    const start = Atomics.load(this.consumerPos, 0);
    const avail = Number(Atomics.load(this.producerPos, 0) - start);
    const data = this.data;
    const base = Number(start & BigInt(this.mask));
    const room = end - at;
    let off = 0;
    while (off < avail) {
      const hdr = data.getUint32((base + off) & this.mask, true);
      if (hdr & BUSY) break;
      const step = ((hdr & LENGTH_MASK) + HEADER + 7) & ~7;
      if (off + step > room) break;
      off += step;
    }
    if (off === 0) return 0;
    const first = Math.min(off, this.size - base);
    dst.set(this.bytes.subarray(base, base + first), at);
    if (first < off) dst.set(this.bytes.subarray(0, off - first), at + first);
    Atomics.store(this.consumerPos, 0, start + BigInt(off));
    return off;
  }

  /** A record body that starts at `from` and runs past the end of the data area (its rest is at the start), in one piece. */
  private unwrap(from: number, len: number): DataView {
    if (this.wrapped.byteLength < len) this.wrapped = new DataView(new ArrayBuffer(len));
    const out = new Uint8Array(this.wrapped.buffer);
    const src = this.bytes;
    const head = this.size - from; // `from` is at most the end of the area: its header was inside
    out.set(src.subarray(from, this.size), 0);
    out.set(src.subarray(0, len - head), head);
    return this.wrapped;
  }

  close(): void {
    if (this.consumer) munmap(this.consumer.addr, PAGE_SIZE);
    if (this.producer) munmap(this.producer.addr, this.producerLength);
    this.consumer = undefined;
    this.producer = undefined;
    this.map.close();
  }
}
