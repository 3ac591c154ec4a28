import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { entityId, murmur32U32U64 } from '../../src/enrich/entity-id.js';

/** Textbook MurmurHash3_x86_32 over bytes, seed 0: the reference the fast version must equal. */
function murmur3(bytes: Uint8Array): number {
  let h = 0;
  const n = bytes.length - (bytes.length % 4);
  const mix = (k: number): number => {
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    return Math.imul(k, 0x1b873593);
  };
  for (let i = 0; i < n; i += 4) {
    h ^= mix(bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  for (let i = bytes.length - 1; i >= n; i--) k = (k << 8) | bytes[i];
  if (bytes.length > n) h ^= mix(k);
  h ^= bytes.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

describe('entity ids (Tracee: murmur3 of pid and start time)', () => {
  it('the reference is MurmurHash3_x86_32', () => {
    assert.equal(murmur3(new TextEncoder().encode('hello')), 0x248bfa47);
    assert.equal(murmur3(new Uint8Array(0)), 0);
  });

  it('the allocation-free version equals the reference on BE(u32) ++ BE(u64)', () => {
    for (const [a, b] of [[1, 0], [4242, 123_400_000_000], [0xffffffff, 2 ** 52 + 12345], [17286, 1_795_547_133_500_000_000 / 1000]] as const) {
      const bytes = new Uint8Array(12);
      const v = new DataView(bytes.buffer);
      v.setUint32(0, a);
      v.setBigUint64(4, BigInt(Math.floor(b)));
      assert.equal(murmur32U32U64(a, Math.floor(b)), murmur3(bytes), `${a}, ${b}`);
    }
  });

  it('rounds the start time to 100 ms, so /proc ticks and kernel ns agree', () => {
    assert.equal(entityId(1234, 5_123_456_789), entityId(1234, 5_190_000_000));
    assert.notEqual(entityId(1234, 5_123_456_789), entityId(1234, 5_223_456_789));
    assert.equal(entityId(0, 5), 0);
  });
});
