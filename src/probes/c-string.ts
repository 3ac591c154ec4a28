const utf8 = new TextDecoder();

/** Short strings (comm: 16 bytes) seen lately, by a hash of their bytes: most records repeat their thread's comm. */
const SHORT = 16;
const SLOTS = 1024;
const slotBytes = new Uint8Array(SLOTS * SHORT);
const slotLength = new Int16Array(SLOTS).fill(-1);
const slotText: string[] = new Array<string>(SLOTS).fill('');

/**
 * A NUL-terminated string of at most `max` bytes, decoded as UTF-8 the same way on both backends (comm, exec paths:
 * bytes user space chose). Hot path (a comm per record): a string of at most 16 bytes seen lately is returned from a
 * small cache without allocating; plain ASCII is built without a decoder; anything else goes through TextDecoder.
 */
export function cString(bytes: Uint8Array, start: number, max: number): string {
  const end = Math.min(start + max, bytes.length);
  if (max > SHORT) return decode(bytes, start, end);
  let h = 0;
  let i = start;
  for (; i < end; i++) {
    const c = bytes[i];
    if (c === 0) break;
    h = (Math.imul(h, 31) + c) | 0;
  }
  const length = i - start;
  const slot = (h ^ (h >>> 12)) & (SLOTS - 1);
  const at = slot * SHORT;
  if (slotLength[slot] === length) {
    let j = 0;
    while (j < length && slotBytes[at + j] === bytes[start + j]) j++;
    if (j === length) return slotText[slot];
  }
  const text = decode(bytes, start, i);
  slotBytes.set(bytes.subarray(start, i), at);
  slotLength[slot] = length;
  slotText[slot] = text;
  return text;
}

function decode(bytes: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) {
    const c = bytes[i];
    if (c === 0) return s;
    if (c >= 0x80) {
      let j = i;
      while (j < end && bytes[j] !== 0) j++;
      return utf8.decode(bytes.subarray(start, j));
    }
    s += String.fromCharCode(c);
  }
  return s;
}
