import {
  add64Imm, and64Imm, atomicAdd64, call, exit, Helper, type Instruction, ja, jeqImm, jmpImm, jmpReg, jneImm, label,
  ldMapFd, ldxDW, ldxW, mov64Imm, mov64Reg, mul64Imm, R0, R1, R2, R3, R4, R6, R7, R8, R9, R10, type Register,
  rsh64Imm, stW, stxDW, stxW, add64Reg,
} from './asm.js';
import { type KernelLayout, TS_COMPAT } from './kernel-layout.js';
import { Entry, FILENAME_MAX, Rec, RecordKind, TaskRec } from './record.js';

/**
 * The BPF programs, generated per run from the selected events and the kernel layout:
 * - enter: keep only selected syscalls and processes, save {time, id, compat, args} per thread;
 * - exit: look the entry up, write one ring-buffer record with the return value and the task context;
 * - fork/exit (followForks): keep the set of traced tgids up to date.
 */

/**
 * Which hook the syscall programs sit on; fixes how they read the id, the args and the return value.
 * 'btf': tp_btf on raw_syscalls sys_enter/sys_exit (pt_regs read with direct, BTF-checked loads);
 * 'raw': raw_tp on the same hooks (pt_regs read with bpf_probe_read_kernel; for kernels refusing tp_btf);
 * 'tracepoint': syscalls/sys_enter_X + sys_exit_X (cheapest for unwatched syscalls, never sees compat calls).
 */
export type HookKind = 'btf' | 'raw' | 'tracepoint';

export interface MapFds {
  inflight: number;
  ringbuf: number;
  losses: number;
  excluded?: number;
  tracked?: number;
}

/** Slots of the per-CPU loss counter map. */
export const LossSlot = { ringbufFull: 0, inflightFull: 1, taskRingbufFull: 2 } as const;
export const LOSS_SLOTS = 3;

/** Offsets of the syscall tracepoint record (syscalls/sys_enter_X, sys_exit_X), checked against tracefs at attach. */
export const TracepointRecord = { nr: 8, args: 16, ret: 16 } as const;

const BPF_ANY = 0;
const BPF_RB_NO_WAKEUP = 1;

// Stack slots (offsets from the frame pointer R10).
const SCRATCH = -8; // u32/u64 scratch for probe reads and map keys
const TID_KEY = -16; // u32 key of the in-flight map
const PTR_A = -24; // pointer temporaries for context reads
const LEVEL = -32; // pid namespace level of the task
const NS_PTR = -40; // the task's pid_namespace
const PARENT = -48; // real_parent task
const PLEVEL = -56; // parent's pid level
const PNS = -64; // parent upid ns
const ENTRY = -128; // in-flight entry being built (64 bytes)
const REGS = -304; // copy of pt_regs (up to 176 bytes), enter program only
const UPID = -144; // struct upid of the task (16 bytes), exit program only
const PUPID = -160; // struct upid of the parent

function probeRead(dstBase: Register, dstOff: number, size: number, src: Register, srcOff: number): Instruction[] {
  // bpf_probe_read_kernel(dst, size, src + srcOff); src must not be R1/R2 (they are overwritten first).
  const out: Instruction[] = [];
  if (src !== R3) out.push(mov64Reg(R3, src));
  if (srcOff !== 0) out.push(add64Imm(R3, srcOff));
  out.push(mov64Reg(R1, dstBase), add64Imm(R1, dstOff), mov64Imm(R2, size), call(Helper.probeReadKernel));
  return out;
}

/** Reads a pointer-sized value at (src + off) into the stack slot `slot` and leaves it in R3. */
function derefToR3(src: Register, off: number, slot: number): Instruction[] {
  return [...probeRead(R10, slot, 8, src, off), ldxDW(R3, R10, slot)];
}

function countLoss(lossesFd: number, slot: number, name: string): Instruction[] {
  return [
    stW(R10, SCRATCH, slot),
    ldMapFd(R1, lossesFd),
    mov64Reg(R2, R10),
    add64Imm(R2, SCRATCH),
    call(Helper.mapLookupElem),
    jeqImm(R0, 0, name),
    mov64Imm(R1, 1),
    atomicAdd64(R0, 0, R1),
    label(name),
  ];
}

function matchAny(reg: Register, ids: readonly number[], target: string): Instruction[] {
  return [...new Set(ids)].map((id) => jeqImm(reg, id, target));
}

export interface EnterOptions {
  hook: HookKind;
  nativeIds: number[];
  compatIds: number[];
  layout: KernelLayout;
  maps: MapFds;
  /** Tracepoint hook: how many args the record holds (the kernel refuses a program reading past it). */
  argCount?: number;
}

export function enterProgram(o: EnterOptions): Instruction[] {
  const { layout: L, maps } = o;
  const p: Instruction[] = [mov64Reg(R6, R1)];
  if (o.hook !== 'tracepoint') {
    // ctx = { struct pt_regs *regs; long id }: filter by id first, the one test every syscall pays.
    p.push(ldxDW(R7, R6, 8), ...matchAny(R7, [...o.nativeIds, ...o.compatIds], 'candidate'), ja('out'), label('candidate'));
    if (o.compatIds.length > 0) {
      // A compat (int $0x80) call has TS_COMPAT in current->thread_info.status; ids mean different syscalls per table.
      if (o.hook === 'btf') {
        p.push(call(Helper.getCurrentTaskBtf), ldxW(R8, R0, L.task.threadInfoStatus));
      } else {
        p.push(call(Helper.getCurrentTask), ...probeRead(R10, SCRATCH, 4, R0, L.task.threadInfoStatus), ldxW(R8, R10, SCRATCH));
      }
      p.push(
        and64Imm(R8, TS_COMPAT),
        rsh64Imm(R8, 1),
        jeqImm(R8, 0, 'native'),
        ...matchAny(R7, o.compatIds, 'selected'),
        ja('out'),
        label('native'),
      );
    } else {
      p.push(mov64Imm(R8, 0));
    }
    p.push(...matchAny(R7, o.nativeIds, 'selected'), ja('out'));
  } else {
    // Per-syscall tracepoint: attached only to selected syscalls, never compat.
    p.push(ldxW(R7, R6, TracepointRecord.nr), mov64Imm(R8, 0), ja('selected'));
  }
  p.push(label('selected'), call(Helper.getCurrentPidTgid), mov64Reg(R9, R0), rsh64Imm(R0, 32), stxW(R10, SCRATCH, R0));
  if (maps.excluded !== undefined) {
    p.push(ldMapFd(R1, maps.excluded), mov64Reg(R2, R10), add64Imm(R2, SCRATCH), call(Helper.mapLookupElem), jneImm(R0, 0, 'out'));
  }
  if (maps.tracked !== undefined) {
    p.push(ldMapFd(R1, maps.tracked), mov64Reg(R2, R10), add64Imm(R2, SCRATCH), call(Helper.mapLookupElem), jeqImm(R0, 0, 'out'));
  }
  p.push(
    call(Helper.ktimeGetNs),
    stxDW(R10, ENTRY + Entry.enterNs, R0),
    stxW(R10, ENTRY + Entry.id, R7),
    stxW(R10, ENTRY + Entry.flags, R8),
  );
  if (o.hook !== 'tracepoint') {
    // R2 = the registers: a BTF pointer we can load from (tp_btf), or a copy on the stack (raw_tp).
    p.push(ldxDW(R2, R6, 0));
    let base = 0;
    if (o.hook === 'raw') {
      p.push(...probeRead(R10, REGS, L.regsSize, R2, 0), mov64Reg(R2, R10));
      base = REGS;
    }
    const copy = (offs: number[]): Instruction[] =>
      offs.flatMap((off, i) => [ldxDW(R1, R2, base + off), stxDW(R10, ENTRY + Entry.args + 8 * i, R1)]);
    p.push(jneImm(R8, 0, 'compat_args'), ...copy(L.regsNative), ja('save'), label('compat_args'), ...copy(L.regsCompat));
  } else {
    for (let i = 0; i < 6; i++) {
      if (i < (o.argCount ?? 6)) p.push(ldxDW(R1, R6, TracepointRecord.args + 8 * i), stxDW(R10, ENTRY + Entry.args + 8 * i, R1));
      else p.push(stW(R10, ENTRY + Entry.args + 8 * i, 0), stW(R10, ENTRY + Entry.args + 8 * i + 4, 0));
    }
  }
  p.push(
    label('save'),
    stxW(R10, TID_KEY, R9),
    ldMapFd(R1, maps.inflight),
    mov64Reg(R2, R10),
    add64Imm(R2, TID_KEY),
    mov64Reg(R3, R10),
    add64Imm(R3, ENTRY),
    mov64Imm(R4, BPF_ANY),
    call(Helper.mapUpdateElem),
    jmpImm('jsge', R0, 0, 'out'),
    ...countLoss(maps.losses, LossSlot.inflightFull, 'counted'),
    label('out'),
    mov64Imm(R0, 0),
    exit(),
  );
  return p;
}

export interface ExitOptions {
  hook: HookKind;
  ids: number[];
  layout: KernelLayout;
  maps: MapFds;
}

export function exitProgram(o: ExitOptions): Instruction[] {
  const { layout: L, maps } = o;
  const p: Instruction[] = [mov64Reg(R6, R1)];
  if (o.hook !== 'tracepoint') {
    // ctx = { struct pt_regs *regs; long ret }; the id is regs->orig_ax. Every syscall pays this part.
    p.push(ldxDW(R3, R6, 0));
    if (o.hook === 'btf') p.push(ldxDW(R3, R3, L.regsOrigAx));
    else p.push(...derefToR3(R3, L.regsOrigAx, SCRATCH));
    p.push(...matchAny(R3, o.ids, 'candidate'), ja('out'), label('candidate'));
  }
  p.push(
    call(Helper.getCurrentPidTgid),
    stxW(R10, TID_KEY, R0),
    ldMapFd(R1, maps.inflight),
    mov64Reg(R2, R10),
    add64Imm(R2, TID_KEY),
    call(Helper.mapLookupElem),
    jeqImm(R0, 0, 'out'),
    mov64Reg(R8, R0),
    ldMapFd(R1, maps.ringbuf),
    mov64Imm(R2, Rec.size),
    mov64Imm(R3, 0),
    call(Helper.ringbufReserve),
    jneImm(R0, 0, 'reserved'),
    ...countLoss(maps.losses, LossSlot.ringbufFull, 'counted'),
    ja('release'),
    label('reserved'),
    mov64Reg(R9, R0),
    // From the in-flight entry: entry time, id, flags, args.
    ldxDW(R1, R8, Entry.enterNs),
    stxDW(R9, Rec.enterNs, R1),
    ldxW(R1, R8, Entry.id),
    stxW(R9, Rec.id, R1),
    ldxW(R1, R8, Entry.flags),
    stxW(R9, Rec.flags, R1),
  );
  for (let i = 0; i < 6; i++) p.push(ldxDW(R1, R8, Entry.args + 8 * i), stxDW(R9, Rec.args + 8 * i, R1));
  p.push(ldxDW(R1, R6, o.hook === 'tracepoint' ? TracepointRecord.ret : 8), stxDW(R9, Rec.ret, R1), stW(R9, Rec.kind, RecordKind.syscall), stW(R9, Rec.nsPpid, 0));
  p.push(...(o.hook === 'raw' ? contextByProbeRead(L) : contextByBtf(L)));
  p.push(
    mov64Reg(R1, R9),
    mov64Imm(R2, BPF_RB_NO_WAKEUP), // user space drains on a timer: skip the wake-up irq_work per record
    call(Helper.ringbufSubmit),
    label('release'),
    ldMapFd(R1, maps.inflight),
    mov64Reg(R2, R10),
    add64Imm(R2, TID_KEY),
    call(Helper.mapDeleteElem),
    label('out'),
    mov64Imm(R0, 0),
    exit(),
  );
  return p;
}

/** Context every hook reads with helpers: ids, credentials, cgroup, CPU, comm. Record at R9. */
function contextByHelpers(): Instruction[] {
  return [
    call(Helper.getCurrentPidTgid),
    stxW(R9, Rec.tid, R0),
    rsh64Imm(R0, 32),
    stxW(R9, Rec.tgid, R0),
    call(Helper.getCurrentUidGid),
    stxW(R9, Rec.uid, R0),
    rsh64Imm(R0, 32),
    stxW(R9, Rec.gid, R0),
    call(Helper.getCurrentCgroupId),
    stxDW(R9, Rec.cgroupId, R0),
    call(Helper.getSmpProcessorId),
    stxW(R9, Rec.cpu, R0),
    mov64Reg(R1, R9),
    add64Imm(R1, Rec.comm),
    mov64Imm(R2, 16),
    call(Helper.getCurrentComm),
  ];
}

/**
 * Task context through BTF pointers (bpf_get_current_task_btf): constant-offset loads are plain loads the JIT
 * guards against faults, ~10x cheaper than a helper call; only the upid at a variable index needs probe reads.
 * Uses R6 (ctx no longer needed), R7, R8 (the in-flight entry, already copied).
 */
function contextByBtf(L: KernelLayout): Instruction[] {
  const upidAt = (pidReg: Register, dstSlot: number): Instruction[] => [
    // probe_read(dst, sizeof(struct upid), pid->numbers + level)
    ldxW(R1, R10, LEVEL),
    mul64Imm(R1, L.upidSize),
    mov64Reg(R3, pidReg),
    add64Reg(R3, R1),
    ...probeRead(R10, dstSlot, L.upidSize, R3, L.pidNumbers),
  ];
  return [
    ...contextByHelpers(),
    call(Helper.getCurrentTaskBtf),
    mov64Reg(R7, R0),
    ldxDW(R1, R7, L.task.startTime),
    stxDW(R9, Rec.startTime, R1),
    // Parent: host tgid.
    ldxDW(R6, R7, L.task.realParent),
    ldxW(R1, R6, L.task.tgid),
    stxW(R9, Rec.ppid, R1),
    // Mount namespace: task->nsproxy->mnt_ns->ns.inum.
    ldxDW(R3, R7, L.task.nsproxy),
    ldxDW(R3, R3, L.nsproxyMntNs),
    ldxW(R1, R3, L.mntNsInum),
    stxW(R9, Rec.mntns, R1),
    // PID namespace of the task: thread_pid->numbers[thread_pid->level] = { nr (tid in ns), ns }.
    ldxDW(R8, R7, L.task.threadPid),
    ldxW(R1, R8, L.pidLevel),
    stxW(R10, LEVEL, R1),
    ...upidAt(R8, UPID),
    ldxW(R1, R10, UPID + L.upidNr),
    stxW(R9, Rec.nsTid, R1),
    ldxDW(R3, R10, UPID + L.upidNs),
    stxDW(R10, NS_PTR, R3),
    ...probeRead(R9, Rec.pidns, 4, R3, L.pidNsInum),
    // Tgid in that namespace: group_leader->thread_pid at the same level.
    ldxDW(R3, R7, L.task.groupLeader),
    ldxDW(R8, R3, L.task.threadPid),
    ...upidAt(R8, UPID),
    ldxW(R1, R10, UPID + L.upidNr),
    stxW(R9, Rec.nsPid, R1),
    // Parent's tgid in the task's namespace, 0 if the parent lives outside it (as pid_nr_ns does).
    ldxDW(R3, R6, L.task.groupLeader),
    ldxDW(R8, R3, L.task.threadPid),
    ldxW(R1, R8, L.pidLevel),
    ldxW(R2, R10, LEVEL),
    jmpReg('jlt', R1, R2, 'ctx_done'),
    ...upidAt(R8, PUPID),
    ldxDW(R1, R10, PUPID + L.upidNs),
    ldxDW(R2, R10, NS_PTR),
    jmpReg('jne', R1, R2, 'ctx_done'),
    ldxW(R1, R10, PUPID + L.upidNr),
    stxW(R9, Rec.nsPpid, R1),
    label('ctx_done'),
  ];
}

/** Task context for the raw_tp fallback: R7 holds current as a plain address, every field read with probe_read_kernel. */
function contextByProbeRead(L: KernelLayout): Instruction[] {
  const upidOf = (pidSlotReg: Register): Instruction[] => [
    // R3 = pid + numbers + level * sizeof(struct upid)
    ldxW(R1, R10, LEVEL),
    mul64Imm(R1, L.upidSize),
    mov64Reg(R3, pidSlotReg),
    add64Imm(R3, L.pidNumbers),
    add64Reg(R3, R1),
  ];
  return [
    ...contextByHelpers(),
    call(Helper.getCurrentTask),
    mov64Reg(R7, R0),
    ...probeRead(R9, Rec.startTime, 8, R7, L.task.startTime),
    // Parent: host tgid.
    ...derefToR3(R7, L.task.realParent, PARENT),
    ...probeRead(R9, Rec.ppid, 4, R3, L.task.tgid),
    // Mount namespace: task->nsproxy->mnt_ns->ns.inum.
    ...derefToR3(R7, L.task.nsproxy, PTR_A),
    ...derefToR3(R3, L.nsproxyMntNs, PTR_A),
    ...probeRead(R9, Rec.mntns, 4, R3, L.mntNsInum),
    // PID namespace of the task: thread_pid->numbers[thread_pid->level] = { nr (tid in ns), ns }.
    ...derefToR3(R7, L.task.threadPid, PTR_A),
    ...probeRead(R10, LEVEL, 4, R3, L.pidLevel),
    ldxDW(R4, R10, PTR_A),
    ...upidOf(R4),
    mov64Reg(R8, R3), // R8 (the in-flight entry) is no longer needed
    ...probeRead(R9, Rec.nsTid, 4, R8, L.upidNr),
    ...derefToR3(R8, L.upidNs, NS_PTR),
    ...probeRead(R9, Rec.pidns, 4, R3, L.pidNsInum),
    // Tgid in that namespace: group_leader->thread_pid at the same level.
    ...derefToR3(R7, L.task.groupLeader, PTR_A),
    ...derefToR3(R3, L.task.threadPid, PTR_A),
    mov64Reg(R4, R3),
    ...upidOf(R4),
    ...probeRead(R9, Rec.nsPid, 4, R3, L.upidNr),
    // Parent's tgid in the task's namespace, 0 if the parent lives outside it (as pid_nr_ns does).
    ldxDW(R3, R10, PARENT),
    ...derefToR3(R3, L.task.groupLeader, PTR_A),
    ...derefToR3(R3, L.task.threadPid, PTR_A),
    ...probeRead(R10, PLEVEL, 4, R3, L.pidLevel),
    ldxW(R1, R10, PLEVEL),
    ldxW(R2, R10, LEVEL),
    jmpReg('jlt', R1, R2, 'ctx_done'),
    ldxDW(R4, R10, PTR_A),
    ...upidOf(R4),
    mov64Reg(R8, R3),
    ...derefToR3(R8, L.upidNs, PNS),
    ldxDW(R1, R10, NS_PTR),
    jmpReg('jne', R3, R1, 'ctx_done'),
    ...probeRead(R9, Rec.nsPpid, 4, R8, L.upidNr),
    label('ctx_done'),
  ];
}

/** sched_process_fork (raw tracepoint: parent, child): a child of a traced process is traced too. */
export function forkProgram(layout: KernelLayout, trackedFd: number): Instruction[] {
  return [
    mov64Reg(R6, R1),
    call(Helper.getCurrentPidTgid),
    rsh64Imm(R0, 32),
    stxW(R10, SCRATCH, R0),
    ldMapFd(R1, trackedFd),
    mov64Reg(R2, R10),
    add64Imm(R2, SCRATCH),
    call(Helper.mapLookupElem),
    jeqImm(R0, 0, 'out'),
    ldxDW(R3, R6, 8),
    ...probeRead(R10, TID_KEY, 4, R3, layout.task.tgid),
    stW(R10, PTR_A, 1),
    ldMapFd(R1, trackedFd),
    mov64Reg(R2, R10),
    add64Imm(R2, TID_KEY),
    mov64Reg(R3, R10),
    add64Imm(R3, PTR_A),
    mov64Imm(R4, BPF_ANY),
    call(Helper.mapUpdateElem),
    label('out'),
    mov64Imm(R0, 0),
    exit(),
  ];
}

/** sched_process_exit (raw tracepoint: task, group_dead): forget a traced tgid once its whole group is gone. */
export function processExitProgram(layout: KernelLayout, trackedFd: number): Instruction[] {
  return [
    mov64Reg(R6, R1),
    ldxDW(R1, R6, 8),
    jeqImm(R1, 0, 'out'),
    ldxDW(R3, R6, 0),
    ...probeRead(R10, SCRATCH, 4, R3, layout.task.tgid),
    ldMapFd(R1, trackedFd),
    mov64Reg(R2, R10),
    add64Imm(R2, SCRATCH),
    call(Helper.mapDeleteElem),
    label('out'),
    mov64Imm(R0, 0),
    exit(),
  ];
}

/** Reserves `size` bytes in the ring buffer into R9 and stamps kind and time; on failure counts the loss and leaves. */
function reserveTask(maps: MapFds, kind: number, size: number): Instruction[] {
  return [
    ldMapFd(R1, maps.ringbuf),
    mov64Imm(R2, size),
    mov64Imm(R3, 0),
    call(Helper.ringbufReserve),
    jneImm(R0, 0, 'reserved'),
    ...countLoss(maps.losses, LossSlot.taskRingbufFull, 'counted'),
    ja('out'),
    label('reserved'),
    mov64Reg(R9, R0),
    stW(R9, TaskRec.kind, kind),
    stW(R9, TaskRec.groupDead, 0),
    call(Helper.ktimeGetNs),
    stxDW(R9, TaskRec.monoNs, R0),
  ];
}

const submitAndOut = (): Instruction[] => [
  mov64Reg(R1, R9),
  mov64Imm(R2, BPF_RB_NO_WAKEUP),
  call(Helper.ringbufSubmit),
  label('out'),
  mov64Imm(R0, 0),
  exit(),
];

/** task_newtask (raw tracepoint: task, clone_flags), in the parent: one fork record. */
export function taskNewProgram(L: KernelLayout, maps: MapFds): Instruction[] {
  return [
    mov64Reg(R6, R1),
    ...reserveTask(maps, RecordKind.fork, TaskRec.forkSize),
    ldxDW(R7, R6, 0),
    ...probeRead(R9, TaskRec.tid, 4, R7, L.task.pid),
    call(Helper.getCurrentPidTgid),
    stxW(R9, TaskRec.other, R0),
    ldxDW(R1, R6, 8),
    stxDW(R9, TaskRec.cloneFlags, R1),
    ...probeRead(R9, TaskRec.comm, 16, R7, L.task.comm),
    ...submitAndOut(),
  ];
}

/** sched_process_exec (raw tracepoint: task, old_pid, bprm): one exec record with the file name. */
export function execProgram(L: KernelLayout, maps: MapFds): Instruction[] {
  return [
    mov64Reg(R6, R1),
    ...reserveTask(maps, RecordKind.exec, TaskRec.execSize),
    ldxDW(R7, R6, 0),
    ...probeRead(R9, TaskRec.tid, 4, R7, L.task.pid),
    ldxDW(R1, R6, 8),
    stxW(R9, TaskRec.other, R1),
    ldxDW(R3, R6, 16),
    ...derefToR3(R3, L.binprmFilename, SCRATCH),
    mov64Reg(R1, R9),
    add64Imm(R1, TaskRec.filename),
    mov64Imm(R2, FILENAME_MAX),
    call(Helper.probeReadKernelStr),
    ...submitAndOut(),
  ];
}

/** sched_process_exit (raw tracepoint: task, group_dead): one exit record. */
export function taskExitProgram(L: KernelLayout, maps: MapFds): Instruction[] {
  return [
    mov64Reg(R6, R1),
    ...reserveTask(maps, RecordKind.exit, TaskRec.exitSize),
    ldxDW(R7, R6, 0),
    ...probeRead(R9, TaskRec.tid, 4, R7, L.task.pid),
    ...(L.exitHasGroupDead ? [ldxDW(R1, R6, 8), stxW(R9, TaskRec.groupDead, R1)] : []),
    stW(R9, TaskRec.other, 0),
    ...submitAndOut(),
  ];
}
