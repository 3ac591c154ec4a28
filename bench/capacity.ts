/**
 * Pipeline capacity (issue 13): bytes a probe captured during a real storm (bench/capture.ts), fed through the code the
 * live run uses — decode → pair → build event → policy → detect → JSON lines — on one core, so the figure does not
 * depend on how fast this VM makes syscalls. Each replay runs in its own process pinned to the tracer CPU
 * (bench/capacity-replay.ts); one more runs under `node --cpu-prof` for the profile (bench/cpu-profile.ts).
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { findEvent } from '../src/catalog/events.js';
import { createDetector } from '../src/detect/setup.js';
import { agentHost } from '../src/enrich/agent-host.js';
import { ProcessTree } from '../src/enrich/process-tree.js';
import type { StreamItem } from '../src/model/stream.js';
import { Counters } from '../src/pipeline/counters.js';
import { DetectStage } from '../src/pipeline/detect-stage.js';
import { OutputStage } from '../src/pipeline/output-stage.js';
import { policySetup } from '../src/pipeline/setup.js';
import { planKernelFilters, probeFilters } from '../src/policy/kernel-plan.js';
import { EpochClock } from '../src/pipeline/clock.js';
import { DEFAULT_QUEUE_LIMIT } from '../src/pipeline/pipeline.js';
import { PolicyStage, subjectOf } from '../src/pipeline/policy-stage.js';
import { EventBuilder } from '../src/pipeline/to-event.js';
import { decideCompat } from '../src/probes/compat-support.js';
import { drainRecords } from '../src/probes/ebpf/drain.js';
import { RecordDecoder } from '../src/probes/ebpf/record.js';
import { TracefsDecoder } from '../src/probes/tracefs/decoder.js';
import type { CompletedSyscall, ProbeOptions, TaskEvent } from '../src/probes/types.js';
import { StdoutOutput } from '../src/sinks/stdout-output.js';
import { type Backend, type CaptureMeta, captureStorm, CapturedPages, CapturedRecords, loadCapture } from './capture.js';
import { readProfile, topSelfTime, type ProfileTop } from './cpu-profile.js';
import { spread, type Spread } from './measure.js';
import { exited, launch, Lines } from './process.js';
import { DIST, type Syscall } from './tools.js';
import { TRACER_CPU, WORKLOAD_CPU, Workload, type WorkloadName } from './workload.js';

/** What the live run is asked for: `watchpost -o json -e SYSCALL --scope pid=PID`, with or without --no-detect. */
export interface Selection {
  syscall: string;
  pid: number;
  detect: boolean;
}

export interface LivePath {
  /** What the probe is opened with (bufferKb left to the caller). */
  probe: ProbeOptions;
  /** The probe's callbacks, as LiveTrace hands them to drain(). */
  emit: (s: CompletedSyscall) => void;
  onTask: (t: TaskEvent) => void;
  /** Detects and writes what emit queued: one batch, as the CLI's loop over trace.batches() does. */
  flush(): Promise<void>;
  /** Events delivered to the outputs so far (findings not included), events the policies filtered out, lines written. */
  delivered(): number;
  filtered(): number;
  lines(): number;
}

// ─── ADAPTER ─────────────────────────────────────────────────────────────────────────────────────────────────────────
// The live path's stages after the probe, wired as src/pipeline/pipeline.ts wires them (LivePipeline.onSyscall:
// enrich → skip ourselves → policy → detect, then the output stage per batch); nothing else in the capacity benchmark
// depends on how the stages are wired.
export async function livePath(sel: Selection, sink: Writable): Promise<LivePath> {
  const tree = new ProcessTree();
  const detector = sel.detect ? await createDetector({}) : undefined;
  const setup = policySetup({ events: [sel.syscall], scope: [`pid=${sel.pid}`], detectEvents: detector?.events() }, {
    parentOf: (pid) => {
      const p = tree.lookup(pid);
      return p ? subjectOf(p, agentHost) : undefined;
    },
    startedAtNs: Date.now() * 1e6,
  });
  const counters = new Counters();
  const policy = new PolicyStage(setup.policies, counters);
  const detect = new DetectStage(detector, (name) => setup.hidden.has(name));
  const enrich = new EventBuilder(new EpochClock(false), (tid) => tree.lookup(tid), {});
  const stdout = new StdoutOutput('json', sink as unknown as NodeJS.WriteStream);
  const outputs = new OutputStage([stdout]);
  let queue: StreamItem[] = [];
  const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);
  tree.seed();
  return {
    // --scope pid=… pushes no filter into the kernel (see --explain), and no kill rules
    probe: { events: setup.events, compat: decideCompat('auto').compat, followForks: true, excludePids: [process.pid], lifecycle: true, ...probeFilters(planKernelFilters(setup.specs, setup.events)) },
    emit(s) {
      const ev = enrich.build(s);
      if (ev.hostProcessId === process.pid) return;
      if (!policy.admit(ev)) return;
      detect.run(ev, queue);
    },
    onTask: (t) => tree.onTask(t),
    async flush() {
      const batch = queue;
      queue = [];
      await outputs.write(batch);
    },
    delivered: () => sum(counters.delivered),
    filtered: () => sum(counters.filtered),
    lines: () => stdout.stats().sent,
  };
}
// ─── end of ADAPTER ──────────────────────────────────────────────────────────────────────────────────────────────────

/** The records LiveTrace's tick reads at most per drain: its queue limit. */
const DRAIN_BUDGET = DEFAULT_QUEUE_LIMIT;

/** A sink that takes every chunk at once and keeps only the count of bytes (an output faster than any real one). */
function discard(): Writable & { bytes: number } {
  const w = new Writable({
    write(chunk: Buffer, _enc, done) {
      w.bytes += chunk.length;
      done();
    },
  }) as Writable & { bytes: number };
  w.bytes = 0;
  return w;
}

export interface Pass {
  events: number;
  /** Wall-clock and CPU time (user + system, every thread of the process) of the pass. */
  ms: number;
  cpuMs: number;
}

export interface ReplayResult {
  backend: Backend;
  syscall: string;
  detect: boolean;
  passes: Pass[];
  /** Over the timed passes: lines and JSON bytes written per delivered event, events filtered out. */
  linesPerEvent: number;
  bytesPerEvent: number;
  filtered: number;
}

/** Replays a capture `warmup + passes` times through the live path (the decoder's and the path's state carry over, as in a long run). */
export async function replayCapture(dir: string, detect: boolean, passes: number, warmup = 1): Promise<ReplayResult> {
  const { meta, source } = loadCapture(dir);
  const sink = discard();
  const path = await livePath({ syscall: meta.syscall, pid: meta.workloadPid, detect }, sink);
  const events = meta.events.map((n) => findEvent(n)!);
  let drain: (emit: (s: CompletedSyscall) => void, onTask: (t: TaskEvent) => void, budget: number) => number;
  if (source instanceof CapturedRecords) {
    const decoder = new RecordDecoder(events);
    drain = (emit, onTask, budget) => drainRecords(source, decoder, emit, onTask, meta.lifecycle, budget);
  } else {
    const t = meta.tracefs!;
    const decoder = new TracefsDecoder(events, t.handlers, t.cpus.length, new Set(t.kernelFiltered));
    drain = (emit, onTask, budget) => decoder.drain(source as CapturedPages, emit, onTask, budget);
  }
  const out: Pass[] = [];
  const at = { lines: 0, bytes: 0, filtered: 0 };
  for (let p = 0; p < warmup + passes; p++) {
    if (p === warmup) Object.assign(at, { lines: path.lines(), bytes: sink.bytes, filtered: path.filtered() });
    source.rewind();
    const delivered = path.delivered();
    const start = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    while (!source.done) {
      drain(path.emit, path.onTask, DRAIN_BUDGET);
      await path.flush();
      await new Promise<void>((resolve) => setImmediate(resolve)); // the live loop reads again from setImmediate: callbacks the outputs queued (write done, buffer back to the pool) run in between
    }
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    const used = process.cpuUsage(cpu);
    if (p >= warmup) out.push({ events: path.delivered() - delivered, ms, cpuMs: (used.user + used.system) / 1000 });
  }
  const total = out.reduce((n, x) => n + x.events, 0);
  return {
    backend: meta.backend,
    syscall: meta.syscall,
    detect,
    passes: out,
    linesPerEvent: total ? (path.lines() - at.lines) / total : 0,
    bytesPerEvent: total ? (sink.bytes - at.bytes) / total : 0,
    filtered: path.filtered() - at.filtered,
  };
}

export interface CaptureSummary {
  backend: Backend;
  syscall: Syscall;
  issued: number;
  /** eBPF records or tracefs pages, and their bytes. */
  units: number;
  bytes: number;
  lost: number;
  /** eBPF task records of other processes left out. */
  skipped: number;
  events: string[];
  compat: boolean;
}

export interface CapacityRow {
  backend: Backend;
  syscall: Syscall;
  detect: boolean;
  /** Delivered events per CPU second (user + system of the pinned process) of each timed pass, over every run: what one core does, whatever else the shared VM runs. */
  eventsPerCpuSec?: Spread;
  /** The same per wall-clock second (lower when other jobs share the core). */
  eventsPerSec?: Spread;
  passes: number;
  /** JSON lines (events and findings) and bytes written per delivered event. */
  linesPerEvent?: number;
  bytesPerEvent?: number;
  errors: string[];
}

export interface CapacityProfile extends Partial<ProfileTop> {
  backend: Backend;
  syscall: Syscall;
  detect: boolean;
  error?: string;
}

export interface CapacityResult {
  date: string;
  /** The Watchpost commit measured and the command that measured it (run.ts fills them in). */
  revision: string;
  command: string;
  calls: number;
  runs: number;
  passesPerRun: number;
  captures: CaptureSummary[];
  rows: CapacityRow[];
  profiles: CapacityProfile[];
}

const log = (msg: string): void => void process.stderr.write(`bench: ${msg}\n`);

/** Calls per captured storm: about a second of replay per pass. */
const CALLS = 200_000;
/** Kernel buffer while capturing (per CPU): holds a whole storm, so nothing is lost even if a read comes late. */
const CAPTURE_BUFFER_KB = 32_768;

/** One replay process pinned to the tracer CPU; `profileDir`: under --cpu-prof, the profile written there. */
async function replayProcess(capDir: string, detect: boolean, passes: number, profileDir?: string): Promise<ReplayResult> {
  const node = [process.execPath, ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [])];
  const child = launch(['taskset', '-c', String(TRACER_CPU), ...node, join(DIST, 'bench', 'capacity-replay.js'), capDir, detect ? 'detect' : 'no-detect', String(passes)], ['ignore', 'pipe', 'pipe']);
  const out = new Lines(child.stdout);
  const err = new Lines(child.stderr);
  const line = await out.waitFor((l) => l.startsWith('{'), 300_000, `capacity replay (stderr: ${err.tail()})`);
  const exit = await exited(child);
  if (exit.code !== 0) throw new Error(`capacity replay exited with ${exit.code ?? exit.signal}: ${err.tail()}`);
  return JSON.parse(line.text) as ReplayResult;
}

/** A held storm of `calls` calls of `syscall` on the workload CPU, waiting for go(). */
export function startStorm(bins: Record<WorkloadName, string>, syscall: Syscall, calls: number): Promise<Workload> {
  return Workload.start([bins.storm, '--cpu', String(WORKLOAD_CPU), '--hold', syscall, String(calls)]);
}

/**
 * Captures the storm of `w` into `capDir` with `backend`'s probe, opened as a run with detections opens it (a run
 * without them decodes the same records), plus the workload's pid filtered in the kernel.
 */
export async function captureFor(capDir: string, backend: Backend, syscall: Syscall, w: Workload): Promise<CaptureMeta> {
  mkdirSync(capDir, { recursive: true });
  const { probe } = await livePath({ syscall, pid: w.pid, detect: true }, discard());
  return captureStorm(capDir, backend, { ...probe, pids: [w.pid], bufferKb: CAPTURE_BUFFER_KB }, w, syscall);
}

/** 6. Capacity: a storm of each syscall captured by each backend, replayed `runs` times, without and with detections; the ioctl replays profiled. */
export async function capacitySuite(bins: Record<WorkloadName, string>, dir: string, runs: number, passes: number): Promise<CapacityResult> {
  const result: CapacityResult = { date: new Date().toISOString(), revision: '', command: '', calls: CALLS, runs, passesPerRun: passes, captures: [], rows: [], profiles: [] };
  for (const backend of ['ebpf', 'tracefs'] as const) {
    for (const syscall of ['ioctl', 'ioperm'] as const) {
      const capDir = join(dir, `capture-${backend}-${syscall}`);
      let w: Workload | undefined;
      try {
        w = await startStorm(bins, syscall, CALLS);
        const meta = await captureFor(capDir, backend, syscall, w);
        result.captures.push({ backend, syscall, issued: meta.issued, units: meta.units, bytes: meta.bytes, lost: meta.lost.events, skipped: meta.skipped, events: meta.events, compat: meta.compat });
        log(`capacity: captured ${backend} ${syscall} storm: ${meta.issued} calls, ${meta.units} ${backend === 'ebpf' ? 'records' : 'pages'}, ${(meta.bytes / 2 ** 20).toFixed(1)} MB, ${meta.lost.events} lost`);
        for (const detect of [false, true]) {
          const row: CapacityRow = { backend, syscall, detect, passes: 0, errors: [] };
          const rates: number[] = [];
          const cpuRates: number[] = [];
          const perEvent = { lines: [] as number[], bytes: [] as number[] };
          for (let run = 0; run < runs; run++) {
            try {
              const r = await replayProcess(capDir, detect, passes);
              for (const p of r.passes) {
                rates.push(p.events / (p.ms / 1000));
                cpuRates.push(p.events / (p.cpuMs / 1000));
              }
              perEvent.lines.push(r.linesPerEvent);
              perEvent.bytes.push(r.bytesPerEvent);
              log(`capacity ${backend} ${syscall} ${detect ? 'detect' : 'no-detect'} ${run + 1}/${runs}: ${r.passes.map((p) => Math.round(p.events / (p.cpuMs / 1000))).join(', ')} ev/s of CPU (wall: ${r.passes.map((p) => Math.round(p.events / (p.ms / 1000))).join(', ')}; ${r.passes[0]?.events ?? 0} events a pass)`);
            } catch (e) {
              row.errors.push(String((e as Error).message).slice(0, 400));
              log(`capacity ${backend} ${syscall} ${detect ? 'detect' : 'no-detect'} ${run + 1}/${runs}: FAILED ${(e as Error).message}`);
            }
          }
          row.eventsPerSec = spread(rates);
          row.eventsPerCpuSec = spread(cpuRates);
          row.passes = rates.length;
          row.linesPerEvent = spread(perEvent.lines)?.median;
          row.bytesPerEvent = spread(perEvent.bytes)?.median;
          result.rows.push(row);
        }
        if (syscall === 'ioctl') result.profiles.push(await profileReplay(capDir, backend, syscall, passes));
      } catch (e) {
        log(`capacity ${backend} ${syscall}: FAILED ${(e as Error).message}`);
        for (const detect of [false, true]) result.rows.push({ backend, syscall, detect, passes: 0, errors: [String((e as Error).message).slice(0, 400)] });
      } finally {
        if (w) {
          w.child.stdin?.end();
          await exited(w.child);
        }
      }
    }
  }
  return result;
}

/** One replay with detections under `node --cpu-prof`: the functions it spent most self time in. */
async function profileReplay(capDir: string, backend: Backend, syscall: Syscall, passes: number): Promise<CapacityProfile> {
  const profileDir = join(capDir, 'profile');
  mkdirSync(profileDir, { recursive: true });
  try {
    await replayProcess(capDir, true, passes, profileDir);
    const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error('node --cpu-prof wrote no profile');
    const top = topSelfTime(readProfile(join(profileDir, file)), 10);
    log(`capacity profile ${backend} ${syscall}: ${top.top.slice(0, 3).map((t) => `${t.fn} ${t.pct.toFixed(1)}%`).join(', ')}`);
    return { backend, syscall, detect: true, ...top };
  } catch (e) {
    return { backend, syscall, detect: true, error: String((e as Error).message).slice(0, 400) };
  }
}
