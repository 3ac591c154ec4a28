/**
 * Stable ids for a process or thread across pid reuse, as Tracee computes them: MurmurHash3 (x86, 32-bit, seed 0)
 * of the id (big-endian u32) and the start time in ns since boot rounded down to 100 ms (big-endian u64), so a
 * start time read from /proc (10 ms ticks) and one read in the kernel (ns) give the same id.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function mixBlock(h: number, k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** MurmurHash3_x86_32 of the 12 bytes BE(u32 a) ++ BE(u64 b), read as little-endian 32-bit blocks. */
export function murmur32U32U64(a: number, b: bigint): number {
  const bytes = new Uint8Array(12);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, a >>> 0, false);
  view.setBigUint64(4, b, false);
  let h = 0;
  for (let i = 0; i < 12; i += 4) h = mixBlock(h, view.getUint32(i, true));
  h ^= 12;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const ROUND_NS = 100_000_000n;

export function entityId(id: number, startTimeNs: number): number {
  if (!id || !startTimeNs) return 0;
  const t = BigInt(Math.floor(startTimeNs));
  return murmur32U32U64(id, (t / ROUND_NS) * ROUND_NS);
}
