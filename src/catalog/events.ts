import { isTraceable, syscallDefinition, syscallNames, traceeSets } from './kernel-syscalls.js';
import type { ArgDecoder, ArgDefinition, ArgTag, EventDefinition } from './types.js';

/** One source of truth per event: CLI listing, docs, decoding and filters all read this table. */

interface ArgExtras {
  /** The kernel's format-file name where it differs from Tracee's (ioctl's `cmd`). */
  kernelName?: string;
  display?: 'hex';
  decoder?: ArgDecoder;
  /** Default K; U and TOCTOU for an arg whose memory the probe reads (the caller can change it before the kernel does). */
  tags?: ArgTag[];
}

function k(name: string, kernelType: string, type: ArgDefinition['type'], description: string, extras: ArgExtras = {}): ArgDefinition {
  const { kernelName, display, decoder, tags = ['K'] } = extras;
  return { name, kernelType, type, tags, description, ...(kernelName && { aliases: [kernelName] }), ...(display && { display }), ...(decoder && { decoder }) };
}

const HEX = { display: 'hex' } as const;

export const EVENTS: readonly EventDefinition[] = [
  {
    name: 'ioperm',
    nr: 173,
    compatNr: 101,
    sets: ['syscalls', 'system'],
    arches: ['x86_64', 'i386'],
    args: [
      k('from', 'unsigned long', 'uint64', 'first I/O port of the range', HEX),
      k('num', 'unsigned long', 'uint64', 'number of ports in the range'),
      k('turn_on', 'int', 'int32', '1 grants access to the range, 0 revokes it'),
    ],
    ports: { kind: 'range', from: 'from', num: 'num', grant: 'turn_on' },
    description:
      'Sets the I/O port access bits of the calling thread for ports from..from+num-1. Granting access (turn_on=1) needs CAP_SYS_RAWIO and lets the thread run in/out instructions on those ports directly, bypassing every driver.',
    related: ['iopl', 'ioctl', 'perf_event_open', 'userfaultfd'],
  },
  {
    name: 'iopl',
    nr: 172,
    compatNr: 110,
    sets: ['syscalls', 'system'],
    arches: ['x86_64', 'i386'],
    args: [k('level', 'unsigned int', 'int32', 'I/O privilege level 0-3; 3 opens all 65536 ports')],
    ports: { kind: 'level', level: 'level' },
    description:
      'Changes the I/O privilege level of the calling thread. Level 3 grants access to the whole I/O port space; raising it needs CAP_SYS_RAWIO.',
    related: ['ioperm', 'ioctl'],
  },
  {
    name: 'ioctl',
    nr: 16,
    compatNr: 54,
    sets: ['syscalls', 'fs', 'fs_fd_ops'],
    arches: ['x86_64', 'i386', 'arm64'],
    args: [
      k('fd', 'unsigned int', 'int32', 'file descriptor of the device or file'),
      k('request', 'unsigned int', 'uint64', 'device-dependent request code', { kernelName: 'cmd', ...HEX, decoder: 'ioctl-request' }),
      k('arg', 'unsigned long', 'uint64', 'request argument, often a user pointer', HEX),
    ],
    description: 'Sends a device-specific request to the driver behind a file descriptor.',
    related: ['ioperm', 'iopl'],
  },
  {
    name: 'perf_event_open',
    nr: 298,
    compatNr: 336,
    sets: ['syscalls', 'system'],
    arches: ['x86_64', 'i386', 'arm64'],
    args: [
      k('attr', 'struct perf_event_attr *', 'pointer', 'user pointer to the event attributes; eBPF reads their type and config at entry', { kernelName: 'attr_uptr', ...HEX, tags: ['U', 'TOCTOU'] }),
      k('pid', 'pid_t', 'int32', 'process to measure (-1: all processes on cpu)'),
      k('cpu', 'int', 'int32', 'CPU to measure (-1: any CPU)'),
      k('group_fd', 'int', 'int32', 'group leader fd, or -1'),
      k('flags', 'unsigned long', 'uint64', 'PERF_FLAG_* bits', { ...HEX, decoder: 'perf-event-open-flags' }),
    ],
    // type and config (u32 type, u32 size, u64 config): what the event measures
    entryRead: { arg: 'attr', bytes: 16, decoder: 'perf-event-attr' },
    description:
      'Opens a performance-monitoring event; with enough privilege it can watch other processes and the kernel, and attach BPF programs.',
    related: ['ioctl', 'userfaultfd'],
  },
  {
    name: 'userfaultfd',
    nr: 323,
    compatNr: 374,
    sets: ['syscalls', 'system'],
    arches: ['x86_64', 'i386', 'arm64'],
    args: [k('flags', 'int', 'int32', 'O_CLOEXEC, O_NONBLOCK, UFFD_USER_MODE_ONLY', { ...HEX, decoder: 'userfaultfd-flags' })],
    description:
      'Creates a file descriptor for handling page faults in user space; a favourite tool for widening kernel race windows in exploits.',
    related: ['perf_event_open'],
  },
];

export const DEFAULT_EVENTS = ['ioperm', 'iopl'] as const;

const byName = new Map(EVENTS.map((e) => [e.name, e]));

/** A family event, or any other syscall by name (arguments from the kernel's format files). */
export function findEvent(name: string): EventDefinition | undefined {
  return byName.get(name) ?? syscallDefinition(name);
}

/** Every selectable event name: the family first, then every syscall of the table. */
export function allEventNames(): string[] {
  return [...EVENTS.map((e) => e.name), ...syscallNames().filter((n) => !byName.has(n))];
}

/** The sets an event belongs to, without reading any format file. */
export function eventSets(name: string): readonly string[] {
  return byName.get(name)?.sets ?? (isTraceable(name) ? (traceeSets(name) ?? ['syscalls']) : []);
}

/** Every set name some selectable event belongs to (Tracee's sets: syscalls, fs, net, proc, ipc, signals, time, …). */
export function allSets(): string[] {
  return [...new Set(allEventNames().flatMap((n) => eventSets(n)))].sort();
}

/** Names of the 64-bit syscalls that share a number with a compat syscall we watch (101 is ptrace on x86_64). */
export const NATIVE_NAME_BY_NR: Readonly<Record<number, string>> = {
  54: 'setsockopt',
  101: 'ptrace',
  110: 'getppid',
};
