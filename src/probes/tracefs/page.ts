/**
 * Decoder of one ring-buffer sub-buffer page as read from per_cpu/cpuN/trace_pipe_raw.
 * Layout (kernel/trace/ring_buffer.c): u64 timestamp, 8-byte commit word, then records.
 */

const HEADER_SIZE = 16;
const SIZE_MASK = 0x7ffffff; // low 27 bits of commit: bytes of data
const MISSED_EVENTS = 0x80000000; // events were lost before this page
const MISSED_STORED = 0x40000000; // the lost count is stored right after the data

const TYPE_PADDING = 29;
const TYPE_TIME_EXTEND = 30;
const TYPE_TIME_STAMP = 31;
const TWO_27 = 0x8000000;
const TWO_32 = 0x100000000;

export interface PageSummary {
  /** Bytes of record data on the page. */
  size: number;
  /** True when the kernel flagged that events were lost before this page. */
  missedEvents: boolean;
  /** How many were lost, when the kernel stored the count; undefined when only the flag is set. */
  missedCount: number | undefined;
  /** Records handed to onRecord. */
  records: number;
}

/** Called once per data record: the record's bytes are view[offset, offset+length); ts in trace-clock ns. */
export type RecordHandler = (view: DataView, offset: number, length: number, ts: number) => void;

function u64(view: DataView, offset: number): number {
  return view.getUint32(offset + 4, true) * TWO_32 + view.getUint32(offset, true);
}

/** Hot path: walks the page in place, no allocation per record. `base` is the page's offset inside view. */
export function decodePage(view: DataView, base: number, bytesRead: number, onRecord: RecordHandler): PageSummary {
  if (bytesRead < HEADER_SIZE) return { size: 0, missedEvents: false, missedCount: undefined, records: 0 };
  let ts = u64(view, base);
  const commitLow = view.getUint32(base + 8, true);
  const size = Math.min(commitLow & SIZE_MASK, bytesRead - HEADER_SIZE);
  const missedEvents = (commitLow & MISSED_EVENTS) !== 0;
  let missedCount: number | undefined;
  if ((commitLow & MISSED_STORED) !== 0 && HEADER_SIZE + size + 8 <= bytesRead) {
    missedCount = u64(view, base + HEADER_SIZE + size);
  }
  const end = base + HEADER_SIZE + size;
  let p = base + HEADER_SIZE;
  let records = 0;
  while (p + 4 <= end) {
    const h = view.getUint32(p, true);
    const typeLen = h & 31;
    const delta = h >>> 5;
    if (typeLen === TYPE_PADDING) {
      if (delta === 0) break; // null padding: the rest of the page is empty
      p += 4 + view.getUint32(p + 4, true); // a discarded record
      continue;
    }
    if (typeLen === TYPE_TIME_EXTEND) {
      ts += delta + view.getUint32(p + 4, true) * TWO_27;
      p += 8;
      continue;
    }
    if (typeLen === TYPE_TIME_STAMP) {
      ts = delta + view.getUint32(p + 4, true) * TWO_27; // absolute; bits 59-63 of the clock are not stored (years of uptime)
      p += 8;
      continue;
    }
    ts += delta;
    let dataOffset: number;
    let length: number;
    if (typeLen === 0) {
      length = view.getUint32(p + 4, true) - 4;
      dataOffset = p + 8;
    } else {
      length = typeLen * 4;
      dataOffset = p + 4;
    }
    if (length < 0 || dataOffset + length > end) break; // torn record: never read past the data
    onRecord(view, dataOffset, length, ts);
    records++;
    p = dataOffset + length;
  }
  return { size, missedEvents, missedCount, records };
}

/** Bytes of a page read from trace_pipe_raw that hold anything (header, records, a stored lost count): the rest is padding. */
export function usedBytes(buf: Buffer, at: number, bytesRead: number): number {
  if (bytesRead < HEADER_SIZE) return bytesRead;
  const commit = buf.readUInt32LE(at + 8);
  return Math.min(bytesRead, HEADER_SIZE + (commit & SIZE_MASK) + (commit & MISSED_STORED ? 8 : 0));
}
