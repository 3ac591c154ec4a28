/**
 * The detect stage alone (issue 13): a captured storm (bench/detect-capture.ts) decoded, enriched and admitted once as
 * the live path does it, then the admitted events run through DetectStage again and again; prints the stage's CPU ns
 * per event with detections and without (the stage only pushing), and what it appended.
 *   node dist/bench/detect-stage.js CAPTURE_DIR [PASSES]
 * Run it while detect-capture.js still holds the workloads (the process tree reads them from /proc).
 */
import { findEvent } from '../src/catalog/events.js';
import { createDetector } from '../src/detect/setup.js';
import { agentHost } from '../src/enrich/agent-host.js';
import { ProcessTree } from '../src/enrich/process-tree.js';
import type { SyscallEvent } from '../src/model/event.js';
import type { StreamItem } from '../src/model/stream.js';
import { EpochClock } from '../src/pipeline/clock.js';
import { Counters } from '../src/pipeline/counters.js';
import { DetectStage } from '../src/pipeline/detect-stage.js';
import { PolicyStage, subjectOf } from '../src/pipeline/policy-stage.js';
import { policySetup } from '../src/pipeline/setup.js';
import { EventBuilder } from '../src/pipeline/to-event.js';
import { drainRecords } from '../src/probes/ebpf/drain.js';
import { RecordDecoder } from '../src/probes/ebpf/record.js';
import { TracefsDecoder } from '../src/probes/tracefs/decoder.js';
import type { CompletedSyscall, TaskEvent } from '../src/probes/types.js';
import { CapturedPages, CapturedRecords, loadCapture } from './capture.js';

const [dir, passesArg] = process.argv.slice(2);
if (!dir) {
  process.stderr.write('usage: node detect-stage.js CAPTURE_DIR [PASSES]\n');
  process.exit(2);
}
const passes = Number(passesArg ?? 10);
const { meta, source } = loadCapture(dir);
const tree = new ProcessTree();
tree.seed();
const detector = await createDetector({});
const setup = policySetup({ events: [meta.syscall], scope: [`pid=${meta.workloadPid}`], detectEvents: detector.events() }, {
  parentOf: (pid) => {
    const p = tree.lookup(pid);
    return p ? subjectOf(p, agentHost) : undefined;
  },
  startedAtNs: Date.now() * 1e6,
});
const policy = new PolicyStage(setup.policies, new Counters());
const enrich = new EventBuilder(new EpochClock(false), (tid) => tree.lookup(tid), {});
const events: SyscallEvent[] = [];
const emit = (s: CompletedSyscall): void => {
  const ev = enrich.build(s);
  if (ev.hostProcessId !== process.pid && policy.admit(ev)) events.push(ev);
};
const onTask = (t: TaskEvent): void => tree.onTask(t);
const defs = meta.events.map((n) => findEvent(n)!);
if (source instanceof CapturedRecords) {
  const decoder = new RecordDecoder(defs);
  while (!source.done) drainRecords(source, decoder, emit, onTask, meta.lifecycle, 4096);
} else {
  const t = meta.tracefs!;
  const decoder = new TracefsDecoder(defs, t.handlers, t.cpus.length, new Set(t.kernelFiltered));
  while (!source.done) decoder.drain(source as CapturedPages, emit, onTask, 4096);
}

/** A fresh copy of an event, as the live path hands the stage one just built (in cache), its args too. */
const fresh = (ev: SyscallEvent): SyscallEvent => ({ ...ev, args: ev.args.map((a) => ({ ...a })) });

/**
 * CPU ns per event of `passes` runs of the stage over a fresh copy of every event (a batch of 4096 handed on, as
 * the live queue is); the copies cost the same with detections and without, so the difference is the stage's.
 */
function time(stage: DetectStage): { nsPerEvent: number[]; items: number } {
  const ns: number[] = [];
  let items = 0;
  for (let p = 0; p < passes; p++) {
    let out: StreamItem[] = [];
    const cpu = process.cpuUsage();
    for (let i = 0; i < events.length; i++) {
      stage.run(fresh(events[i]), out);
      if (out.length >= 4096) {
        items += out.length;
        out = [];
      }
    }
    const used = process.cpuUsage(cpu);
    items += out.length;
    ns.push(Math.round(((used.user + used.system) * 1000) / events.length));
  }
  return { nsPerEvent: ns, items };
}

const hidden = (name: string): boolean => setup.hidden.has(name);
const off = time(new DetectStage(undefined, hidden));
const stage = new DetectStage(detector, hidden);
const on = time(stage);
const end: StreamItem[] = [];
stage.flush(end);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];
process.stdout.write(
  `${JSON.stringify({ capture: dir, events: events.length, passes, offNs: median(off.nsPerEvent), onNs: median(on.nsPerEvent), on: on.nsPerEvent, off: off.nsPerEvent, itemsOn: on.items, itemsOff: off.items, flushed: end.length, counts: detector.counts(), window: detector.windowStats() })}\n`,
);
