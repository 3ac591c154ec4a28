import { bpf, NativeBuffer } from './sys.js';

/**
 * A tiny BTF object of our own ({int, unsigned char, unsigned char[N]}), loaded with BPF_BTF_LOAD: maps such as
 * task storage must name their key and value types in BTF.
 */

const BPF_BTF_LOAD = 18;
const KIND_INT = 1;
const KIND_ARRAY = 3;
const INT_SIGNED = 1;

export interface ValueBtf {
  fd: number;
  keyTypeId: number;
  valueTypeId: number;
}

/** Encodes the blob: int (id 1) for the key, unsigned char (id 2), unsigned char[valueSize] (id 3) for the value. */
export function valueBtfBlob(valueSize: number): Uint8Array {
  const strings = Buffer.from('\0int\0uchar\0');
  const types = Buffer.alloc(16 + 16 + 24);
  let o = 0;
  const u32 = (v: number): void => {
    types.writeUInt32LE(v >>> 0, o);
    o += 4;
  };
  // Each type: name offset, info (kind << 24), size or type, then its kind's data.
  for (const v of [1, KIND_INT << 24, 4, (INT_SIGNED << 24) | 32]) u32(v); // [1] int
  for (const v of [5, KIND_INT << 24, 1, 8]) u32(v); // [2] unsigned char
  for (const v of [0, KIND_ARRAY << 24, 0, 2, 1, valueSize]) u32(v); // [3] unsigned char[valueSize]: elem, index, count
  const header = Buffer.alloc(24);
  header.writeUInt16LE(0xeb9f, 0);
  header.writeUInt8(1, 2); // version
  header.writeUInt32LE(24, 4); // hdr_len
  header.writeUInt32LE(0, 8); // type_off
  header.writeUInt32LE(types.length, 12);
  header.writeUInt32LE(types.length, 16); // str_off
  header.writeUInt32LE(strings.length, 20);
  return Buffer.concat([header, types, strings]);
}

/** Loads the blob; the caller closes `fd` once the map that needs it exists (the map keeps its own reference). */
export function loadValueBtf(valueSize: number): ValueBtf {
  const blob = NativeBuffer.from(valueBtfBlob(valueSize));
  try {
    const attr = new Uint8Array(32);
    const v = new DataView(attr.buffer);
    v.setBigUint64(0, blob.addr, true);
    v.setUint32(16, blob.size, true);
    return { fd: bpf(BPF_BTF_LOAD, attr, 'loading BTF for a BPF map'), keyTypeId: 1, valueTypeId: 3 };
  } finally {
    blob.free();
  }
}
