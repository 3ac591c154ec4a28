import {
  add64Imm, add64Reg, atomicAdd64, call, Helper, type Instruction, jeqImm, label, ldMapFd, ldxDW, mov64Imm, mov64Reg, mul64Imm,
  R0, R1, R2, R3, R10, type Register, stW, stxW,
} from './asm.js';

/** Pieces every generated program shares: map fds, stack slots, probe reads, loss counting. */

export interface MapFds {
  inflight: number;
  /** Where in-flight entries live: the task's BPF storage (cheap, needs task BTF pointers) or a hash by tid. */
  inflightKind: 'task' | 'hash';
  ringbuf: number;
  losses: number;
  /** Per-CPU array of lost syscalls by id (eventLossKey). */
  eventLosses: number;
  /** Per-CPU array, as eventLosses, of syscalls the kernelScope and argument filters dropped on purpose. */
  filtered?: number;
  excluded?: number;
  tracked?: number;
  /** Per-CPU array of one entry: where a hash-kept entry too big for the stack (string slots) is built. */
  entryScratch?: number;
  /** Array by syscall id of ID_NATIVE | ID_COMPAT bits, used instead of compares when many ids are selected. */
  ids?: number;
}

/** Slots of the per-CPU loss counter map. */
export const LossSlot = { ringbufFull: 0, inflightFull: 1, taskRingbufFull: 2 } as const;
export const LOSS_SLOTS = 3;

/** Syscall ids are below this in both the x86_64 and the i386 table: the id map's size, the loss counters' stride. */
export const ID_MAP_SIZE = 1024;
/** Slot of a syscall in the per-event loss array: its id, after the native ids for a compat one. */
export const eventLossKey = (id: number, compat: boolean): number => id + (compat ? ID_MAP_SIZE : 0);
export const EVENT_LOSS_SLOTS = 2 * ID_MAP_SIZE;

export const BPF_ANY = 0;
export const BPF_RB_NO_WAKEUP = 1;
export const BPF_LOCAL_STORAGE_GET_F_CREATE = 1;

// Stack slots (offsets from the frame pointer R10).
export const SCRATCH = -8; // u32/u64 scratch for probe reads and map keys
export const TID_KEY = -16; // u32 key of the in-flight map
export const PTR_A = -24; // pointer temporaries for context reads
export const LEVEL = -32; // pid namespace level of the task
export const NS_PTR = -40; // the task's pid_namespace
export const PARENT = -48; // real_parent task
export const PLEVEL = -56; // parent's pid level
export const PNS = -64; // parent upid ns
export const ENTRY = -128; // in-flight entry being built (Entry.size: 88 bytes, up to -41), enter program only
export const REGS = -304; // copy of pt_regs (up to 176 bytes), enter program only
export const UPID = -144; // struct upid of the task (16 bytes), exit program only
export const PUPID = -160; // struct upid of the parent
export const SCOPE_KEY = -320; // comm key of the kernelScope check (16 bytes), enter program only
export const KILL = -328; // u32 kill bits for the entry's flags (kill rules), enter program only

/** bpf_probe_read_kernel into a record or stack slot; clobbers R0-R5. */
export function probeRead(dstBase: Register, dstOff: number, size: number, src: Register, srcOff: number): Instruction[] {
  // dst = dstBase + dstOff, src = src + srcOff; dstBase must not be R3 (set first).
  const out: Instruction[] = [];
  if (src !== R3) out.push(mov64Reg(R3, src));
  if (srcOff !== 0) out.push(add64Imm(R3, srcOff));
  out.push(mov64Reg(R1, dstBase), add64Imm(R1, dstOff), mov64Imm(R2, size), call(Helper.probeReadKernel));
  return out;
}

/** Reads a pointer-sized value at (src + off) into the stack slot `slot` and leaves it in R3. */
export function derefToR3(src: Register, off: number, slot: number): Instruction[] {
  return [...probeRead(R10, slot, 8, src, off), ldxDW(R3, R10, slot)];
}

export function countLoss(lossesFd: number, slot: number, name: string): Instruction[] {
  return [stW(R10, SCRATCH, slot), ...countAt(lossesFd, name)];
}

/** Adds 1 to the per-CPU counter whose u32 key is at SCRATCH. */
function countAt(fd: number, name: string): Instruction[] {
  return [
    ldMapFd(R1, fd),
    mov64Reg(R2, R10),
    add64Imm(R2, SCRATCH),
    call(Helper.mapLookupElem),
    jeqImm(R0, 0, name),
    mov64Imm(R1, 1),
    atomicAdd64(R0, 0, R1),
    label(name),
  ];
}

/** Counts one lost syscall under eventLossKey(id, compat): registers `id` and `compat` (0 or 1), neither R0-R2. */
export function countEventLoss(fd: number, id: Register, compat: Register, name: string): Instruction[] {
  return [
    mov64Reg(R1, compat),
    mul64Imm(R1, ID_MAP_SIZE),
    add64Reg(R1, id),
    stxW(R10, SCRATCH, R1),
    ...countAt(fd, name),
  ];
}

export function matchAny(reg: Register, ids: readonly number[], target: string): Instruction[] {
  return [...new Set(ids)].map((id) => jeqImm(reg, id, target));
}
