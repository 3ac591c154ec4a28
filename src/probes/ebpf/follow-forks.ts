import {
  add64Imm, call, exit, Helper, type Instruction, jeqImm, label, ldMapFd, ldxDW, mov64Imm, mov64Reg, R0, R1, R2, R3, R4, R6,
  R10, rsh64Imm, stW, stxW,
} from './asm.js';
import type { KernelLayout } from './kernel-layout.js';
import { BPF_ANY, probeRead, PTR_A, SCRATCH, TID_KEY } from './program-parts.js';

/**
 * followForks: the set of traced tgids lives in a hash map fed in the kernel. A new process whose parent is traced
 * is added at fork (sched_process_fork), and removed when its whole thread group exits, so a reused pid is not
 * traced by mistake. Unlike walking real_parent, this keeps daemonised (re-parented) children and has no depth limit;
 * children that existed before the probe started are seeded from /proc.
 */

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
