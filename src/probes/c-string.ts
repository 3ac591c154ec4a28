const utf8 = new TextDecoder();

/**
 * A NUL-terminated string of at most `max` bytes, decoded as UTF-8 the same way on both backends (comm, exec paths:
 * bytes user space chose). Hot path: plain ASCII is built without a decoder; anything else goes through TextDecoder.
 */
export function cString(bytes: Uint8Array, start: number, max: number): string {
  const end = Math.min(start + max, bytes.length);
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
