import { UsageError } from '../model/errors.js';
import type { Output } from './output.js';
import { StdoutOutput, type StdoutFormat } from './stdout-output.js';

/** One `KIND:TARGET` value of `-o` (e.g. `json:/var/log/watchpost.jsonl`): builds the output for TARGET. */
export type OutputFactory = (target: string) => Output;

const factories = new Map<string, { factory: OutputFactory; usage: string }>();

/** Output kinds with a target (`KIND:TARGET`); each sink module registers itself here, with the form its help shows. */
export function registerOutput(kind: string, factory: OutputFactory, usage = `${kind}:TARGET`): void {
  factories.set(kind, { factory, usage });
}

const STDOUT_FORMATS: readonly StdoutFormat[] = ['table', 'table-verbose', 'json'];

/** Tracee's `-o option:NAME` values: what each does here, or why it is refused (the message's tail). */
const OPTIONS: Record<string, { set: keyof OutputOptions } | { refuse: string }> = {
  'parse-arguments': { set: 'parseArguments' },
  'relative-time': { set: 'relativeTime' },
  'parse-arguments-fds': { refuse: 'Watchpost does not translate file descriptors to paths; use option:parse-arguments (fds stay numbers)' },
  'stack-addresses': { refuse: 'neither backend captures user stacks (stackAddresses is always []); leave it out' },
  'exec-env': { refuse: 'neither backend reads user memory such as the environment of execve; leave it out' },
  'exec-hash': { refuse: 'Watchpost traces syscalls, not sched_process_exec, and hashes no executables; leave it out (--allow-hw-tool names executables by path)' },
  'sort-events': {
    refuse: "events come in the order the kernel's buffers hand them over (per CPU with tracefs), not re-sorted by timestamp; sort downstream, e.g. jq -s 'sort_by(.timestamp)'",
  },
};

/** Tracee output forms Watchpost does not offer, each with what to use instead. */
const REFUSED_KINDS: Record<string, string> = {
  gob: "gob is Go's own encoding, for Go programs; use -o json",
  gotemplate: 'Go templates need Go; use -o json and a JSON tool (jq) to shape events',
  forward: 'Fluent Forward is not spoken here; use -o webhook:URL (Fluent Bit http input) or -o syslog:…',
};

/** What `-o option:…` values change in the events themselves (the pipeline applies them; the outputs print what they get). */
export interface OutputOptions {
  /** option:parse-arguments: decoded names replace raw argument values in JSON (as --parse-arguments). */
  parseArguments: boolean;
  /** option:relative-time: timestamps in ns since boot (the kernel's clock) instead of wall-clock ns since the epoch. */
  relativeTime: boolean;
}

/** The `-o` values read and checked, nothing opened yet: what --explain validates and createOutputs builds. */
export interface OutputPlan {
  /** One entry per output: a stdout format (no target) or a registered kind and its target. */
  outputs: Array<{ kind: string; target?: string }>;
  options: OutputOptions;
  /** `-o none`: no event stream at all (the summary still goes to stderr). */
  none: boolean;
}

/** One line per accepted form, for `--help`. */
export function outputUsage(): string {
  const kinds = [...factories.entries()].filter(([k]) => k !== 'json').map(([, v]) => v.usage);
  return [
    'table (the default)',
    'table-verbose (adds UTS_NAME CONTAINER_ID MNT_NS PID_NS PPID)',
    'json (JSON lines on stdout)',
    'none (no events, the summary only)',
    'json:FILE[,FILE…]',
    ...kinds,
    `option:${Object.keys(OPTIONS).filter((k) => 'set' in OPTIONS[k]).join(',')} (Tracee's)`,
  ].join(' | ');
}

function knownForms(): string {
  return ['table', 'table-verbose', 'json', 'none', 'json:FILE', ...[...factories.entries()].filter(([k]) => k !== 'json').map(([, v]) => v.usage), 'option:NAME'].join(', ');
}

function readOption(spec: string, name: string, options: OutputOptions): void {
  const base = name.split('=')[0]; // exec-hash=dev-inode
  const entry = OPTIONS[base];
  if (!entry) throw new UsageError(`-o ${spec}: unknown option "${name}"; known: ${Object.keys(OPTIONS).join(', ')}`);
  if ('refuse' in entry) throw new UsageError(`-o ${spec}: not supported: ${entry.refuse}`);
  if (base !== name) throw new UsageError(`-o ${spec}: option:${base} takes no value; write option:${base}`);
  options[entry.set] = true;
}

/** Reads the `-o` values (Tracee's forms: `json:/a,/b`, `none`, `table-verbose`, `option:a,b`); a bad one is a UsageError. */
export function planOutputs(specs: readonly string[]): OutputPlan {
  const plan: OutputPlan = { outputs: [], options: { parseArguments: false, relativeTime: false }, none: false };
  for (const spec of specs) {
    const colon = spec.indexOf(':');
    const kind = colon < 0 ? spec : spec.slice(0, colon);
    const target = colon < 0 ? undefined : spec.slice(colon + 1);
    if (kind === 'option') {
      for (const name of (target ?? '').split(',')) readOption(spec, name, plan.options);
    } else if (kind === 'none' && target === undefined) {
      plan.none = true;
    } else if (target === undefined && (STDOUT_FORMATS as readonly string[]).includes(kind)) {
      plan.outputs.push({ kind });
    } else if (kind === 'table' || kind === 'table-verbose') {
      throw new UsageError(`-o ${spec}: the table goes to stdout only; use -o json:${target} for a file, or redirect stdout (-o ${kind} > FILE)`);
    } else if (REFUSED_KINDS[kind.split('=')[0]]) {
      throw new UsageError(`-o ${spec}: not supported: ${REFUSED_KINDS[kind.split('=')[0]]}`);
    } else if (target !== undefined && factories.has(kind)) {
      if (kind !== 'json') plan.outputs.push({ kind, target });
      else for (const file of target.split(',')) plan.outputs.push({ kind, target: file }); // Tracee's json:/a,/b
    } else {
      throw new UsageError(`-o ${spec}: unknown output; use one of ${knownForms()}`);
    }
  }
  if (plan.none && plan.outputs.length) throw new UsageError(`-o none: cannot be combined with other outputs (${specs.filter((s) => s !== 'none' && !s.startsWith('option:')).join(', ')}); drop one`);
  if (!plan.none && !plan.outputs.length) plan.outputs.push({ kind: 'table' });
  return plan;
}

/** Opens the planned outputs (files, connections). */
export function createOutputs(plan: OutputPlan): Output[] {
  return plan.outputs.map(({ kind, target }) => (target === undefined ? new StdoutOutput(kind as StdoutFormat) : factories.get(kind)!.factory(target)));
}

/** The output one `-o` value names (`table`, `json:/a`, `webhook:URL`…), e.g. for a library user or a test. */
export function createOutput(spec: string): Output {
  const plan = planOutputs([spec]);
  if (plan.outputs.length !== 1 || spec.startsWith('option:')) throw new UsageError(`-o ${spec}: names ${plan.outputs.length} outputs; give one output`);
  return createOutputs(plan)[0];
}
