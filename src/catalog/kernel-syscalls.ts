import { readdirSync } from 'node:fs';
import type { ArgDefinition, ArgType, EventDefinition } from './types.js';
import { I386, X86_64 } from './syscall-table.js';
import { TRACEE_EVENTS } from './tracee-events.js';
import { type FormatField, readFormat } from './tracepoint-format.js';

/**
 * Every other syscall the kernel has a tracepoint for, selectable by name: numbers from the syscall table,
 * arguments named and typed from the kernel's sys_enter format file (read once, when first asked for).
 */

const TRACEFS = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];
const cache = new Map<string, EventDefinition | null>();

const UINT64 = /^(unsigned long|unsigned long long|size_t|u64|__u64|aio_context_t|cap_user_header_t|cap_user_data_t)$/;
const INT64 = /^(long|long long|off_t|loff_t|ssize_t|s64|__s64|time_t|__kernel_old_time_t|clock_t)$/;
const UINT32 = /^(unsigned int|unsigned|u32|__u32|uid_t|gid_t|old_uid_t|old_gid_t|umode_t|mode_t|qid_t|rwf_t|key_perm_t)$/;

/** Tracee's type for a kernel C type: pointers are addresses, then by width and signedness. */
export function traceeType(cType: string): ArgType {
  const t = cType.replace(/\b(const|volatile|__user|struct|union|enum)\b/g, ' ').replace(/\s+/g, ' ').trim();
  if (cType.includes('*')) return 'pointer';
  if (UINT64.test(t)) return 'uint64';
  if (INT64.test(t)) return 'int64';
  if (UINT32.test(t)) return 'uint32';
  return 'int32';
}

const NUMERIC: Readonly<Record<string, ArgType>> = { int32: 'int32', uint32: 'uint32', int64: 'int64', uint64: 'uint64', uint16: 'uint32', uint8: 'uint32', bool: 'int32' };

/** A C type standing for a Tracee type, where no format file says the kernel's (replay without tracefs). */
const C_TYPE: Readonly<Record<string, string>> = { int32: 'int', uint32: 'unsigned int', uint16: 'umode_t', int64: 'long', uint64: 'unsigned long', string: 'const char *' };

/** Shown in hex outside the family too: addresses, and the args whose names say flag words and request codes. */
const HEX_NAMES = new Set(['flags', 'request', 'arg', 'from']);

/**
 * One argument as Tracee names and types it (its event table), read from the kernel's slot: Tracee's numeric type where it
 * has one, else the kernel's (strings and structs are addresses in the record); the kernel's name stays an alias.
 */
function argOf(f: FormatField, tracee: readonly [string, string, string?] | undefined): ArgDefinition {
  const arg: ArgDefinition = {
    name: tracee?.[0] ?? f.name,
    kernelType: f.cType,
    type: (tracee && NUMERIC[tracee[1]]) ?? traceeType(f.cType),
    tags: ['K'],
    description: `${f.cType} argument (from the kernel's tracepoint format)`,
  };
  if (tracee && tracee[1] !== arg.type) arg.traceeType = tracee[1];
  if (arg.type === 'pointer' || HEX_NAMES.has(arg.name)) arg.display = 'hex';
  // the kernel's name: from its format file, else as the table recorded it
  const kernelName = f.name !== arg.name ? f.name : tracee?.[2];
  if (kernelName !== undefined) arg.aliases = [kernelName];
  if (tracee?.[1] === 'string' || tracee?.[1] === '[]string') {
    arg.tags = ['U', 'TOCTOU'];
    arg.description = `${f.cType}: ${tracee[1] === 'string' ? 'a string' : 'a list of strings'} in the caller's memory (the record holds its address)`;
  }
  return arg;
}

/** Tracee's sets of a syscall event (Tracee's membership), or just `syscalls` for one Tracee does not list. */
export function traceeSets(name: string): readonly string[] | undefined {
  return Object.hasOwn(TRACEE_EVENTS, name) ? TRACEE_EVENTS[name].sets : undefined;
}

/** Names of every x86_64 syscall in the table. */
export function syscallNames(): string[] {
  return Object.keys(X86_64);
}

export function isSyscallName(name: string): boolean {
  return Object.hasOwn(X86_64, name);
}

/** Is the syscall traceable here (it has a tracepoint, or tracefs cannot tell)? */
export function isTraceable(name: string): boolean {
  return isSyscallName(name) && tracepointOf(name) !== undefined;
}

let tracepoints: Set<string> | null | undefined;

/** Syscall names that have sys_enter tracepoints on this kernel; null when tracefs cannot be read. */
function tracepointNames(): Set<string> | null {
  if (tracepoints !== undefined) return tracepoints;
  tracepoints = null;
  for (const root of TRACEFS) {
    try {
      const names = readdirSync(`${root}/events/syscalls`).filter((n) => n.startsWith('sys_enter_')).map((n) => n.slice(10));
      tracepoints = new Set(names);
      break;
    } catch {
      // next root
    }
  }
  return tracepoints;
}

/** The tracepoint a syscall is recorded under: its own name, or the `new` variant x86_64 kept for old ABIs (stat -> newstat). */
export function tracepointOf(name: string): string | undefined {
  const known = tracepointNames();
  if (!known) return name;
  if (known.has(name)) return name;
  if (known.has(`new${name}`)) return `new${name}`;
  return undefined;
}

function formatDir(tracepoint: string): string | undefined {
  for (const root of TRACEFS) {
    const dir = `${root}/events/syscalls/sys_enter_${tracepoint}`;
    try {
      readFormat(dir);
      return dir;
    } catch {
      // next root
    }
  }
  return undefined;
}

/** The definition of a syscall outside the family, or undefined when the table does not know the name. */
export function syscallDefinition(name: string): EventDefinition | undefined {
  const hit = cache.get(name);
  if (hit !== undefined) return hit ?? undefined;
  if (!isSyscallName(name)) {
    cache.set(name, null);
    return undefined;
  }
  const tracepoint = tracepointOf(name);
  const dir = tracepoint ? formatDir(tracepoint) : undefined;
  const tracee = Object.hasOwn(TRACEE_EVENTS, name) ? TRACEE_EVENTS[name].args : [];
  // Tracee's arguments are the syscall's, in call order: matched by position (where it lists fewer, the rest keep the kernel's names)
  // without the format files (no root, no tracefs: replay), Tracee's table alone names and types them
  const fields = dir ? readFormat(dir).argFields : tracee.map(([argName, t]) => ({ name: argName, cType: C_TYPE[t] ?? 'void *', offset: 0, size: 8, signed: false }));
  const args: ArgDefinition[] = fields.map((f, i) => argOf(f, tracee[i]));
  const def: EventDefinition = {
    name,
    nr: X86_64[name],
    compatNr: Object.hasOwn(I386, name) ? I386[name] : undefined,
    sets: [...(traceeSets(name) ?? ['syscalls'])],
    arches: ['x86_64'],
    args,
    description: dir
      ? `The ${name} syscall; arguments as the kernel's sys_enter_${name} tracepoint records them (pointers shown as addresses).`
      : `The ${name} syscall (this kernel has no tracepoint for it, or tracefs is not readable${tracee.length ? ": arguments as Tracee's event table defines them" : ''}).`,
    related: [],
  };
  if (tracepoint && tracepoint !== name) def.tracepoint = tracepoint;
  cache.set(name, def);
  return def;
}

/** Names of each syscall's argument fields in the kernel's sys_enter format (they differ from the catalog's: ioctl's `cmd`). */
export function syscallArgFieldNames(root: string, events: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const name of events) {
    try {
      out[name] = readFormat(`${root}/events/syscalls/sys_enter_${tracepointOf(name) ?? name}`).argFields.map((f) => f.name);
    } catch {
      // no such tracepoint: nothing to push down for it
    }
  }
  return out;
}
