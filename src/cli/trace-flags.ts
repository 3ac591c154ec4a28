import { parseArgs } from 'node:util';
import { UsageError } from '../model/errors.js';
import { DEFAULT_WINDOW_SECONDS } from '../detect/finding-window.js';
import '../sinks/all.js'; // every output kind registered before -o's help text is made
import { outputUsage } from '../sinks/registry.js';
import type { TraceCommandOptions } from './trace-command.js';

/** One flag of trace, in commander's notation (`-e, --events <expr>`, `--explain`, `--no-detect`). */
export interface Flag {
  flags: string;
  description: string;
  /** Every use adds its value to a list (commander's collect). */
  repeatable?: boolean;
  /** Checks and converts a value; throws the UsageError a bad one deserves. */
  parse?: (value: string) => unknown;
  choices?: readonly string[];
  default?: string;
}

export function windowSeconds(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`--finding-window ${v}: expected seconds >= 0 (e.g. 10; 0 prints every finding)`);
  return n;
}

function bufferKb(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 4) throw new UsageError(`--buffer-kb ${v}: expected a whole number of KiB >= 4`);
  return n;
}

export const FINDING_WINDOW_FLAG: Flag = {
  flags: '--finding-window <seconds>',
  description: `a finding repeated (same signature, process, arguments) within this many seconds prints once, then as one summary with the count (default ${DEFAULT_WINDOW_SECONDS}; 0: every finding)`,
  parse: windowSeconds,
};
export const NO_FINDING_WINDOW_FLAG: Flag = { flags: '--no-finding-window', description: 'every finding printed: the same as --finding-window 0' };

/** The flags of trace, the default command: what `--help` lists and what both parsers below read. */
export const TRACE_FLAGS: readonly Flag[] = [
  { flags: '-e, --events <expr>', description: 'events and filters, Tracee syntax: ioperm,iopl | io* | -ioctl | ioperm.data.turn_on=1 | ioperm.retval!=0 | ioperm.scope.comm=x (repeatable)', repeatable: true },
  { flags: '-s, --scope <expr>', description: 'who to trace, Tracee syntax: uid=0 | pid=1234 | pid=new | tree=1 | comm=bash | executable=/usr/bin/x | container | not-container | container=ID | mntns=N | pidns=N | follow (repeatable: AND)', repeatable: true },
  { flags: '--policy <path>', description: 'Tracee Policy YAML file or directory (repeatable; instead of -e/--scope)', repeatable: true },
  { flags: '--explain', description: 'print each filter condition and where it runs (kernel or user space), then exit' },
  { flags: '-o, --output <spec>', description: `where events go (repeatable): ${outputUsage()}`, repeatable: true },
  {
    flags: '--compat <mode>',
    description:
      "32-bit (int $0x80) callers. auto: caught where this kernel runs 32-bit syscalls at all (found out at start), else the cheaper 64-bit-only hooks, said on stderr; on: always; off: 64-bit callers only (32-bit ones then evade). Catching them hooks every syscall's entry (eBPF: +130-190 ns each on the dev VM, against +40-70 ns for the selected tracepoints); see README",
    choices: ['auto', 'on', 'off'],
    default: 'auto',
  },
  { flags: '--no-compat', description: 'the same as --compat off' },
  { flags: '--backend <name>', description: 'auto: eBPF where BPF and BTF work, else tracefs (says which on stderr)', choices: ['auto', 'ebpf', 'tracefs'], default: 'auto' },
  { flags: '--parse-arguments', description: 'replace raw argument values by their decoded names in JSON (ioctl request, flags), as Tracee does; the table always shows names' },
  { flags: '--buffer-kb <n>', description: 'per-CPU kernel buffer in KiB', parse: bufferKb },
  { flags: '--metrics <addr>', description: 'serve Prometheus metrics at HOST:PORT (e.g. 127.0.0.1:9464; a bare PORT binds 127.0.0.1)' },
  { flags: '--detect-only', description: 'print only findings of the detections (they still see every event they need)' },
  { flags: '--no-detect', description: 'run no detections: events only, and only the events asked for' },
  { flags: '--rules <file>', description: 'YAML detection rules: CEL conditions over the event (repeatable; see docs/detections.md)', repeatable: true },
  { flags: '--allow-hw-tool <path>', description: 'a hardware tool allowed raw I/O port access without a WP-005 finding, and never killed by a kill rule (repeatable)', repeatable: true },
  FINDING_WINDOW_FLAG,
  NO_FINDING_WINDOW_FLAG,
  {
    flags: '--kill <expr>',
    description: 'kill the caller of matching calls, decided in the kernel at syscall entry (eBPF), -e grammar: iopl.data.level=3 | ioperm.scope.container | userfaultfd.scope.uid>=1000 (repeatable; a dry run without --enforce; see docs/enforcement.md)',
    repeatable: true,
  },
  { flags: '--enforce', description: 'arm the kill rules (--kill and policy rules with actions: [kill]); without it they only report `would kill`' },
];

/** What commander's opts() holds for trace; the CLI hands it to traceCommand through traceOptionsOf. */
export type TraceFlagValues = Omit<TraceCommandOptions, 'output' | 'compat'> & { output?: string[]; compat: TraceCommandOptions['compat'] | false };

export function traceOptionsOf(values: TraceFlagValues): TraceCommandOptions {
  return { ...values, output: values.output ?? [], compat: values.compat === false ? 'off' : values.compat };
}

interface Parsed {
  /** The long name without dashes (`events`, `no-detect`). */
  long: string;
  short?: string;
  takesValue: boolean;
  /** commander's attribute name: camelCase of the long name, without `no-` for a negation. */
  key: string;
  negate: boolean;
  flag: Flag;
}

const camel = (s: string): string => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

function parsedFlag(flag: Flag): Parsed {
  const m = /^(?:-([a-zA-Z]), )?--([a-z][a-z-]*)(?: <[^>]+>)?$/.exec(flag.flags);
  if (!m) throw new Error(`trace flag "${flag.flags}": not in the form [-x, ]--name[ <value>]`);
  const negate = m[2].startsWith('no-');
  return { long: m[2], short: m[1], takesValue: flag.flags.endsWith('>'), key: camel(negate ? m[2].slice(3) : m[2]), negate, flag };
}

/**
 * The common case without commander: `watchpost` followed by trace flags alone, read with node:util's parseArgs by
 * the same table and rules as commander (values in order, the last use wins, `--no-x` after `--x` and the reverse).
 * Anything else (a command, --help, an unknown flag, a missing or ambiguous value, a choice not offered) returns
 * undefined: commander then reads the line and says what is wrong, exactly as always. Saves loading commander at start.
 */
export function quickTraceFlags(args: readonly string[]): TraceFlagValues | undefined {
  const flags = TRACE_FLAGS.map(parsedFlag);
  const config: NonNullable<Parameters<typeof parseArgs>[0]>['options'] = {};
  for (const f of flags) config[f.long] = { type: f.takesValue ? 'string' : 'boolean', multiple: true, ...(f.short && { short: f.short }) };
  let tokens;
  try {
    tokens = parseArgs({ args: [...args], options: config, strict: true, allowPositionals: false, tokens: true }).tokens;
  } catch {
    return undefined;
  }
  const values: Record<string, unknown> = {};
  for (const f of flags) {
    if (f.flag.default !== undefined) values[f.key] = f.flag.default;
    else if (f.negate && !flags.some((p) => p.key === f.key && !p.negate)) values[f.key] = true; // a lone --no-x defaults x to true
  }
  for (const t of tokens) {
    if (t.kind !== 'option') return undefined; // `--` and the like: commander's to read
    const f = flags.find((x) => x.long === t.name)!;
    if (f.negate) {
      values[f.key] = false;
    } else if (!f.takesValue) {
      values[f.key] = true;
    } else {
      const raw = t.value!;
      if (f.flag.choices && !f.flag.choices.includes(raw)) return undefined;
      const v = f.flag.parse ? f.flag.parse(raw) : raw;
      values[f.key] = f.flag.repeatable ? [...((values[f.key] as unknown[] | undefined) ?? []), v] : v;
    }
  }
  return values as TraceFlagValues;
}
