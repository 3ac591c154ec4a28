/**
 * Stable ids for a process or thread across pid reuse, as Tracee computes them: MurmurHash3 (x86, 32-bit, seed 0)
 * of the id (big-endian u32) and the start time in ns since boot rounded down to 100 ms (big-endian u64), so a
 * start time read from /proc (10 ms ticks) and one read in the kernel (ns) give the same id.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
const TWO_32 = 0x100000000;

function mixBlock(h: number, k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function bswap32(x: number): number {
  return ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);
}

/**
 * MurmurHash3_x86_32 of the 12 bytes BE(u32 a) ++ BE(u64 b), read as little-endian 32-bit blocks.
 * Hot path (three per event): plain integer math, no allocation; b must be below 2^53.
 */
export function murmur32U32U64(a: number, b: number): number {
  let h = 0;
  h = mixBlock(h, bswap32(a >>> 0));
  h = mixBlock(h, bswap32(Math.floor(b / TWO_32) >>> 0));
  h = mixBlock(h, bswap32(b % TWO_32 >>> 0));
  h ^= 12;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const ROUND_NS = 100_000_000;

export function entityId(id: number, startTimeNs: number): number {
  if (!id || !startTimeNs) return 0;
  return murmur32U32U64(id, Math.floor(startTimeNs / ROUND_NS) * ROUND_NS);
}
