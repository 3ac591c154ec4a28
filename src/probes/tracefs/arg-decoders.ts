import type { ArgType } from '../../catalog/types.js';
import type { ArgValue } from '../../model/event.js';

/** Reads one syscall argument from an 8-byte tracepoint slot (values are stored as unsigned long). */
export type ArgReader = (view: DataView, offset: number) => ArgValue;

const hex = (v: bigint): string => `0x${v.toString(16)}`;

const NATIVE: Record<ArgType, ArgReader> = {
  int32: (v, o) => v.getInt32(o, true),
  uint32: (v, o) => v.getUint32(o, true),
  int64: (v, o) => v.getBigInt64(o, true),
  uint64: (v, o) => v.getBigUint64(o, true),
  pointer: (v, o) => hex(v.getBigUint64(o, true)),
};

/** A 32-bit caller's argument: the kernel's compat entry uses only the low 32 bits of each register. */
const COMPAT: Record<ArgType, ArgReader> = {
  int32: (v, o) => v.getInt32(o, true),
  uint32: (v, o) => v.getUint32(o, true),
  int64: (v, o) => BigInt(v.getInt32(o, true)),
  uint64: (v, o) => BigInt(v.getUint32(o, true)),
  pointer: (v, o) => hex(BigInt(v.getUint32(o, true))),
};

export function argReader(type: ArgType, compat: boolean): ArgReader {
  return (compat ? COMPAT : NATIVE)[type];
}

/** A `long` return value as a number (exact for every errno and for user-space addresses). */
export function readLong(view: DataView, offset: number): number {
  return view.getInt32(offset + 4, true) * 0x100000000 + view.getUint32(offset, true);
}
