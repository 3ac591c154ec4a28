import type { EventDefinition } from '../../catalog/types.js';
import { UsageError } from '../../model/errors.js';
import type { ProbeOptions } from '../types.js';
import {
  add64Imm, call, Helper, type Instruction, ja, jeqImm, jmp32Imm, jmpReg, jneImm, label, ldImm64, ldMapFd, ldxDW, ldxW, mov64Imm,
  mov64Reg, R0, R1, R2, R3, R4, R7, R8, R10, stxDW, stxW,
} from './asm.js';
import type { KernelLayout } from './kernel-layout.js';
import { type BpfMap, MapType, type MapSpec, u32Key } from './maps.js';
import { derefToR3, matchAny, probeRead, SCOPE_KEY, SCRATCH } from './program-parts.js';

/**
 * The `kernelScope` pre-filter: per kind given, the allowed values compared inline (a few) or looked up in a hash map
 * (more), by the enter program right after the pid filters, so a call out of scope is never saved and never reaches
 * the ring buffer.
 */

export type KernelScope = NonNullable<ProbeOptions['kernelScope']>;
export type ScopeKind = keyof KernelScope;

/** One kind to check: its values inline or its map, and the selected syscall ids that skip it (see CHANGED_BY). */
export interface ScopeCheck {
  kind: ScopeKind;
  /** Keys compared inline (few values), or the hash map holding them. */
  where: { inline: Uint8Array[] } | { fd: number };
  skipNative: number[];
  skipCompat: number[];
}

/** Up to this many values a kind is compared inline: measured cheaper than a hash lookup (see README). */
export const MAX_INLINE_VALUES = 8;

/** Bytes of a key per kind: uid u32, comm char[16] as task->comm, cgroup id u64, mount namespace inum u32. */
const KEY_SIZE: Record<ScopeKind, number> = { uids: 4, comms: 16, cgroupIds: 8, mntns: 4 };

/** Map names (15 characters at most), for bpftool. */
const MAP_NAME: Record<ScopeKind, string> = { uids: 'wp_scope_uid', comms: 'wp_scope_comm', cgroupIds: 'wp_scope_cgroup', mntns: 'wp_scope_mntns' };

/**
 * Syscalls that change, in the calling task, the value a kind reads. Records carry the context read at exit, which is
 * what user space judges; these calls are kept at entry whatever the value then, so user space decides.
 */
const CHANGED_BY: Record<ScopeKind, readonly string[]> = {
  uids: ['setuid', 'setreuid', 'setresuid'],
  comms: ['execve', 'execveat', 'prctl'], // not a write to /proc/PID/comm: a call that spans one is judged at entry
  cgroupIds: [], // moved by a write to cgroup.procs from any process: a call that spans the move is judged at entry
  mntns: ['unshare', 'setns'],
};

/** Order of the checks in the program: cheapest first (one helper call each; mntns follows two pointers, comm copies 16 bytes). */
const ORDER: readonly ScopeKind[] = ['uids', 'cgroupIds', 'mntns', 'comms'];

/** What the enter program checks per kind given (empty kinds filter nothing); fills a hash map for a kind with many values. */
export function prepareScope(
  scope: KernelScope | undefined,
  events: readonly EventDefinition[],
  compat: boolean,
  newMap: (spec: MapSpec) => BpfMap,
): ScopeCheck[] {
  if (scope === undefined) return [];
  const checks: ScopeCheck[] = [];
  for (const kind of ORDER) {
    const values = scope[kind];
    if (values === undefined || values.length === 0) continue;
    const keys = new Map<string, Uint8Array>();
    for (const v of values) {
      const k = scopeKey(kind, v);
      keys.set(k.join(','), k);
    }
    let where: ScopeCheck['where'] = { inline: [...keys.values()] };
    if (keys.size > MAX_INLINE_VALUES) {
      const map = newMap({ name: MAP_NAME[kind], type: MapType.hash, keySize: KEY_SIZE[kind], valueSize: 4, maxEntries: keys.size });
      for (const k of keys.values()) map.update(k, u32Key(1));
      where = { fd: map.fd };
    }
    const changers = events.filter((e) => CHANGED_BY[kind].includes(e.name));
    checks.push({
      kind,
      where,
      skipNative: changers.map((e) => e.nr),
      skipCompat: compat ? changers.flatMap((e) => (e.compatNr === undefined ? [] : [e.compatNr])) : [],
    });
  }
  return checks;
}

/** The key bytes of one allowed value, as the program builds them from the task. */
export function scopeKey(kind: ScopeKind, value: number | string): Uint8Array {
  const fail = (what: string): never => {
    throw new UsageError(`kernelScope.${kind}: ${JSON.stringify(value)} is not ${what}; pass ${what}s only`);
  };
  switch (kind) {
    case 'uids':
    case 'mntns':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffffffff) fail(kind === 'uids' ? 'a uid (0..4294967295)' : 'a mount namespace inode number (0..4294967295)');
      return u32Key(value as number);
    case 'cgroupIds': {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) fail('a cgroup id (a non-negative integer)');
      const k = new Uint8Array(8);
      new DataView(k.buffer).setBigUint64(0, BigInt(value), true);
      return k;
    }
    case 'comms': {
      if (typeof value !== 'string' || value === '') fail('a process name');
      // task->comm holds at most 15 bytes and a NUL, zero-padded (what bpf_get_current_comm copies): cut and pad the same.
      const k = new Uint8Array(16);
      k.set(new TextEncoder().encode(value as string).subarray(0, 15));
      return k;
    }
  }
}

/**
 * The checks, for the enter program: jumps to `fail` when the calling task is out of scope.
 * Expects R7 = syscall id and R8 = 1 for a compat call (else 0); keeps R6-R9, clobbers R0-R5.
 * `taskBtf`: read the mount namespace with direct loads through the BTF task pointer (tp_btf, tracepoint), else with
 * bpf_probe_read_kernel (raw_tp).
 */
export function scopeFilter(checks: readonly ScopeCheck[], layout: KernelLayout, taskBtf: boolean, fail: string): Instruction[] {
  const p: Instruction[] = [];
  for (const c of checks) {
    const done = `scope_${c.kind}_done`;
    if (c.skipNative.length + c.skipCompat.length > 0) {
      const compatLabel = `scope_${c.kind}_compat`;
      const check = `scope_${c.kind}_check`;
      p.push(jneImm(R8, 0, compatLabel), ...matchAny(R7, c.skipNative, done), ja(check));
      p.push(label(compatLabel), ...matchAny(R7, c.skipCompat, done), label(check));
    }
    const { code, slot } = readScopeValue(c.kind, layout, taskBtf);
    p.push(...code);
    if ('fd' in c.where) {
      p.push(ldMapFd(R1, c.where.fd), mov64Reg(R2, R10), add64Imm(R2, slot), call(Helper.mapLookupElem), jeqImm(R0, 0, fail));
    } else {
      p.push(...compareInline(c.kind, c.where.inline, slot, done), ja(fail));
    }
    p.push(label(done));
  }
  return p;
}

/**
 * The calling task's value of `kind`, as its key bytes on the stack at `slot` (SCRATCH, or SCOPE_KEY for a comm).
 * Keeps R6-R9, clobbers R0-R5. Shared by the kernelScope pre-filter and the kill rules (src/probes/ebpf/kill-check.ts).
 */
export function readScopeValue(kind: ScopeKind, layout: KernelLayout, taskBtf: boolean): { code: Instruction[]; slot: number } {
  switch (kind) {
    case 'uids':
      return { code: [call(Helper.getCurrentUidGid), stxW(R10, SCRATCH, R0)], slot: SCRATCH };
    case 'cgroupIds':
      return { code: [call(Helper.getCurrentCgroupId), stxDW(R10, SCRATCH, R0)], slot: SCRATCH };
    case 'mntns':
      // task->nsproxy->mnt_ns->ns.inum, as the record's mntns.
      if (taskBtf) {
        return {
          code: [
            call(Helper.getCurrentTaskBtf),
            ldxDW(R1, R0, layout.task.nsproxy),
            ldxDW(R1, R1, layout.nsproxyMntNs),
            ldxW(R1, R1, layout.mntNsInum),
            stxW(R10, SCRATCH, R1),
          ],
          slot: SCRATCH,
        };
      }
      // A failed read zeroes the key: no namespace has inum 0, so the call is dropped.
      return {
        code: [
          call(Helper.getCurrentTask),
          ...derefToR3(R0, layout.task.nsproxy, SCRATCH),
          ...derefToR3(R3, layout.nsproxyMntNs, SCRATCH),
          ...probeRead(R10, SCRATCH, 4, R3, layout.mntNsInum),
        ],
        slot: SCRATCH,
      };
    case 'comms':
      return { code: [mov64Reg(R1, R10), add64Imm(R1, SCOPE_KEY), mov64Imm(R2, 16), call(Helper.getCurrentComm)], slot: SCOPE_KEY };
  }
}

/** Jumps to `match` when the key at `slot` equals one of `keys`; falls through otherwise. Clobbers R1-R4. `tag` keeps labels unique per use. */
export function compareInline(kind: ScopeKind, keys: readonly Uint8Array[], slot: number, match: string, tag = 'scope'): Instruction[] {
  const u64 = (k: Uint8Array, at: number): bigint => new DataView(k.buffer, k.byteOffset, k.byteLength).getBigUint64(at, true);
  switch (kind) {
    case 'uids':
    case 'mntns':
      // 32-bit compares: a 64-bit one would sign-extend an immediate of 2^31 or more (namespace inums are ~4.0e9).
      return [ldxW(R1, R10, slot), ...keys.map((k) => jmp32Imm('jeq', R1, new DataView(k.buffer, k.byteOffset, 4).getInt32(0, true), match))];
    case 'cgroupIds':
      return [ldxDW(R1, R10, slot), ...keys.flatMap((k) => [ldImm64(R2, u64(k, 0)), jmpReg('jeq', R1, R2, match)])];
    case 'comms':
      // Two 8-byte halves per name.
      return [
        ldxDW(R1, R10, slot),
        ldxDW(R2, R10, slot + 8),
        ...keys.flatMap((k, i) => [
          ldImm64(R3, u64(k, 0)),
          jmpReg('jne', R1, R3, `${tag}_comm_next${i}`),
          ldImm64(R4, u64(k, 8)),
          jmpReg('jeq', R2, R4, match),
          label(`${tag}_comm_next${i}`),
        ]),
      ];
  }
}
