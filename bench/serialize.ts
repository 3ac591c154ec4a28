/**
 * Serialisation micro-bench: events/s of turning a batch of events into JSON-lines bytes, as the file output does.
 *   node dist/bench/serialize.js [RECORDING.jsonl] [--seconds N] [--compare OTHER/dist/src/sinks/json.js]
 * Without a recording, events come from the pipeline's own EventBuilder (its shared objects, as live), a storm's mix:
 * most calls from one thread, the rest from a few others, some openat with paths. With one, from `-o json:FILE` lines.
 * --compare: another build's serialiser (e.g. a copy of dist/ from before a change), its eventToJson per event, measured
 * in turns with this one in the same process (this machine's speed varies with its load: compare within a run).
 */
import { readFileSync } from 'node:fs';
import { findEvent } from '../src/catalog/events.js';
import { parseRecordedLine } from '../src/detect/recording.js';
import type { SyscallEvent } from '../src/model/event.js';
import { EpochClock } from '../src/pipeline/clock.js';
import { EventBuilder } from '../src/pipeline/to-event.js';
import type { ProcInfo } from '../src/enrich/proc.js';
import { eventToJson, jsonLines } from '../src/sinks/json.js';

const BATCH = 4096;

function built(n: number): SyscallEvent[] {
  const threads: ProcInfo[] = [100, 200, 201, 300, 400].map((tid, i) => ({
    tid, pid: tid - (tid % 100), ppid: 1, uid: i ? 1000 : 0, comm: ['storm', 'node', 'node', 'bash', 'Xorg'][i], exePath: ['/opt/storm', '/usr/bin/node', '/usr/bin/node', '/usr/bin/bash', '/usr/lib/xorg/Xorg'][i],
    startTime: 5e9 + tid, mntns: 4026531841, pidns: 4026531836, nsPid: tid - (tid % 100), nsTid: tid, nsPpid: 1,
  }));
  const byTid = new Map(threads.map((t) => [t.tid, t]));
  const builder = new EventBuilder(new EpochClock(), (tid) => byTid.get(tid));
  const ioperm = findEvent('ioperm')!;
  const ioctl = findEvent('ioctl')!;
  const openat = findEvent('openat')!;
  const policies = Object.freeze(['cli']) as unknown as string[];
  const out: SyscallEvent[] = [];
  for (let i = 0; i < n; i++) {
    const mono = 1e12 + i * 1733;
    const r = i % 10;
    const ev =
      r < 7
        ? builder.build({ event: ioperm, monoNs: mono, cpu: 1, tid: 100, compat: false, args: [0x80n, 1n, 1], ret: -38 })
        : r < 9
          ? builder.build({ event: ioctl, monoNs: mono, cpu: 0, tid: threads[1 + (i % 4)].tid, compat: false, args: [20, 0x541bn, 0x7ffd1234n + BigInt(i)], ret: 0 })
          : builder.build({ event: openat, monoNs: mono, cpu: 0, tid: 300, compat: false, args: [-100, `/home/user/project/file-${i % 50}.txt`, 0x80000, 0], ret: -2, strings: { read: 2, truncated: 0, unread: 0 } });
    ev.matchedPolicies = policies;
    out.push(ev);
  }
  return out;
}

function recorded(path: string): SyscallEvent[] {
  const out: SyscallEvent[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const r = parseRecordedLine(line);
    if (r.kind === 'event') out.push(r.event);
  }
  if (!out.length) throw new Error(`${path}: no events of the catalog in it`);
  return out;
}

/**
 * Runs `work` over fresh copies of the batches for `seconds`; prints events/s, and CPU ns per event (user + system
 * time of this process: on a shared machine, time spent descheduled is not the serialiser's).
 */
function measure(name: string, batches: SyscallEvent[][], seconds: number, work: (b: SyscallEvent[]) => number): void {
  let events = 0;
  let bytes = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const end = t0 + BigInt(seconds * 1e9);
  let now = t0;
  for (let i = 0; now < end; i++) {
    const b = batches[i % batches.length].slice(); // a new array each time: nothing cached by batch identity carries over
    bytes += work(b);
    events += b.length;
    now = process.hrtime.bigint();
  }
  const cpu = process.cpuUsage(cpu0);
  const s = Number(now - t0) / 1e9;
  const cpuNs = (cpu.user + cpu.system) * 1000;
  console.log(JSON.stringify({ bench: name, eventsPerSecond: Math.round(events / s), nsPerEvent: Math.round((s * 1e9) / events), cpuNsPerEvent: Math.round(cpuNs / events), bytesPerEvent: Math.round(bytes / events) }));
}

const args = process.argv.slice(2);
function option(name: string): string | undefined {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args.splice(i, 2)[1];
}
const seconds = Number(option('--seconds') ?? 3);
const compare = option('--compare');
const events = args[0] ? recorded(args[0]) : built(BATCH * 8);
const batches: SyscallEvent[][] = [];
for (let i = 0; i < events.length; i += BATCH) batches.push(events.slice(i, i + BATCH));
console.log(JSON.stringify({ source: args[0] ?? 'EventBuilder storm mix', events: events.length, batch: BATCH }));

const perEvent = (toJson: (e: SyscallEvent) => string) => (b: SyscallEvent[]): number => {
  let text = '';
  for (const ev of b) text += `${toJson(ev)}\n`;
  return Buffer.from(text).length;
};
const other = compare ? ((await import(compare)) as { eventToJson: (e: SyscallEvent) => string }).eventToJson : undefined;
for (let round = 0; round < 3; round++) {
  measure('jsonLines(batch): one buffer of lines', batches, seconds, (b) => jsonLines(b).bytes.length);
  if (other) measure(`${compare}: eventToJson per event, joined, Buffer.from`, batches, seconds, perEvent(other));
}
measure('eventToJson per event, joined, Buffer.from', batches, seconds, perEvent(eventToJson));
