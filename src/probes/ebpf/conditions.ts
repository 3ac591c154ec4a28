import type { CompareOp, KernelCondition } from '../types.js';
import {
  alu64Imm, type Instruction, ja, type JumpCond, jmp32Imm, jmpReg, jneImm, label, ldImm64, ldxDW, ldxW, lsh64Imm, mov32Reg, R1, R2, R3,
  R6, R7, R8, R10,
} from './asm.js';
import { compareInline, readScopeValue, scopeKey } from './kernel-scope.js';
import type { KernelLayout } from './kernel-layout.js';
import { probeRead, SCRATCH } from './program-parts.js';
import type { HookKind } from './syscall-programs.js';

/**
 * Conditions on the call at syscall entry, for the enter program: one condition's check (kill rules and argument
 * filters share it) and the argument filter. All expect R6 = ctx, R7 = syscall id, R8 = compat (0/1); keep R6-R9,
 * clobber R0-R5.
 */

const COND: Record<CompareOp, [JumpCond, JumpCond]> = {
  '=': ['jeq', 'jeq'],
  '!=': ['jne', 'jne'],
  '<': ['jlt', 'jslt'],
  '<=': ['jle', 'jsle'],
  '>': ['jgt', 'jsgt'],
  '>=': ['jge', 'jsge'],
};

/** Falls through when the call is syscall `nr` (or, from a 32-bit caller, `compatNr`); jumps to `other` otherwise. */
export function syscallIs(nr: number, compatNr: number | undefined, tag: string, other: string): Instruction[] {
  // Ids mean different syscalls per table: a native id is checked on native calls only.
  if (compatNr === undefined) return [jneImm(R8, 0, other), jneImm(R7, nr, other)];
  return [jneImm(R8, 0, `${tag}_compat`), jneImm(R7, nr, other), ja(`${tag}_is`), label(`${tag}_compat`), jneImm(R7, compatNr, other), label(`${tag}_is`)];
}

/** One condition: falls through when it holds, jumps to `fail` otherwise. `tag` keeps labels unique per use. */
export function conditionCheck(c: KernelCondition, hook: HookKind, L: KernelLayout, tag: string, fail: string): Instruction[] {
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
    p.push(...readArg(c.index, hook, L, tag, signed && width === 64));
  } else {
    const kind = c.on === 'uid' ? 'uids' : c.on === 'mntns' ? 'mntns' : 'cgroupIds';
    const { code, slot } = readScopeValue(kind, L, hook !== 'raw');
    if (kind === 'cgroupIds') width = 64;
    p.push(...code, width === 64 ? ldxDW(R1, R10, slot) : ldxW(R1, R10, slot));
  }
  const jump = (cond: JumpCond, v: bigint, target: string): Instruction[] =>
    width === 32 ? [jmp32Imm(cond, R1, Number(BigInt.asIntN(32, v)), target)] : [ldImm64(R2, BigInt.asUintN(64, v)), jmpReg(cond, R1, R2, target)];
  // `!=`: none of the values; any other operator: any one of them.
  if (c.op === '!=') for (const v of c.values) p.push(...jump('jeq', v, fail));
  else p.push(...c.values.flatMap((v) => jump(COND[c.op][signed ? 1 : 0], v, ok)), ja(fail), label(ok));
  return p;
}

/**
 * Argument `index` of the call into R1. A 32-bit caller's argument is its register's low half, zero-extended, or
 * with `signExtend` sign-extended: what user space reads for it. Clobbers R0-R5.
 */
function readArg(index: number, hook: HookKind, L: KernelLayout, tag: string, signExtend: boolean): Instruction[] {
  if (hook === 'tracepoint') return [ldxDW(R1, R6, 16 + 8 * index)]; // TracepointRecord.args; never a 32-bit caller
  const native = L.regsNative[index];
  const compat = L.regsCompat[index];
  const extend = signExtend ? [lsh64Imm(R1, 32), alu64Imm('arsh', R1, 32)] : [];
  if (hook === 'btf') {
    return [ldxDW(R1, R6, 0), jneImm(R8, 0, `${tag}_c`), ldxDW(R1, R1, native), ja(`${tag}_v`), label(`${tag}_c`), ldxDW(R1, R1, compat), mov32Reg(R1, R1), ...extend, label(`${tag}_v`)];
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
    ...extend,
    label(`${tag}_v`),
  ];
}

/** One selected syscall's argument filter: the call is kept when all conditions of one clause hold. */
export interface ArgFilter {
  nr: number;
  /** The 32-bit (int $0x80) number, when compat calls are caught. */
  compatNr?: number;
  clauses: KernelCondition[][];
}

/**
 * The argument filters, for the enter program after the kernelScope pre-filter: jumps to `fail` when the call is one
 * of the filtered syscalls and no clause holds; falls through otherwise.
 */
export function argFilter(filters: readonly ArgFilter[], hook: HookKind, L: KernelLayout, fail: string): Instruction[] {
  if (filters.length === 0) return [];
  const p: Instruction[] = [];
  filters.forEach((f, i) => {
    const other = `args${i}_other`;
    p.push(...syscallIs(f.nr, f.compatNr, `args${i}`, other));
    f.clauses.forEach((clause, j) => {
      const next = `args${i}_${j}_no`;
      clause.forEach((c, k) => p.push(...conditionCheck(c, hook, L, `args${i}_${j}_${k}`, next)));
      p.push(ja('args_kept'), label(next));
    });
    p.push(ja(fail), label(other));
  });
  p.push(label('args_kept'));
  return p;
}
