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
}

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
