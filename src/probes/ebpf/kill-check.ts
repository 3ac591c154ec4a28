import type { ProbeEnforcement } from '../types.js';
import {
  call, Helper, type Instruction, ja, jeqImm, jmp32Imm, jmpImm, jmpReg, label, ldImm64, ldxDW, ldxW,
  mov64Imm, mov64Reg, R0, R1, R2, R3, R4, R9, R10, rsh64Imm, stW, stxDW, stxW,
} from './asm.js';
import { conditionCheck, syscallIs } from './conditions.js';
import type { KernelLayout } from './kernel-layout.js';
import { derefToR3, KILL, probeRead, PTR_A, SCRATCH } from './program-parts.js';
import { FLAG_KILLED, KILL_RULE_SHIFT } from './record.js';
import type { HookKind } from './syscall-programs.js';

/**
 * Kill rules at syscall entry: the first rule whose syscall id and conditions all hold sends SIGKILL to the calling
 * process (bpf_send_signal), unless the caller is exempt (pid 1, a kernel thread, an allow-listed executable; Watchpost
 * itself never gets here: excludePids are dropped before). The syscall still runs to completion; the process dies on
 * its way back to user space, before it runs another instruction. The rule's index lands in the entry's flags, so
 * the record tells user space what was done.
 */

/** Offsets the exemptions read (task flags, the executable's inode), from BTF. */
export interface EnforceLayout {
  taskFlags: number;
  taskMm: number;
  mmExeFile: number;
  fileInode: number;
  inodeIno: number;
  inodeSb: number;
  sbDev: number;
}

/** task->flags bit of a kernel thread (include/linux/sched.h). */
export const PF_KTHREAD = 0x00200000;
export const SIGKILL = 9;
/** Kill rules the entry flags can name (8 bits, 0 = none). */
export const MAX_KILL_RULES = 255;

/**
 * The kill check, for the enter program after the pid filters: leaves the flags bits at KILL (0 when nothing matched
 * or the caller is exempt) and jumps to `matched` after a match; falls through otherwise.
 * Expects R6 = ctx, R7 = syscall id, R8 = compat (0/1), R9 = pid_tgid; keeps R6-R9, clobbers R0-R5.
 * `onlyNr`: the program serves one syscall (a per-syscall tracepoint): other rules are left out, as the verifier
 * would refuse their argument reads past that record.
 */
export function killCheck(e: ProbeEnforcement, hook: HookKind, L: KernelLayout, E: EnforceLayout, matched: string, onlyNr?: number): Instruction[] {
  if (e.rules.length > MAX_KILL_RULES) throw new Error(`at most ${MAX_KILL_RULES} kill rules`);
  const p: Instruction[] = [stW(R10, KILL, 0)];
  const mine = e.rules.map((r, i) => [r, i] as const).filter(([r]) => onlyNr === undefined || r.nr === onlyNr);
  if (mine.length === 0) return p; // the verifier refuses unreachable code
  mine.forEach(([r, i]) => {
    const next = `kill_next${i}`;
    p.push(...syscallIs(r.nr, r.compatNr, `kill${i}`, next));
    r.conditions.forEach((c, j) => p.push(...conditionCheck(c, hook, L, `kill${i}_${j}`, next)));
    p.push(mov64Imm(R1, ((i + 1) << KILL_RULE_SHIFT) | (e.armed ? FLAG_KILLED : 0)), stxW(R10, KILL, R1), ja('kill_exempt'), label(next));
  });
  p.push(ja('kill_none'), label('kill_exempt'), ...exemptions(e, hook, E, 'kill_spare'));
  if (e.armed) p.push(mov64Imm(R1, SIGKILL), call(Helper.sendSignal));
  p.push(ja(matched), label('kill_spare'), stW(R10, KILL, 0), label('kill_none'));
  return p;
}

/** Jumps to `exempt` for pid 1, a kernel thread or an allow-listed executable. */
function exemptions(e: ProbeEnforcement, hook: HookKind, E: EnforceLayout, exempt: string): Instruction[] {
  const p: Instruction[] = [mov64Reg(R1, R9), rsh64Imm(R1, 32), jeqImm(R1, 1, exempt)];
  const btf = hook !== 'raw';
  if (btf) p.push(call(Helper.getCurrentTaskBtf), ldxW(R1, R0, E.taskFlags));
  else p.push(call(Helper.getCurrentTask), ...probeRead(R10, SCRATCH, 4, R0, E.taskFlags), ldxW(R1, R10, SCRATCH));
  p.push(jmpImm('jset', R1, PF_KTHREAD, exempt));
  if (e.allowExecutables.length === 0) return p;
  // task->mm->exe_file->f_inode: i_ino into R2, i_sb->s_dev into R3 (a NULL on the way matches nothing).
  if (btf) {
    p.push(
      call(Helper.getCurrentTaskBtf),
      ldxDW(R1, R0, E.taskMm),
      jeqImm(R1, 0, 'kill_exe_done'),
      ldxDW(R1, R1, E.mmExeFile),
      jeqImm(R1, 0, 'kill_exe_done'),
      ldxDW(R1, R1, E.fileInode),
      jeqImm(R1, 0, 'kill_exe_done'),
      ldxDW(R2, R1, E.inodeIno),
      ldxDW(R3, R1, E.inodeSb),
      ldxW(R3, R3, E.sbDev),
    );
  } else {
    p.push(
      call(Helper.getCurrentTask),
      ...derefToR3(R0, E.taskMm, SCRATCH),
      ...derefToR3(R3, E.mmExeFile, SCRATCH),
      ...derefToR3(R3, E.fileInode, SCRATCH),
      stxDW(R10, PTR_A, R3),
      ...probeRead(R10, SCRATCH, 8, R3, E.inodeIno),
      ldxDW(R3, R10, PTR_A),
      ...derefToR3(R3, E.inodeSb, PTR_A),
      ...probeRead(R10, PTR_A, 4, R3, E.sbDev),
      ldxDW(R2, R10, SCRATCH),
      ldxW(R3, R10, PTR_A),
    );
  }
  e.allowExecutables.forEach((x, k) => {
    p.push(ldImm64(R4, x.ino), jmpReg('jne', R2, R4, `kill_exe_next${k}`), jmp32Imm('jeq', R3, x.dev | 0, exempt), label(`kill_exe_next${k}`));
  });
  p.push(label('kill_exe_done'));
  return p;
}
