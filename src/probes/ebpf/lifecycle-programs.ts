import {
  add64Imm, call, exit, Helper, type Instruction, ja, jneImm, label, ldMapFd, ldxDW, mov64Imm, mov64Reg, R0, R1, R2, R3,
  R6, R7, R9, stW, stxDW, stxW,
} from './asm.js';
import type { KernelLayout } from './kernel-layout.js';
import { BPF_RB_NO_WAKEUP, countLoss, derefToR3, LossSlot, type MapFds, probeRead, SCRATCH } from './program-parts.js';
import { FILENAME_MAX, RecordKind, TaskRec } from './record.js';

/** Task lifecycle records (fork, exec, exit) for the process tree, into the same ring buffer as the syscalls. */

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
