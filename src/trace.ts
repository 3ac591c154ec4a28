import { EVENTS, findEvent } from './catalog/events.js';
import type { EventDefinition } from './catalog/types.js';
import { createDetector } from './detect/setup.js';
import type { Detector } from './detect/detector.js';
import type { WindowStats } from './detect/finding-window.js';
import { UsageError } from './model/errors.js';
import type { SyscallEvent, TraceStats } from './model/event.js';
import type { Finding } from './model/finding.js';
import type { StatsItem, StreamItem } from './model/stream.js';
import { killRulesOf } from './enforce/kill-rules.js';
import { OutputStage } from './pipeline/output-stage.js';
import { DEFAULT_QUEUE_LIMIT, LivePipeline } from './pipeline/pipeline.js';
import { fieldNamesOf, policySetup, refuseEnforcementMistakes, type Selection } from './pipeline/setup.js';
import { distance } from './policy/problem.js';
import { explainPlan, planKernelFilters, refuseTracefsStrings } from './policy/kernel-plan.js';
import type { BackendChoice } from './probes/open.js';
import type { CompatMode } from './probes/compat-support.js';
import type { Output, OutputStats } from './sinks/output.js';
import './sinks/all.js';
import { createOutputs, planOutputs } from './sinks/registry.js';

export type { SyscallEvent, TraceStats } from './model/event.js';
export type { Finding } from './model/finding.js';
export type { WindowStats } from './detect/finding-window.js';
export type { StatsItem, StreamItem } from './model/stream.js';
export type { CompatMode } from './probes/compat-support.js';
export type { Output, OutputStats } from './sinks/output.js';

export interface TraceOptions {
  /** --scope expressions (Tracee syntax): uid, pid, tree, comm, executable, container, mntns, pidns, follow… */
  scope?: readonly string[];
  /** Tracee Policy YAML files or directories (instead of events/scope). */
  policyFiles?: readonly string[];
  /** eBPF (lowest overhead, context read in the kernel), tracefs, or auto (default): eBPF where BPF and BTF work. */
  backend?: BackendChoice;
  /** -e/--events expressions (Tracee syntax): names, globs, sets, -exclusions, EVENT.data.ARG=…, EVENT.retval…; default ioperm and iopl. */
  events?: readonly string[];
  /**
   * 32-bit (int $0x80) callers: `auto` (default) catches them where this kernel can run them at all, found out at
   * start; `on` always arms the 32-bit hooks (a filtered hook on every syscall); `off` (or false) traces 64-bit callers only.
   */
  compat?: CompatMode | boolean;
  /** Trace only these processes; with followForks (default true) also their new threads and children. */
  pids?: number[];
  followForks?: boolean;
  /** Tracee's parse-arguments: arg values replaced by their decoded names (ioctl request, flags) where known. */
  parseArguments?: boolean;
  /** Tracee's relative-time: timestamps in CLOCK_MONOTONIC ns (since boot) instead of ns since the epoch. */
  relativeTime?: boolean;
  /** Per-CPU kernel buffer size in KiB. */
  bufferKb?: number;
  /** The most memory, in MiB, that holds kernel records while a burst outpaces the pipeline (default: probes/backlog.ts DEFAULT_BACKLOG_MB; 0: none). */
  backlogMb?: number;
  /** How often the kernel buffers are read, in ms (default 5). */
  pollMs?: number;
  /** Events held for a slow consumer before reading pauses (the kernel buffer then absorbs, and counts, the excess). */
  queueLimit?: number;
  /** --kill expressions (-e grammar): calls to kill at syscall entry, in the kernel (eBPF only). */
  kill?: readonly string[];
  /** Arm the kill rules (policy files' `actions: [kill]` and `kill`): without it they only report `would kill`. */
  enforce?: boolean;
  /** Executables kill rules never kill (paths, or names in system directories); detections do not flag them either. */
  allowHwTools?: readonly string[];
  /**
   * Run the detections too (true, or the built-ins' options and rule files): the signatures' events are traced as
   * well (shown only where selected) and findings join the stream, each right after its event.
   */
  detect?: boolean | TraceDetectOptions;
  /**
   * Write the stream to these outputs (`-o` specs such as `json:/var/log/wp.json`, `syslog:udp://…`, or Output
   * objects) instead of iterating it: the trace then runs by itself until stop(), and `finished` resolves once every
   * output flushed and closed.
   */
  outputs?: ReadonlyArray<string | Output>;
  /** With outputs: called with each stats reading (every few seconds, when something changed). */
  onStats?: (s: StatsItem) => void;
  /** With outputs: something else drawing on the terminal stdout prints to (a status line), put away while a batch prints. */
  terminal?: { suspend(): void; resume(): void };
}

export interface TraceDetectOptions {
  /** A detector built beforehand (createDetector): used as it is, the options below that build one are ignored. */
  detector?: Detector;
  /** YAML rule files (Tracee-style signatures with CEL conditions). */
  rules?: readonly string[];
  /** Repeats of a finding (same signature, process, call) within this many seconds become one summary with the count; 0 or false: every finding (default 10). */
  findingWindow?: number | false;
  /** Findings alone in the stream, no events. */
  detectOnly?: boolean;
}

export interface Trace<T extends StreamItem = SyscallEvent> extends AsyncIterable<T> {
  /** Resolves when the probes are attached (events from then on are seen); rejects if they could not be. */
  readonly ready: Promise<void>;
  /** Resolves once stopped, and with outputs once everything was written and the outputs closed. */
  readonly finished: Promise<void>;
  readonly backend: string;
  /** Set when auto fell back to tracefs: why, in one line. */
  readonly backendNote: string | undefined;
  /** Whether 32-bit callers are caught (known once ready). */
  readonly compat: boolean;
  /** Set when the 32-bit choice deserves a word (this kernel runs no 32-bit syscalls): why, in one line. */
  readonly compatNote: string | undefined;
  /** Set when there are kill rules (known once ready): armed or a dry run, in one line. */
  readonly enforcementNote: string | undefined;
  stats(): TraceStats;
  /** With outputs: their counters (stdout's left out), and the ones that dropped events. */
  outputStats(): OutputStats[];
  droppedBy(): OutputStats[];
  /** With detections: findings made so far by signature id, and one line per signature that had trouble. */
  findingCounts(): Record<string, number>;
  /** With detections and a finding window: repeats held back, summaries made, windows open. */
  findingWindow(): WindowStats | undefined;
  detectionProblems(): string[];
  /** The same stream in the batches the kernel buffers were read in (fewer wake-ups for printers). */
  batches(): AsyncIterable<T[]>;
  /** Stops tracing: what is still buffered is delivered, then the iteration ends. */
  stop(): Promise<void>;
}

/** The three nearest names, however far: a library caller always gets a suggestion. */
function nearest(name: string, candidates: readonly string[]): string[] {
  return [...candidates].sort((x, y) => distance(name, x) - distance(name, y)).slice(0, 3);
}

export function resolveEvents(names: readonly string[]): EventDefinition[] {
  const out: EventDefinition[] = [];
  for (const name of names) {
    const e = findEvent(name);
    if (!e) {
      const names = EVENTS.map((x) => x.name);
      throw new UsageError(`unknown event "${name}": did you mean ${nearest(name, names).join(', ')}? (\`watchpost list\` shows them all)`);
    }
    if (!out.includes(e)) out.push(e);
  }
  return out;
}

function selectionOf(options: TraceOptions): Selection {
  return { events: options.events, scope: options.scope, policyFiles: options.policyFiles, kill: options.kill, enforce: options.enforce, allowHwTools: options.allowHwTools, backend: options.backend };
}

/** The detector a trace runs: the one given, or one built from the options; none without `detect`. */
function detectorOf(options: TraceOptions): Promise<Detector> | undefined {
  if (!options.detect) return undefined;
  const d = options.detect === true ? {} : options.detect;
  return d.detector ? Promise.resolve(d.detector) : createDetector({ rules: d.rules, findingWindow: d.findingWindow, allowHwTool: options.allowHwTools });
}

/** The outputs a trace writes to: `-o` specs made into outputs (all at once, as the CLI plans them), objects as given. */
function outputsOf(specs: ReadonlyArray<string | Output>): Output[] {
  const strings = specs.filter((o): o is string => typeof o === 'string');
  const made = strings.length ? createOutputs(planOutputs(strings)) : [];
  return [...made, ...specs.filter((o): o is Output => typeof o !== 'string')];
}

/** Checks events, scope and policy files without tracing: throws the UsageError a bad input deserves. */
export function checkTraceOptions(options: TraceOptions): void {
  const selection = selectionOf(options);
  const setup = policySetup(selection, {});
  refuseTracefsStrings(setup.specs, options.backend);
  const { kill } = killRulesOf(setup.specs, false, { hostMntns: () => 0n }); // the host's namespace is read when tracing starts (root)
  refuseEnforcementMistakes(kill.length, selection);
  for (const o of options.outputs ?? []) if (typeof o === 'string') planOutputs([o]);
}

/** `--explain`: the kernel filter plan (what each backend filters in the kernel, where each condition runs) and the kill rules. */
export function explainTrace(options: TraceOptions): string {
  const setup = policySetup(selectionOf(options), {});
  const plan = planKernelFilters(setup.specs, setup.events);
  const { kill } = killRulesOf(setup.specs, false, { hostMntns: () => 0n });
  const kills = kill.map((r) => `  ${r.policy}: ${r.text}`);
  const enforcement = kills.length ? `\nkill rules, evaluated by the eBPF program at syscall entry (SIGKILL with --enforce, else a dry run that reports \`would kill\`):\n${kills.join('\n')}` : '';
  return `${explainPlan(plan, fieldNamesOf(setup.events))}${enforcement}`;
}

/** A live run seen through the public interface. */
class LiveTrace implements Trace<StreamItem> {
  private readonly pipeline: LivePipeline;
  private readonly outputs: OutputStage | undefined;
  private readonly detector: Promise<Detector> | undefined;
  private detectorNow: Detector | undefined;

  constructor(options: TraceOptions) {
    this.detector = detectorOf(options);
    void this.detector?.then((d) => (this.detectorNow = d)).catch(() => {});
    this.outputs = options.outputs ? new OutputStage(outputsOf(options.outputs), options.onStats, options.terminal) : undefined;
    const mode = options.compat ?? 'auto';
    this.pipeline = new LivePipeline({
      selection: selectionOf(options),
      compat: mode === true ? 'on' : mode === false ? 'off' : mode,
      pids: options.pids,
      followForks: options.followForks ?? true,
      parseArguments: options.parseArguments,
      relativeTime: options.relativeTime,
      bufferKb: options.bufferKb,
      backlogMb: options.backlogMb,
      pollMs: options.pollMs ?? 5,
      queueLimit: options.queueLimit ?? DEFAULT_QUEUE_LIMIT,
      detector: this.detector,
      detectOnly: typeof options.detect === 'object' && options.detect.detectOnly === true,
      outputs: this.outputs,
    });
  }

  get ready(): Promise<void> {
    return this.pipeline.ready;
  }
  get finished(): Promise<void> {
    return this.pipeline.finished;
  }
  get backend(): string {
    return this.pipeline.backend;
  }
  get backendNote(): string | undefined {
    return this.pipeline.backendNote;
  }
  get compat(): boolean {
    return this.pipeline.compat;
  }
  get compatNote(): string | undefined {
    return this.pipeline.compatNote;
  }
  get enforcementNote(): string | undefined {
    return this.pipeline.enforcementNote;
  }
  stats(): TraceStats {
    return this.pipeline.stats();
  }
  outputStats(): OutputStats[] {
    return this.outputs?.stats() ?? [];
  }
  droppedBy(): OutputStats[] {
    return this.outputs?.dropped() ?? [];
  }
  findingCounts(): Record<string, number> {
    return this.detectorNow?.counts() ?? {};
  }
  detectionProblems(): string[] {
    return this.detectorNow?.problems() ?? [];
  }
  findingWindow(): WindowStats | undefined {
    return this.detectorNow?.windowStats();
  }
  stop(): Promise<void> {
    return this.pipeline.stop();
  }
  async *batches(): AsyncIterable<StreamItem[]> {
    if (this.outputs) throw new UsageError('this trace writes to its outputs: iterate a trace made without `outputs`');
    yield* this.pipeline.batches(); // stats readings join the stream only on its way to outputs
  }
  async *[Symbol.asyncIterator](): AsyncIterator<StreamItem> {
    for await (const batch of this.batches()) yield* batch;
  }
}

/**
 * Traces syscalls system-wide (or for the given pids): `for await (const ev of trace({ events: ['ioperm'] }))`.
 * With `detect`, findings come in the stream too, and with kill rules (`kill`, or policy files' `actions: [kill]`)
 * the enforcement findings; with `outputs`, the trace writes there itself.
 */
export function trace(options: TraceOptions & ({ detect: true | TraceDetectOptions } | { kill: readonly string[] } | { policyFiles: readonly string[] })): Trace<SyscallEvent | Finding>;
export function trace(options?: TraceOptions): Trace<SyscallEvent>;
export function trace(options: TraceOptions = {}): Trace<StreamItem> {
  return new LiveTrace(options);
}
