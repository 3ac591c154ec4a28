import { DEFAULT_EVENTS, EVENTS, findEvent } from './catalog/events.js';
import type { EventDefinition } from './catalog/types.js';
import { EnvironmentError, UsageError } from './model/errors.js';
import type { SyscallEvent, TraceStats } from './model/event.js';
import { guardSignals, trackForCleanup } from './pipeline/cleanup.js';
import { EpochClock } from './pipeline/clock.js';
import { EventBuilder } from './pipeline/to-event.js';
import { applyPolicies, setupPolicies, subjectOf, usesScopeFlag, type PolicySetup } from './pipeline/policy-stage.js';
import type { Policies, PolicyEnvironment } from './policy/policy.js';
import { distance } from './policy/problem.js';
import { explainPlan, planKernelFilters, probeFilters, refuseTracefsStrings, stringFilterOf } from './policy/kernel-plan.js';
import type { PolicySpec } from './policy/spec.js';
import { syscallArgFieldNames } from './catalog/kernel-syscalls.js';
import { mountedTracefsRoot } from './probes/tracefs/tracefs-root.js';
import { sweepLeftovers } from './probes/tracefs/instance.js';
import { ProcessTree } from './enrich/process-tree.js';
import { openProbe, TRACEFS_CANNOT_ENFORCE, type BackendChoice } from './probes/open.js';
import { decideCompat, type CompatMode } from './probes/compat-support.js';
import type { CompletedSyscall, Probe, ProbeOptions, TaskEvent } from './probes/types.js';
import { agentHost } from './enrich/agent-host.js';
import { allowedExecutables, type KillRule, killRulesOf, procHost } from './enforce/kill-rules.js';
import { enforcementFinding, type EnforcementAction } from './detect/enforcement.js';
import { liveContainerIds } from './enrich/container.js';
import { listProcesses } from './enrich/proc.js';

export type { SyscallEvent, TraceStats } from './model/event.js';
export type { CompatMode } from './probes/compat-support.js';

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
  /** How often the kernel buffers are read, in ms (default 5). */
  pollMs?: number;
  /** Events held for a slow consumer before reading pauses (the kernel buffer then absorbs, and counts, the excess). */
  queueLimit?: number;
  /** --kill expressions (-e grammar): calls to kill at syscall entry, in the kernel (eBPF only). */
  kill?: readonly string[];
  /** Arm the kill rules (policy files' `actions: [kill]` and `kill`): without it they only report `would kill`. */
  enforce?: boolean;
  /** Executables kill rules never kill (paths, or names in system directories). */
  allowHwTools?: readonly string[];
}

export interface Trace extends AsyncIterable<SyscallEvent> {
  /** Resolves when the probes are attached (events from then on are seen); rejects if they could not be. */
  readonly ready: Promise<void>;
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
  /** The same events in the batches the kernel buffers were read in (fewer wake-ups for printers). */
  batches(): AsyncIterable<SyscallEvent[]>;
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

class LiveTrace implements Trace {
  readonly ready: Promise<void>;
  backend = 'tracefs';
  backendNote: string | undefined;
  compat = false;
  compatNote: string | undefined;
  private probe: Probe | undefined;
  private queue: SyscallEvent[] = [];
  private waiter: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private done = false;
  /** stop() came while the probes were still being attached: undo them as soon as they are. */
  private stopRequested = false;
  private failure: unknown;
  private readonly delivered: Record<string, number> = {};
  private untrack: (() => void) | undefined;
  private readonly tree = new ProcessTree();
  private readonly builder: EventBuilder;
  private readonly onTask = (t: TaskEvent): void => this.tree.onTask(t);
  private policies: Policies | undefined;
  private readonly filtered: Record<string, number> = {};
  private readonly host = agentHost; // WATCHPOST_HOSTNAME under the DaemonSet (the pod's UTS name is not the node's)
  private containersAtStart = new Set<string>();
  private killRules: KillRule[] = [];
  enforcementNote: string | undefined;
  private readonly enforcements: Record<EnforcementAction, Record<string, number>> = { killed: {}, 'would kill': {} };
  private readonly emit = (s: CompletedSyscall): void => {
    const ev = this.builder.build(s);
    if (ev.hostProcessId === process.pid) return; // never report ourselves
    if (s.enforcement) {
      // Decided in the kernel: the call and what was done to it are always delivered.
      const rule = this.killRules[s.enforcement.rule];
      const action: EnforcementAction = s.enforcement.killed ? 'killed' : 'would kill';
      const byPolicy = this.enforcements[action];
      byPolicy[rule.policy] = (byPolicy[rule.policy] ?? 0) + 1;
      if (this.policies) applyPolicies(this.policies, ev);
      if (!ev.matchedPolicies?.includes(rule.policy)) ev.matchedPolicies = [...(ev.matchedPolicies ?? []), rule.policy];
      this.delivered[ev.eventName] = (this.delivered[ev.eventName] ?? 0) + 1;
      this.queue.push(ev, enforcementFinding(ev, action, rule.text, rule.policy));
      return;
    }
    if (this.policies && !applyPolicies(this.policies, ev)) {
      this.filtered[ev.eventName] = (this.filtered[ev.eventName] ?? 0) + 1;
      return;
    }
    this.delivered[ev.eventName] = (this.delivered[ev.eventName] ?? 0) + 1;
    this.queue.push(ev);
  };

  constructor(private readonly options: TraceOptions) {
    this.builder = new EventBuilder(new EpochClock(options.relativeTime), (tid) => this.tree.lookup(tid), { parseArguments: options.parseArguments });
    this.ready = this.start();
    this.ready.catch(() => {}); // surfaced through iteration too
  }

  private async start(): Promise<void> {
    try {
      const setup = policySetup(this.options, {
        parentOf: (pid) => {
          const p = this.tree.lookup(pid);
          return p ? subjectOf(p, this.host) : undefined;
        },
        startedAtNs: Date.now() * 1e6,
        isNewContainer: (s) => !this.containersAtStart.has(s.containerId), // container=new: not alive when tracing began
      });
      refuseTracefsStrings(setup.specs, this.options.backend);
      this.policies = setup.policies;
      const events = setup.events;
      for (const e of events) this.delivered[e.name] = 0;
      const mode = this.options.compat ?? 'auto';
      const decision = decideCompat(mode === true ? 'on' : mode === false ? 'off' : mode);
      this.compat = decision.compat;
      this.compatNote = decision.note;
      const enforce = await enforcementOf(setup.specs, this.options, decision.compat);
      this.killRules = enforce?.rules ?? [];
      const n = `${this.killRules.length} kill rule${this.killRules.length === 1 ? '' : 's'}`;
      if (enforce) this.enforcementNote = enforce.probe.armed ? `${n} armed: matching callers get SIGKILL at syscall entry` : `${n} in dry run: matching calls are reported as \`would kill\`; --enforce arms them`;
      const probeOptions: ProbeOptions = {
        events,
        compat: decision.compat,
        pids: this.options.pids,
        followForks: this.options.followForks ?? true,
        excludePids: [process.pid],
        bufferKb: this.options.bufferKb,
        lifecycle: true,
        ...probeFilters(planKernelFilters(setup.specs, events)),
        enforce: enforce?.probe,
      };
      sweepLeftovers();
      const strings = stringFilterOf(setup.specs);
      const opened = await openProbe(this.options.backend ?? 'auto', probeOptions, strings && `${strings.text} needs the string's text`);
      this.probe = opened.probe;
      this.backendNote = opened.note;
      this.tree.seed(); // after the probe records fork/exec/exit, so no task falls between the scan and the records
      if (usesScopeFlag(setup.specs, 'container-new')) this.containersAtStart = liveContainerIds(listProcesses());
      this.backend = this.probe.backend;
      this.untrack = trackForCleanup(this.probe);
      if (!this.stopRequested) this.timer = setInterval(() => this.tick(), this.options.pollMs ?? 5);
    } catch (err) {
      this.failure = err;
      this.done = true;
      this.wake();
      throw err;
    }
  }

  /** Reads the kernel buffers, never more than the queue has room for: what a slow consumer cannot take stays in the kernel, which counts what it then loses. */
  private tick(): void {
    if (!this.probe || this.done) return;
    const room = (this.options.queueLimit ?? DEFAULT_QUEUE_LIMIT) - this.queue.length;
    if (room <= 0) return;
    try {
      this.saturated = this.probe.drain(this.emit, this.onTask, room) >= room;
    } catch (err) {
      this.failure = err;
      void this.stop();
    }
    if (this.queue.length) this.wake();
  }

  private saturated = false;

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  stats(): TraceStats {
    const losses = this.probe?.losses() ?? { byReason: {}, byEvent: {} };
    const lostByEvent: Record<string, number> = {};
    for (const name of Object.keys(this.delivered)) lostByEvent[name] = losses.byEvent[name] ?? 0;
    let lostRecords = 0;
    for (const [reason, n] of Object.entries(losses.byReason)) if (!reason.includes('in progress at stop')) lostRecords += n;
    const filtered: Record<string, number> = { ...this.filtered };
    for (const [name, n] of Object.entries(losses.filteredByEvent ?? {})) filtered[name] = (filtered[name] ?? 0) + n;
    let lostEvents = losses.eventsLost;
    if (lostEvents === undefined) {
      lostEvents = 0;
      for (const n of Object.values(losses.byEvent)) lostEvents += n;
    }
    const out: TraceStats = { delivered: { ...this.delivered }, lostByEvent, lostRecords, lostEvents, lostByReason: { ...losses.byReason }, filtered, filteredInKernel: { ...losses.filteredByEvent } };
    if (this.killRules.length) out.enforcements = { killed: { ...this.enforcements.killed }, 'would kill': { ...this.enforcements['would kill'] } };
    return out;
  }

  async stop(): Promise<void> {
    if (!this.probe && !this.done) {
      this.stopRequested = true;
      await this.ready.catch(() => {}); // still attaching: let it finish, then undo it below
    }
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const probe = this.probe;
    if (probe && !this.done) {
      this.done = true;
      try {
        if (probe.finish) probe.finish(this.emit, this.onTask);
        else {
          probe.drain(this.emit, this.onTask);
          probe.close();
        }
      } finally {
        probe.close();
        this.untrack?.();
      }
    }
    this.done = true;
    this.wake();
  }

  async *batches(): AsyncIterable<SyscallEvent[]> {
    await this.ready;
    for (;;) {
      if (this.queue.length) {
        const batch = this.queue;
        this.queue = [];
        if (this.saturated) setImmediate(() => this.tick()); // more is waiting in the kernel: read on as soon as there is room
        yield batch;
        continue;
      }
      if (this.failure) throw this.failure;
      if (this.done) return;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<SyscallEvent> {
    for await (const batch of this.batches()) yield* batch;
  }
}

function policySetup(options: TraceOptions, env: PolicyEnvironment): PolicySetup {
  return setupPolicies({ events: options.events, scope: options.scope, policyFiles: options.policyFiles, kill: options.kill }, DEFAULT_EVENTS, env);
}

/** The kill rules for the probe, or undefined without any; a rule the kernel cannot evaluate, or deny here, throws. */
async function enforcementOf(specs: readonly PolicySpec[], options: TraceOptions, compat: boolean): Promise<{ rules: KillRule[]; probe: NonNullable<ProbeOptions['enforce']> } | undefined> {
  const { kill, deny } = killRulesOf(specs, compat, procHost);
  if (deny.length) {
    const { probeLsm } = await import('./probes/ebpf/lsm.js');
    const lsm = probeLsm('locked_down');
    throw new EnvironmentError(
      lsm.ok
        ? `${deny[0]}: deny is not implemented yet (this kernel does let BPF LSM programs attach); use actions: [kill]`
        : `${deny[0]}: deny needs BPF LSM programs, which this kernel refuses (${lsm.reason}); use actions: [kill] (see \`watchpost doctor\`)`,
    );
  }
  refuseEnforcementMistakes(kill.length, options);
  if (kill.length === 0) return undefined;
  return { rules: kill, probe: { rules: kill.map((r) => r.kernel), armed: options.enforce === true, allowExecutables: allowedExecutables(options.allowHwTools ?? []) } };
}

/** The kernel's argument field names, for --explain: from tracefs where it is mounted (never mounting it), else the catalog's. */
function fieldNamesOf(events: readonly EventDefinition[]): Record<string, string[]> {
  const root = mountedTracefsRoot();
  const fromKernel = root ? syscallArgFieldNames(root, events.map((e) => e.name)) : {};
  for (const e of events) fromKernel[e.name] ??= e.args.map((a) => a.aliases?.[0] ?? a.name); // an alias is the kernel's name where it differs
  return fromKernel;
}

/** Checks events, scope and policy files without tracing: throws the UsageError a bad input deserves. */
export function checkTraceOptions(options: TraceOptions): void {
  const setup = policySetup(options, {});
  refuseTracefsStrings(setup.specs, options.backend);
  const { kill } = killRulesOf(setup.specs, false, { hostMntns: () => 0n }); // the host's namespace is read when tracing starts (root)
  refuseEnforcementMistakes(kill.length, options);
}

/** The usage errors of kill rules, for checkTraceOptions (before the root check) and for trace() alike. */
function refuseEnforcementMistakes(rules: number, options: TraceOptions): void {
  if (options.enforce && rules === 0) throw new UsageError('--enforce: no rule to enforce; add --kill EXPR or a policy rule with actions: [kill]');
  if (rules > 0 && options.backend === 'tracefs') throw new UsageError(TRACEFS_CANNOT_ENFORCE);
}

/** `--explain`: the kernel filter plan (what each backend filters in the kernel, where each condition runs) and the kill rules. */
export function explainTrace(options: TraceOptions): string {
  const setup = policySetup(options, {});
  const plan = planKernelFilters(setup.specs, setup.events);
  const { kill } = killRulesOf(setup.specs, false, { hostMntns: () => 0n });
  const kills = kill.map((r) => `  ${r.policy}: ${r.text}`);
  const enforcement = kills.length ? `\nkill rules, evaluated by the eBPF program at syscall entry (SIGKILL with --enforce, else a dry run that reports \`would kill\`):\n${kills.join('\n')}` : '';
  return `${explainPlan(plan, fieldNamesOf(setup.events))}${enforcement}`;
}

/** Events held between the kernel and a consumer: bounded, so memory stays flat whatever the event rate. */
const DEFAULT_QUEUE_LIMIT = 4_096;

/** Traces syscalls system-wide (or for the given pids): `for await (const ev of trace({ events: ['ioperm'] }))`. */
export function trace(options: TraceOptions = {}): Trace {
  return new LiveTrace(options);
}
