import {
  add64Imm, alu64Imm, alu64Reg, and64Imm, call, exit, Helper, type Instruction, ja, jeqImm, jmpImm, jneImm, label, ldMapFd, ldxB, ldxDW, ldxW,
  mov32Reg, mov64Imm, mov64Reg, R0, R1, R2, R3, R4, R6, R7, R8, R9, R10, type Register, rsh64Imm, stW, stxDW, stxW,
} from './asm.js';
import { type KernelLayout, TS_COMPAT } from './kernel-layout.js';
import {
  BPF_ANY, BPF_LOCAL_STORAGE_GET_F_CREATE, BPF_RB_NO_WAKEUP, countEventLoss, countLoss, derefToR3, ENTRY, ID_MAP_SIZE, KILL, LossSlot,
  type MapFds, matchAny, probeRead, REGS, SCRATCH, TID_KEY,
} from './program-parts.js';
import { type ScopeCheck, scopeFilter } from './kernel-scope.js';
import { type ArgFilter, argFilter } from './conditions.js';
import { Entry, FLAG_COMPAT, FLAG_ENTRY_READ, FLAG_KILLED, KILL_RULE_MASK, Rec, RecordKind, recordSize, STRING_MAX, StrSlot } from './record.js';
import { type EnforceLayout, killCheck } from './kill-check.js';
import type { ProbeEnforcement } from '../types.js';
import { contextByBtf, contextByProbeRead } from './task-context.js';

/**
 * The syscall programs, generated per run from the selected events and the kernel layout:
 * - enter: keep only selected syscalls, processes, (kernelScope) tasks and (argFilters) arguments, save {time, id,
 *   compat, args} per thread;
 * - exit: take the entry back, write one ring-buffer record with the return value and the task context.
 */

/**
 * Which hook the syscall programs sit on; fixes how they read the id, the args and the return value.
 * 'btf': tp_btf on raw_syscalls sys_enter/sys_exit (pt_regs read with direct, BTF-checked loads);
 * 'raw': raw_tp on the same hooks (pt_regs read with bpf_probe_read_kernel; for kernels refusing tp_btf);
 * 'tracepoint': syscalls/sys_enter_X + sys_exit_X (cheapest for unwatched syscalls, never sees compat calls).
 */
export type HookKind = 'btf' | 'raw' | 'tracepoint';

/** Offsets of the syscall tracepoint record (syscalls/sys_enter_X, sys_exit_X), checked against tracefs at attach. */
export const TracepointRecord = { nr: 8, args: 16, ret: 16 } as const;

/** Bits of the id map's values. */
export const ID_NATIVE = 1;
export const ID_COMPAT = 2;

/** R9 = the id map's bits for the id in `reg` (0 when out of range). Clobbers R0-R5. */
function idBits(reg: Register, idsFd: number): Instruction[] {
  return [
    mov64Imm(R9, 0),
    jmpImm('jge', reg, ID_MAP_SIZE, 'id_done'),
    stxW(R10, SCRATCH, reg),
    ldMapFd(R1, idsFd),
    mov64Reg(R2, R10),
    add64Imm(R2, SCRATCH),
    call(Helper.mapLookupElem),
    jeqImm(R0, 0, 'id_done'),
    ldxW(R9, R0, 0),
    label('id_done'),
  ];
}

export interface EnterOptions {
  hook: HookKind;
  nativeIds: number[];
  compatIds: number[];
  layout: KernelLayout;
  maps: MapFds;
  /** Tracepoint hook: how many args the record holds (the kernel refuses a program reading past it). */
  argCount?: number;
  /** Tgids to drop, compared inline (use `maps.excluded` for long lists). */
  excludedInline?: number[];
  /** kernelScope: the kinds to check after the pid filters, before anything is saved. */
  scope?: readonly ScopeCheck[];
  /** Selected events whose catalog entry asks for a struct read at entry (perf_event_open's attr). */
  entryReads?: readonly EntryStructRead[];
  /** Argument filters, checked after kernelScope; a call either drops is counted in `maps.filtered`. */
  argFilters?: readonly ArgFilter[];
  /** Kill rules, checked after the pid filters; a match skips kernelScope and the argument filters (the call is always recorded). */
  enforce?: { rules: ProbeEnforcement; layout: EnforceLayout; onlyNr?: number };
  /** Selected events with string args: their text is read from user memory at entry into the entry's string slots. */
  strings?: readonly StringRead[];
}

/** One event's entry read: its ids (compat only when compat calls are caught), the pointer arg's position and how many bytes. */
export interface EntryStructRead {
  nr: number;
  compatNr?: number;
  arg: number;
  bytes: number;
}

/** One event whose string args enter reads: its ids (compat only when compat calls are caught) and the args' positions, in slot order. */
export interface StringRead {
  nr: number;
  compatNr?: number;
  args: readonly number[];
}

/**
 * Each string arg of the call into its slot (bpf_probe_read_user_str, at most STRING_MAX bytes with the NUL), with the
 * helper's result and a truncation mark. R7 = id, R8 = compat (0/1), the entry at base + at; uses R6 for the pointer
 * (the context is not needed any more) and clobbers R0-R5.
 */
function readStrings(reads: readonly StringRead[], base: Register, at: number): Instruction[] {
  const p: Instruction[] = [];
  for (const r of reads) {
    const tag = `str${r.nr}`;
    const body = (compat: boolean): Instruction[] => r.args.flatMap((arg, slot) => readString(base, at, arg, slot, compat, `${tag}${compat ? 'c' : 'n'}${slot}`));
    // Ids mean different syscalls per table: a native id is checked on native calls only.
    p.push(jneImm(R8, 0, r.compatNr === undefined ? `${tag}_done` : `${tag}_compat`), jneImm(R7, r.nr, `${tag}_done`), ...body(false));
    if (r.compatNr !== undefined) p.push(ja(`${tag}_done`), label(`${tag}_compat`), jneImm(R7, r.compatNr, `${tag}_done`), ...body(true));
    p.push(label(`${tag}_done`));
  }
  return p;
}

function readString(base: Register, at: number, arg: number, slot: number, compat: boolean, name: string): Instruction[] {
  const s = at + Entry.strings + slot * StrSlot.size;
  return [
    ldxDW(R6, base, at + Entry.args + 8 * arg),
    ...(compat ? [mov32Reg(R6, R6)] : []), // a 32-bit caller's pointer is the register's low half
    stW(base, s + StrSlot.truncated, 0),
    mov64Reg(R1, base),
    add64Imm(R1, s + StrSlot.text),
    mov64Imm(R2, STRING_MAX),
    mov64Reg(R3, R6),
    call(Helper.probeReadUserStr),
    stxW(base, s + StrSlot.result, R0),
    jneImm(R0, STRING_MAX, `${name}_done`),
    // The buffer is full: the string ended there only if the last byte read was its NUL.
    mov64Reg(R1, R10),
    add64Imm(R1, SCRATCH),
    mov64Imm(R2, 1),
    mov64Reg(R3, R6),
    add64Imm(R3, STRING_MAX - 1),
    call(Helper.probeReadUser),
    jneImm(R0, 0, `${name}_cut`),
    ldxB(R1, R10, SCRATCH),
    jeqImm(R1, 0, `${name}_done`),
    label(`${name}_cut`),
    stW(base, s + StrSlot.truncated, 1),
    label(`${name}_done`),
  ];
}

/**
 * Each entry read: the first bytes of the struct behind the pointer arg, from user memory into the entry, and
 * FLAG_ENTRY_READ when the read worked. R7 = id, R8 = compat (0/1), the entry at base + at; clobbers R0-R5.
 */
function readEntryStructs(reads: readonly EntryStructRead[], base: Register, at: number): Instruction[] {
  const p: Instruction[] = [];
  for (const r of reads) {
    const tag = `entry_read${r.nr}`;
    // Ids mean different syscalls per table: a native id is checked on native calls only.
    p.push(jneImm(R8, 0, r.compatNr === undefined ? `${tag}_done` : `${tag}_compat`), jneImm(R7, r.nr, `${tag}_done`), ldxDW(R3, base, at + Entry.args + 8 * r.arg));
    if (r.compatNr !== undefined) {
      // A 32-bit caller's pointer is the register's low half.
      p.push(ja(`${tag}_read`), label(`${tag}_compat`), jneImm(R7, r.compatNr, `${tag}_done`), ldxDW(R3, base, at + Entry.args + 8 * r.arg), mov32Reg(R3, R3));
    }
    p.push(
      label(`${tag}_read`),
      mov64Reg(R1, base),
      add64Imm(R1, at + Entry.entryRead),
      mov64Imm(R2, r.bytes),
      call(Helper.probeReadUser),
      jneImm(R0, 0, `${tag}_done`),
      ldxW(R1, base, at + Entry.flags),
      alu64Imm('or', R1, FLAG_ENTRY_READ),
      stxW(base, at + Entry.flags, R1),
      label(`${tag}_done`),
    );
  }
  return p;
}

export function enterProgram(o: EnterOptions): Instruction[] {
  const { layout: L, maps } = o;
  const p: Instruction[] = [mov64Reg(R6, R1)];
  if (o.hook !== 'tracepoint') {
    // ctx = { struct pt_regs *regs; long id }: filter by id first, the one test every syscall pays.
    p.push(ldxDW(R7, R6, 8));
    if (maps.ids !== undefined) {
      // Many ids: one (inlined) array lookup gives the id's bits, ID_NATIVE and/or ID_COMPAT.
      p.push(...idBits(R7, maps.ids), jeqImm(R9, 0, 'out'));
    } else {
      p.push(...matchAny(R7, [...o.nativeIds, ...o.compatIds], 'candidate'), ja('out'), label('candidate'));
    }
    if (o.compatIds.length > 0) {
      // A compat (int $0x80) call has TS_COMPAT in current->thread_info.status; ids mean different syscalls per table.
      if (o.hook === 'btf') {
        p.push(call(Helper.getCurrentTaskBtf), ldxW(R8, R0, L.task.threadInfoStatus));
      } else {
        p.push(call(Helper.getCurrentTask), ...probeRead(R10, SCRATCH, 4, R0, L.task.threadInfoStatus), ldxW(R8, R10, SCRATCH));
      }
      p.push(and64Imm(R8, TS_COMPAT), rsh64Imm(R8, 1), jeqImm(R8, 0, 'native'));
      if (maps.ids !== undefined) p.push(jmpImm('jset', R9, ID_COMPAT, 'selected'));
      else p.push(...matchAny(R7, o.compatIds, 'selected'));
      p.push(ja('out'), label('native'));
    } else {
      p.push(mov64Imm(R8, 0));
    }
    if (maps.ids !== undefined) p.push(jmpImm('jset', R9, ID_NATIVE, 'selected'));
    else p.push(...matchAny(R7, o.nativeIds, 'selected'));
    p.push(ja('out'));
  } else {
    // Per-syscall tracepoint: attached only to selected syscalls, never compat.
    p.push(ldxW(R7, R6, TracepointRecord.nr), mov64Imm(R8, 0), ja('selected'));
  }
  p.push(label('selected'), call(Helper.getCurrentPidTgid), mov64Reg(R9, R0), rsh64Imm(R0, 32), stxW(R10, SCRATCH, R0));
  // A few excluded tgids (Watchpost itself) are compared inline; a longer list goes through a hash map.
  p.push(...matchAny(R0, o.excludedInline ?? [], 'out'));
  if (maps.excluded !== undefined) {
    p.push(ldMapFd(R1, maps.excluded), mov64Reg(R2, R10), add64Imm(R2, SCRATCH), call(Helper.mapLookupElem), jneImm(R0, 0, 'out'));
  }
  if (maps.tracked !== undefined) {
    p.push(ldMapFd(R1, maps.tracked), mov64Reg(R2, R10), add64Imm(R2, SCRATCH), call(Helper.mapLookupElem), jeqImm(R0, 0, 'out'));
  }
  if (o.enforce) p.push(...killCheck(o.enforce.rules, o.hook, L, o.enforce.layout, 'kill_done', o.enforce.onlyNr));
  const filters = [...scopeFilter(o.scope ?? [], L, o.hook !== 'raw', 'filtered'), ...argFilter(o.argFilters ?? [], o.hook, L, 'filtered')];
  if (filters.length > 0 && maps.filtered === undefined) throw new Error('enter program: filters need maps.filtered to count what they drop');
  p.push(...filters);
  if (o.enforce) p.push(label('kill_done'));
  // The in-flight entry: in the task's own storage (written in place), or built on the stack for the hash map.
  let base: Register = R10;
  let at = ENTRY;
  if (maps.inflightKind === 'task') {
    p.push(
      call(Helper.getCurrentTaskBtf),
      mov64Reg(R2, R0),
      ldMapFd(R1, maps.inflight),
      mov64Imm(R3, 0),
      mov64Imm(R4, BPF_LOCAL_STORAGE_GET_F_CREATE),
      call(Helper.taskStorageGet),
      jneImm(R0, 0, 'stored'),
      ...countLoss(maps.losses, LossSlot.inflightFull, 'counted_store'),
      ...countEventLoss(maps.eventLosses, R7, R8, 'counted_store_event'),
      ja('out'),
      label('stored'),
      mov64Reg(R9, R0),
    );
    base = R9;
    at = 0;
  } else if (maps.entryScratch !== undefined) {
    // Too big for the stack (string slots): built in a per-CPU scratch value, then copied into the hash by tid.
    p.push(
      stxW(R10, TID_KEY, R9),
      stW(R10, SCRATCH, 0),
      ldMapFd(R1, maps.entryScratch),
      mov64Reg(R2, R10),
      add64Imm(R2, SCRATCH),
      call(Helper.mapLookupElem),
      jeqImm(R0, 0, 'out'),
      mov64Reg(R9, R0),
    );
    base = R9;
    at = 0;
  }
  p.push(call(Helper.ktimeGetNs), stxDW(base, at + Entry.enterNs, R0), stxW(base, at + Entry.id, R7));
  if (o.enforce) p.push(ldxW(R1, R10, KILL), alu64Reg('or', R1, R8), stxW(base, at + Entry.flags, R1));
  else p.push(stxW(base, at + Entry.flags, R8));
  if (o.hook !== 'tracepoint') {
    // R2 = the registers: a BTF pointer we can load from (tp_btf), or a copy on the stack (raw_tp).
    p.push(ldxDW(R2, R6, 0));
    let regs = 0;
    if (o.hook === 'raw') {
      p.push(...probeRead(R10, REGS, L.regsSize, R2, 0), mov64Reg(R2, R10));
      regs = REGS;
    }
    const copy = (offs: number[]): Instruction[] =>
      offs.flatMap((off, i) => [ldxDW(R1, R2, regs + off), stxDW(base, at + Entry.args + 8 * i, R1)]);
    p.push(jneImm(R8, 0, 'compat_args'), ...copy(L.regsNative), ja('save'), label('compat_args'), ...copy(L.regsCompat));
  } else {
    for (let i = 0; i < 6; i++) {
      const slot = at + Entry.args + 8 * i;
      if (i < (o.argCount ?? 6)) p.push(ldxDW(R1, R6, TracepointRecord.args + 8 * i), stxDW(base, slot, R1));
      else p.push(stW(base, slot, 0), stW(base, slot + 4, 0));
    }
  }
  p.push(label('save'));
  if (o.strings !== undefined && o.strings.length > 0) p.push(...readStrings(o.strings, base, at));
  if (o.entryReads !== undefined && o.entryReads.length > 0) p.push(...readEntryStructs(o.entryReads, base, at));
  p.push(stW(base, at + Entry.armed, 1));
  if (maps.inflightKind === 'hash') {
    p.push(
      ...(base === R10 ? [stxW(R10, TID_KEY, R9)] : []),
      ldMapFd(R1, maps.inflight),
      mov64Reg(R2, R10),
      add64Imm(R2, TID_KEY),
      ...(base === R10 ? [mov64Reg(R3, R10), add64Imm(R3, ENTRY)] : [mov64Reg(R3, base)]),
      mov64Imm(R4, BPF_ANY),
      call(Helper.mapUpdateElem),
      jmpImm('jsge', R0, 0, 'out'),
      ...countLoss(maps.losses, LossSlot.inflightFull, 'counted'),
      ...countEventLoss(maps.eventLosses, R7, R8, 'counted_event'),
    );
  }
  if (filters.length > 0) p.push(ja('out'), label('filtered'), ...countEventLoss(maps.filtered!, R7, R8, 'counted_filtered'));
  p.push(label('out'), mov64Imm(R0, 0), exit());
  return p;
}

export interface ExitOptions {
  hook: HookKind;
  ids: number[];
  layout: KernelLayout;
  maps: MapFds;
  /** A selected event has an entry read: every record is Rec.entryReadSize and carries Entry.entryRead. */
  entryRead?: boolean;
  /** Kill rules are armed or dry-run: the record keeps the kill bits of the entry's flags. */
  enforce?: boolean;
  /** String slots the entry carries (see record.ts): copied into every record, which grows by as much. */
  stringSlots?: number;
}

export function exitProgram(o: ExitOptions): Instruction[] {
  const { layout: L, maps } = o;
  const p: Instruction[] = [mov64Reg(R6, R1)];
  if (o.hook !== 'tracepoint') {
    // ctx = { struct pt_regs *regs; long ret }; the id is regs->orig_ax. Every syscall pays this part.
    p.push(ldxDW(R3, R6, 0));
    if (o.hook === 'btf') p.push(ldxDW(R3, R3, L.regsOrigAx));
    else p.push(...derefToR3(R3, L.regsOrigAx, SCRATCH));
    if (maps.ids !== undefined) p.push(...idBits(R3, maps.ids), jeqImm(R9, 0, 'out'));
    else p.push(...matchAny(R3, o.ids, 'candidate'), ja('out'), label('candidate'));
  }
  if (maps.inflightKind === 'task') {
    // Disarm at once: the entry stays readable through R8, and a missed exit can never pair with a later one.
    p.push(
      call(Helper.getCurrentTaskBtf),
      mov64Reg(R2, R0),
      ldMapFd(R1, maps.inflight),
      mov64Imm(R3, 0),
      mov64Imm(R4, 0),
      call(Helper.taskStorageGet),
      jeqImm(R0, 0, 'out'),
      ldxW(R1, R0, Entry.armed),
      jeqImm(R1, 0, 'out'),
      stW(R0, Entry.armed, 0),
    );
  } else {
    p.push(
      call(Helper.getCurrentPidTgid),
      stxW(R10, TID_KEY, R0),
      ldMapFd(R1, maps.inflight),
      mov64Reg(R2, R10),
      add64Imm(R2, TID_KEY),
      call(Helper.mapLookupElem),
      jeqImm(R0, 0, 'out'),
    );
  }
  p.push(
    mov64Reg(R8, R0),
    ldMapFd(R1, maps.ringbuf),
    mov64Imm(R2, recordSize(o.stringSlots ?? 0, o.entryRead === true)),
    mov64Imm(R3, 0),
    call(Helper.ringbufReserve),
    jneImm(R0, 0, 'reserved'),
    ...countLoss(maps.losses, LossSlot.ringbufFull, 'counted'),
    ldxW(R3, R8, Entry.id),
    ldxW(R4, R8, Entry.flags),
    and64Imm(R4, FLAG_COMPAT),
    ...countEventLoss(maps.eventLosses, R3, R4, 'counted_event'),
    ja('release'),
    label('reserved'),
    mov64Reg(R9, R0),
    // From the in-flight entry: entry time, id, flags, args.
    ldxDW(R1, R8, Entry.enterNs),
    stxDW(R9, Rec.enterNs, R1),
    ldxW(R1, R8, Entry.id),
    stxW(R9, Rec.id, R1),
    ldxW(R1, R8, Entry.flags),
    and64Imm(R1, (o.entryRead ? FLAG_COMPAT | FLAG_ENTRY_READ : FLAG_COMPAT) | (o.enforce ? FLAG_KILLED | KILL_RULE_MASK : 0)),
    stxW(R9, Rec.flags, R1),
  );
  if (o.entryRead) p.push(ldxDW(R1, R8, Entry.entryRead), stxDW(R9, Rec.entryRead, R1), ldxDW(R1, R8, Entry.entryRead + 8), stxDW(R9, Rec.entryRead + 8, R1));
  for (let i = 0; i < 6; i++) p.push(ldxDW(R1, R8, Entry.args + 8 * i), stxDW(R9, Rec.args + 8 * i, R1));
  if (o.stringSlots) p.push(...probeRead(R9, Rec.strings, o.stringSlots * StrSlot.size, R8, Entry.strings));
  p.push(ldxDW(R1, R6, o.hook === 'tracepoint' ? TracepointRecord.ret : 8), stxDW(R9, Rec.ret, R1), stW(R9, Rec.kind, RecordKind.syscall), stW(R9, Rec.nsPpid, 0));
  p.push(...(o.hook === 'raw' ? contextByProbeRead(L) : contextByBtf(L)));
  p.push(
    mov64Reg(R1, R9),
    mov64Imm(R2, BPF_RB_NO_WAKEUP), // user space drains on a timer: skip the wake-up irq_work per record
    call(Helper.ringbufSubmit),
    label('release'),
  );
  if (maps.inflightKind === 'hash') p.push(ldMapFd(R1, maps.inflight), mov64Reg(R2, R10), add64Imm(R2, TID_KEY), call(Helper.mapDeleteElem));
  p.push(label('out'), mov64Imm(R0, 0), exit());
  return p;
}
