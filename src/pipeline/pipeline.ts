/**
 * The data path of a live run, in the order data flows; each stage is one module with one job:
 *
 *   read    read-stage.ts     the probe's kernel buffers, polled, read only as far as the consumer has room
 *   decode  probes/*          records to syscalls, in the probe that knows its record format
 *   pair    probes/*          entry with exit (tracefs pairs in user space; eBPF in the kernel)
 *   enrich  to-event.ts       process, container, pod, ports, errno: a Tracee-shaped event
 *   policy  policy-stage.ts   the policies that want the event, or filtered (counted)
 *   detect  detect-stage.ts   the event if shown, then its findings
 *   outputs output-stage.ts   every output gets every batch (or the library caller iterates them)
 *
 * Stats (counters.ts) count along the way; setup.ts turns options into the policies, kill rules and probe options.
 * Replay (cli/replay.ts) runs the same policy, detect and output stages after its own decode.
 */
import type { Detector } from '../detect/detector.js';
import { enforcementFinding } from '../detect/enforcement.js';
import { agentHost } from '../enrich/agent-host.js';
import { liveContainerIds } from '../enrich/container.js';
import { listProcesses } from '../enrich/proc.js';
import { ProcessTree } from '../enrich/process-tree.js';
import type { KillRule } from '../enforce/kill-rules.js';
import type { SyscallEvent, TraceStats } from '../model/event.js';
import type { StatsItem, StreamItem } from '../model/stream.js';
import { planKernelFilters, probeFilters, refuseTracefsStrings, stringFilterOf } from '../policy/kernel-plan.js';
import { decideCompat, type CompatMode } from '../probes/compat-support.js';
import { openProbe } from '../probes/open.js';
import { sweepLeftovers } from '../probes/tracefs/instance.js';
import type { CompletedSyscall, ProbeOptions, TaskEvent } from '../probes/types.js';
import { EpochClock } from './clock.js';
import { Counters } from './counters.js';
import { DetectStage } from './detect-stage.js';
import type { OutputStage } from './output-stage.js';
import { PolicyStage, subjectOf, usesScopeFlag } from './policy-stage.js';
import { ReadStage } from './read-stage.js';
import { enforcementOf, policySetup, type Selection } from './setup.js';
import { EventBuilder } from './to-event.js';

export interface PipelineOptions {
  selection: Selection;
  compat: CompatMode;
  pids?: number[];
  followForks: boolean;
  parseArguments?: boolean;
  relativeTime?: boolean;
  bufferKb?: number;
  backlogMb?: number;
  pollMs: number;
  queueLimit: number;
  /** Detections: their signatures' events are traced too (hidden unless asked for); findings join the stream. */
  detector?: Promise<Detector>;
  /** --detect-only: findings alone. */
  detectOnly?: boolean;
  /** Set: the pipeline writes every batch there itself (with a stats reading every few seconds); unset: the caller iterates. */
  outputs?: OutputStage;
}

/**
 * Events held between the kernel and a consumer, and so the most one batch carries: bounded, so memory stays flat
 * whatever the event rate. Small enough that a batch's events die young: on the capacity replay (eBPF ioctl storm, one
 * core) 1024 gave 1.9x the events per CPU second of 4096, whose events outlived young-generation collections and were
 * copied by each (garbage collection fell from 36 % to 12 % of the profile). 512 took peak RSS at 100k ioperm/s from
 * 83.8/83.3 to 76.8/76.5 MB on eBPF and 76.0/76.2 to 73.2/73.1 MB on tracefs (bench --rss, two A/B rounds), for ~5-9 %
 * of the eBPF capacity (bench --capacity; tracefs unchanged within noise).
 */
export const DEFAULT_QUEUE_LIMIT = 512;

/** How often a stats reading joins the stream to the outputs. */
const STATS_EVERY_MS = 5000;
/** How often finding windows are checked for their end when no event comes. */
const WINDOW_TICK_MS = 1000;

/** One live run: the stages above wired together. */
export class LivePipeline {
  readonly ready: Promise<void>;
  /** Resolves once stopped and, with outputs, once every batch was written and the outputs closed. */
  readonly finished: Promise<void>;
  backend = 'tracefs';
  backendNote: string | undefined;
  compat = false;
  compatNote: string | undefined;
  enforcementNote: string | undefined;
  private reader: ReadStage | undefined;
  private queue: StreamItem[] = [];
  private waiter: (() => void) | undefined;
  private done = false;
  /** stop() came while the probes were still being attached: undo them as soon as they are. */
  private stopRequested = false;
  private failure: unknown;
  private readonly counters = new Counters();
  private readonly tree = new ProcessTree();
  private readonly enrich: EventBuilder;
  private policy = new PolicyStage(undefined, this.counters);
  private detect = new DetectStage(undefined, () => false);
  private killRules: KillRule[] = [];
  private containersAtStart = new Set<string>();
  private statsTimer: NodeJS.Timeout | undefined;
  private windowTimer: NodeJS.Timeout | undefined;
  private readonly clock: EpochClock;
  private readonly onTask = (t: TaskEvent): void => this.tree.onTask(t);
  private markStopped: () => void = () => {};
  private readonly stopped = new Promise<void>((resolve) => (this.markStopped = resolve));

  /** Hot path: enrich → policy → detect, appending to the queue the consumer takes in batches. */
  private readonly onSyscall = (s: CompletedSyscall): void => {
    const ev = this.enrich.build(s);
    if (ev.hostProcessId === process.pid) return; // never report ourselves
    if (s.enforcement) return this.enforced(s.enforcement, ev);
    if (!this.policy.admit(ev)) return;
    this.detect.run(ev, this.queue);
  };

  constructor(private readonly options: PipelineOptions) {
    this.clock = new EpochClock(options.relativeTime);
    this.enrich = new EventBuilder(this.clock, (tid) => this.tree.lookup(tid), { parseArguments: options.parseArguments });
    this.ready = this.start();
    this.ready.catch(() => {}); // surfaced through iteration (or finished) too
    this.finished = options.outputs ? this.pump(options.outputs) : this.ready.then(() => this.stopped); // a failed start rejects it
    this.finished.catch(() => {});
  }

  /** Decided in the kernel: the call and what was done to it are always delivered, whatever the policies say. */
  private enforced(e: NonNullable<CompletedSyscall['enforcement']>, ev: SyscallEvent): void {
    const rule = this.killRules[e.rule];
    const action = e.killed ? 'killed' : 'would kill';
    this.counters.enforced(action, rule.policy);
    this.policy.mark(ev);
    if (!ev.matchedPolicies.includes(rule.policy)) ev.matchedPolicies = [...ev.matchedPolicies, rule.policy];
    this.counters.deliver(ev.eventName);
    this.queue.push(ev, enforcementFinding(ev, action, rule.text, rule.policy));
  }

  private async start(): Promise<void> {
    try {
      const detector = await this.options.detector;
      const host = agentHost; // WATCHPOST_HOSTNAME under the DaemonSet (the pod's UTS name is not the node's)
      const setup = policySetup({ ...this.options.selection, detectEvents: detector?.events() }, {
        parentOf: (pid) => {
          const p = this.tree.lookup(pid);
          return p ? subjectOf(p, host) : undefined;
        },
        startedAtNs: Date.now() * 1e6,
        isNewContainer: (s) => !this.containersAtStart.has(s.containerId), // container=new: not alive when tracing began
      });
      refuseTracefsStrings(setup.specs, this.options.selection.backend);
      this.policy = new PolicyStage(setup.policies, this.counters);
      const hidden = this.options.detectOnly ? () => true : (name: string) => setup.hidden.has(name);
      this.detect = new DetectStage(detector, hidden);
      this.counters.select(setup.events.map((e) => e.name));
      const decision = decideCompat(this.options.compat);
      this.compat = decision.compat;
      this.compatNote = decision.note;
      const enforce = await enforcementOf(setup.specs, this.options.selection, decision.compat);
      this.killRules = enforce?.rules ?? [];
      if (enforce) {
        this.counters.enforce();
        const n = `${this.killRules.length} kill rule${this.killRules.length === 1 ? '' : 's'}`;
        this.enforcementNote = enforce.probe.armed ? `${n} armed: matching callers get SIGKILL at syscall entry` : `${n} in dry run: matching calls are reported as \`would kill\`; --enforce arms them`;
      }
      const probeOptions: ProbeOptions = {
        events: setup.events,
        compat: decision.compat,
        pids: this.options.pids,
        followForks: this.options.followForks,
        excludePids: [process.pid],
        bufferKb: this.options.bufferKb,
        backlogBytes: this.options.backlogMb === undefined ? undefined : this.options.backlogMb * 1024 * 1024,
        lifecycle: true,
        ...probeFilters(planKernelFilters(setup.specs, setup.events)),
        enforce: enforce?.probe,
      };
      sweepLeftovers();
      const strings = stringFilterOf(setup.specs);
      const opened = await openProbe(this.options.selection.backend ?? 'auto', probeOptions, strings && `${strings.text} needs the string's text`);
      this.reader = new ReadStage(opened.probe, {
        onSyscall: this.onSyscall,
        onTask: this.onTask,
        room: () => this.options.queueLimit - this.queue.length,
        onRead: () => {
          if (this.queue.length) this.wake();
        },
        onError: (err) => {
          this.failure = err;
          void this.stop();
        },
      });
      this.backendNote = opened.note;
      this.backend = opened.probe.backend;
      this.tree.seed(); // after the probe records fork/exec/exit, so no task falls between the scan and the records
      if (usesScopeFlag(setup.specs, 'container-new')) this.containersAtStart = liveContainerIds(listProcesses());
      if (!this.stopRequested) this.reader.start(this.options.pollMs);
      if (this.options.outputs && !this.stopRequested) this.statsTimer = setInterval(() => this.reading(false), STATS_EVERY_MS);
      if (detector?.windowStats() && !this.stopRequested) this.windowTimer = setInterval(() => this.closeWindows(), WINDOW_TICK_MS);
    } catch (err) {
      this.failure = err;
      this.done = true;
      this.wake();
      throw err;
    }
  }

  /** Summaries of finding windows that ended while no event came to close them (the events' clock). */
  private closeWindows(): void {
    const before = this.queue.length;
    this.detect.tick(this.clock.toEpoch(Number(process.hrtime.bigint())), this.queue); // hrtime: CLOCK_MONOTONIC, the probes' clock
    if (this.queue.length > before) this.wake();
  }

  private lastReading = '';

  /** A stats reading into the stream, when something changed since the last one. */
  private reading(final: boolean): void {
    const stats = this.stats();
    const key = JSON.stringify(stats);
    if (!final && key === this.lastReading) return;
    this.lastReading = key;
    const item: StatsItem = { stats, final };
    this.queue.push(item);
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  stats(): TraceStats {
    return this.counters.stats(this.reader?.losses(), this.reader?.backlog());
  }

  /** The detections' finding window: what it held back and summarised (undefined without one). */
  windowStats(): ReturnType<Detector['windowStats']> {
    return this.detect.detector?.windowStats();
  }

  async stop(): Promise<void> {
    if (!this.reader && !this.done) {
      this.stopRequested = true;
      await this.ready.catch(() => {}); // still attaching: let it finish, then undo it below
    }
    if (this.statsTimer) clearInterval(this.statsTimer);
    if (this.windowTimer) clearInterval(this.windowTimer);
    this.statsTimer = this.windowTimer = undefined;
    if (!this.done) await (this.finishing ??= this.finishReading());
    this.markStopped();
    this.wake();
  }

  private finishing: Promise<void> | undefined;

  /**
   * What is still buffered handed over and the probe closed. With outputs, a queue's worth at a time while the pump
   * writes (memory at stop as bounded as while tracing); a library caller may stop before it iterates, so it gets all
   * of it at once.
   */
  private async finishReading(): Promise<void> {
    try {
      if (this.options.outputs && this.reader) await this.reader.finishInParts(() => this.roomMade());
      else this.reader?.finish();
      this.detect.flush(this.queue); // the summaries of windows still open
    } finally {
      this.done = true;
      this.markStopped();
      this.wake();
    }
  }

  private roomWaiters: Array<(more: boolean) => void> = [];
  private consumerGone = false;

  /** Resolves once the consumer has handled a batch (true), or with false when it stopped iterating. */
  private roomMade(): Promise<boolean> {
    if (this.consumerGone) return Promise.resolve(false);
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  private madeRoom(more: boolean): void {
    for (const resolve of this.roomWaiters.splice(0)) resolve(more);
  }

  /** The stream in the batches the kernel buffers were read in (fewer wake-ups for printers). */
  async *batches(): AsyncGenerator<StreamItem[]> {
    await this.ready;
    try {
      for (;;) {
        if (this.queue.length) {
          // at most a queue's worth at a time: what a library caller's stop() drains at once reaches it in parts
          const limit = this.options.queueLimit;
          const batch = this.queue.length <= limit ? this.queue : this.queue.slice(0, limit);
          this.queue = batch === this.queue ? [] : this.queue.slice(limit);
          if (this.reader?.saturated) setImmediate(() => this.reader?.tick()); // more is waiting in the kernel: read on as soon as there is room
          yield batch;
          this.madeRoom(true); // handled: a stop handing over the backlog reads on
          continue;
        }
        if (this.failure) throw this.failure;
        if (this.done) return;
        await new Promise<void>((resolve) => (this.waiter = resolve));
      }
    } finally {
      this.consumerGone = true;
      this.madeRoom(false);
    }
  }

  /** With outputs: every batch written, then the outputs closed with the final stats. */
  private async pump(outputs: OutputStage): Promise<void> {
    try {
      for await (const batch of this.batches()) {
        await outputs.write(batch);
        if (outputs.allGone) void this.stop(); // `watchpost | head` ended
      }
    } finally {
      await this.stop();
      await outputs.close(this.stats());
    }
  }

}
