/**
 * Buffers that outputs are done with, for the next batches' bytes: a fresh buffer costs page faults and garbage
 * collection (measured on the dev VM: ~300 ns per KiB written into a fresh buffer, ~50 into a reused one).
 */
const pool: Buffer[] = [];
const POOL_BYTES = 8 << 20;
let pooled = 0;

/** A buffer of at least `min` bytes (and not much more): a reused one if the pool has it. */
export function fromPool(min: number): Buffer {
  for (let i = pool.length - 1; i >= 0; i--) {
    const b = pool[i];
    if (b.length >= min && b.length <= 2 * min + 65536) {
      pool.splice(i, 1);
      pooled -= b.length;
      return b;
    }
  }
  return Buffer.allocUnsafeSlow(Math.ceil(min / 65536) * 65536);
}

/** Gives back a buffer no one uses any more; beyond the pool's bound the garbage collector takes it. */
export function toPool(b: Buffer): void {
  if (b.length === 0 || pooled + b.length > POOL_BYTES) return;
  pool.push(b);
  pooled += b.length;
}
