/** Argument tags, as Tracee's event pages define them. */
export type ArgTag = 'K' | 'U' | 'TOCTOU' | 'OPT';

/** Tracee's JSON type names for argument values. */
export type ArgType = 'int32' | 'uint32' | 'int64' | 'uint64' | 'pointer';

/**
 * An event's arg type: the catalog's, or `string` for a string arg whose text was read from user memory (eBPF);
 * the catalog types such an arg by its record slot, `pointer` (the address).
 */
export type EventArgType = ArgType | 'string';

export interface ArgDefinition {
  name: string;
  /** The C type in the kernel's syscall prototype. */
  kernelType: string;
  type: ArgType;
  tags: ArgTag[];
  description: string;
  /** Tracee's type name when it says more than `type`: `string`, `[]string`, `SockAddr`, `uint16`, … */
  traceeType?: string;
  /** Other names filters and recordings may use: the kernel's format-file name where Tracee's differs (openat's `filename`). */
  aliases?: string[];
  /** How tables print the number: `hex` for addresses, bit masks and request codes; absent, decimal. */
  display?: 'hex';
  /** Names for the value (decoded, parse-arguments), by the decoder src/enrich/details.ts implements under this key. */
  decoder?: ArgDecoder;
}

/** Decoders of a numeric argument into a name, e.g. ioctl's request 0x5413 -> TIOCGWINSZ. */
export type ArgDecoder = 'ioctl-request' | 'userfaultfd-flags' | 'perf-event-open-flags';

/** Decoders of a struct the probe copied from user memory at entry, e.g. perf_event_attr -> "type=… config=…". */
export type StructDecoder = 'perf-event-attr';

/** Bytes of user memory a probe record holds for an entry read (the eBPF record's fixed slot). */
export const ENTRY_READ_MAX = 16;

/**
 * A struct behind a pointer arg, copied at syscall entry (eBPF) before the caller can change it: the first `bytes`
 * bytes, decoded into the event's `decoded[arg]`.
 */
export interface EntryRead {
  arg: string;
  bytes: number;
  decoder: StructDecoder;
}

/**
 * The I/O ports a call asks for, named by its args: a range of ports with the arg that grants (non-zero) or revokes
 * it (ioperm), or an I/O privilege level, where 3 opens every port (iopl).
 */
export type PortRequest = { kind: 'range'; from: string; num: string; grant: string } | { kind: 'level'; level: string };

export interface EventDefinition {
  name: string;
  /** x86_64 syscall number; Tracee uses it as the event id. */
  nr: number;
  /** i386 (int $0x80) syscall number, or undefined where the syscall has no compat entry. */
  compatNr?: number;
  sets: string[];
  args: ArgDefinition[];
  /** Architectures where the syscall exists. */
  arches: string[];
  description: string;
  related: string[];
  /** The syscall tracepoints' name when it differs from the syscall's (x86_64 stat is sys_enter_newstat). */
  tracepoint?: string;
  /** The call asks for I/O ports: events get `ports` (their owners on this host) and port signatures apply. */
  ports?: PortRequest;
  /** A struct the eBPF probe reads from user memory at entry. */
  entryRead?: EntryRead;
}

export const TAG_MEANING: Record<ArgTag, string> = {
  K: 'plain value taken from the syscall registers in the kernel',
  U: 'read from user-space memory (a pointer the caller passed)',
  TOCTOU: 'user memory the caller can change between the check and the use',
  OPT: 'optional: may be absent (null)',
};

/** Is the argument a user-memory string (Tracee's `string`), whose text filters compare with = != and * patterns? */
export function isStringArg(arg: ArgDefinition): boolean {
  return arg.traceeType === 'string';
}

/** The argument a filter or a recording names: by its name or one of its aliases. */
export function findArg(args: readonly ArgDefinition[], name: string): number {
  const i = args.findIndex((a) => a.name === name);
  return i >= 0 ? i : args.findIndex((a) => a.aliases?.includes(name));
}
