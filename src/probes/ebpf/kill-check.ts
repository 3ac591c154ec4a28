import type { CompareOp, KernelCondition, ProbeEnforcement } from '../types.js';
import {
  call, Helper, type Instruction, ja, jeqImm, type JumpCond, jmp32Imm, jmpImm, jmpReg, jneImm, label, ldImm64, ldxDW, ldxW, mov32Reg,
  mov64Imm, mov64Reg, R0, R1, R2, R3, R4, R6, R7, R8, R9, R10, rsh64Imm, stW, stxDW, stxW,
} from './asm.js';
import { compareInline, readScopeValue, scopeKey } from './kernel-scope.js';
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

const COND: Record<CompareOp, [JumpCond, JumpCond]> = {
  '=': ['jeq', 'jeq'],
  '!=': ['jne', 'jne'],
  '<': ['jlt', 'jslt'],
  '<=': ['jle', 'jsle'],
  '>': ['jgt', 'jsgt'],
  '>=': ['jge', 'jsge'],
};

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
    if (r.compatNr !== undefined) {
      p.push(jneImm(R8, 0, `kill_compat${i}`), jneImm(R7, r.nr, next), ja(`kill_conds${i}`), label(`kill_compat${i}`), jneImm(R7, r.compatNr, next));
    } else {
      p.push(jneImm(R8, 0, next), jneImm(R7, r.nr, next));
    }
    p.push(label(`kill_conds${i}`));
    r.conditions.forEach((c, j) => p.push(...condition(c, hook, L, `kill${i}_${j}`, next)));
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

/** One condition: falls through when it holds, jumps to `fail` otherwise. */
function condition(c: KernelCondition, hook: HookKind, L: KernelLayout, tag: string, fail: string): Instruction[] {
  const ok = `${tag}_ok`;
  if (c.on === 'comm') {
    const { code, slot } = readScopeValue('comms', L, hook !== 'raw');
    const keys = c.values.map((v) => scopeKey('comms', v));
    return c.op === '=' ? [...code, ...compareInline('comms', keys, slot, ok, tag), ja(fail), label(ok)] : [...code, ...compareInline('comms', keys, slot, fail, tag)];
  }
  let width: 32 | 64 = 32;
  let signed = false;
  const p: Instruction[] = [];
  if (c.on === 'arg') {
    width = c.width;
    signed = c.signed;
    p.push(...readArg(c.index, hook, L, tag));
  } else {
    const kind = c.on === 'uid' ? 'uids' : c.on === 'mntns' ? 'mntns' : 'cgroupIds';
    const { code, slot } = readScopeValue(kind, L, hook !== 'raw');
    if (kind === 'cgroupIds') width = 64;
    p.push(...code, width === 64 ? ldxDW(R1, R10, slot) : ldxW(R1, R10, slot));
  }
  const cond = COND[c.op][signed ? 1 : 0];
  const jump = (v: bigint, target: string): Instruction[] =>
    width === 32 ? [jmp32Imm(cond, R1, Number(BigInt.asIntN(32, v)), target)] : [ldImm64(R2, BigInt.asUintN(64, v)), jmpReg(cond, R1, R2, target)];
  // `!=`: none of the values; any other operator: any one of them.
  if (c.op === '!=') for (const v of c.values) p.push(...(width === 32 ? [jmp32Imm('jeq', R1, Number(BigInt.asIntN(32, v)), fail)] : [ldImm64(R2, BigInt.asUintN(64, v)), jmpReg('jeq', R1, R2, fail)]));
  else p.push(...c.values.flatMap((v) => jump(v, ok)), ja(fail), label(ok));
  return p;
}

/** Argument `index` of the call into R1 (a compat caller's is the register's low half). Clobbers R0-R5. */
function readArg(index: number, hook: HookKind, L: KernelLayout, tag: string): Instruction[] {
  if (hook === 'tracepoint') return [ldxDW(R1, R6, 16 + 8 * index)]; // TracepointRecord.args
  const native = L.regsNative[index];
  const compat = L.regsCompat[index];
  if (hook === 'btf') {
    return [ldxDW(R1, R6, 0), jneImm(R8, 0, `${tag}_c`), ldxDW(R1, R1, native), ja(`${tag}_v`), label(`${tag}_c`), ldxDW(R1, R1, compat), mov32Reg(R1, R1), label(`${tag}_v`)];
  }
  return [
    ldxDW(R3, R6, 0),
    jneImm(R8, 0, `${tag}_c`),
    ...probeRead(R10, SCRATCH, 8, R3, native),
    ldxDW(R1, R10, SCRATCH),
    ja(`${tag}_v`),
    label(`${tag}_c`),
    ldxDW(R3, R6, 0),
    ...probeRead(R10, SCRATCH, 4, R3, compat),
    ldxW(R1, R10, SCRATCH),
    label(`${tag}_v`),
  ];
}
