import type { ArgDefinition, ArgType } from '../catalog/types.js';
import type { ArgValue } from '../model/event.js';

/** Reads one syscall argument from its 8-byte slot (tracepoint records and BPF records store each as unsigned long). */
export type ArgReader = (view: DataView, offset: number) => ArgValue;

const hex = (v: bigint): string => `0x${v.toString(16)}`;

const FULL: Record<ArgType, ArgReader> = {
  int32: (v, o) => v.getInt32(o, true),
  uint32: (v, o) => v.getUint32(o, true),
  int64: (v, o) => v.getBigInt64(o, true),
  uint64: (v, o) => v.getBigUint64(o, true),
  pointer: (v, o) => hex(v.getBigUint64(o, true)),
};

/** Only the low 32 bits count: a 32-bit caller's registers, or a 64-bit slot the kernel reads as an int (ioctl's cmd). */
const LOW32: Record<ArgType, ArgReader> = {
  int32: (v, o) => v.getInt32(o, true),
  uint32: (v, o) => v.getUint32(o, true),
  int64: (v, o) => BigInt(v.getInt32(o, true)),
  uint64: (v, o) => BigInt(v.getUint32(o, true)),
  pointer: (v, o) => hex(BigInt(v.getUint32(o, true))),
};

const INT32_C = /^(const )?(unsigned int|int|unsigned|u32|__u32|s32|__s32|pid_t|uid_t|gid_t|umode_t|key_serial_t|clockid_t|timer_t|mqd_t)$/;

/** Does the kernel use only 32 bits of this argument (its C type is 32 bits wide)? */
export function kernelReads32(def: ArgDefinition): boolean {
  return INT32_C.test(def.kernelType.trim());
}

/** The reader for an argument: what the kernel actually used, so a caller cannot hide a value in unused upper bits. */
export function argReader(def: ArgDefinition, compat: boolean): ArgReader {
  return (compat || kernelReads32(def) ? LOW32 : FULL)[def.type];
}

/** A `long` return value as a number (exact for every errno and for user-space addresses). */
export function readLong(view: DataView, offset: number): number {
  return view.getInt32(offset + 4, true) * 0x100000000 + view.getUint32(offset, true);
}
