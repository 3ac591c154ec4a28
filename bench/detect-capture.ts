/**
 * Captures the capacity benchmark's storms once, for A/B replays of the detect stage (issue 13):
 *   node dist/bench/detect-capture.js DIR [CALLS]
 * writes DIR/{ebpf,tracefs}-{ioctl,ioperm}/ as bench/capacity.ts captures them (with the events a run with detections
 * traces); replay each with `taskset -c 0 node dist/bench/capacity-replay.js DIR/X detect|no-detect PASSES`
 * while this process runs: it holds the workloads alive (a replay finds them in /proc, as the live run did) until SIGTERM.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureFor, startStorm } from './capacity.js';
import { exited } from './process.js';
import { buildWorkloads, type Workload } from './workload.js';

const [dir, calls] = process.argv.slice(2);
if (!dir) {
  process.stderr.write('usage: node detect-capture.js DIR [CALLS]\n');
  process.exit(2);
}
const bins = buildWorkloads(mkdtempSync(join(tmpdir(), 'watchpost-detect-bins-')));
const held: Workload[] = [];
for (const backend of ['ebpf', 'tracefs'] as const) {
  for (const syscall of ['ioctl', 'ioperm'] as const) {
    const capDir = join(dir, `${backend}-${syscall}`);
    const w = await startStorm(bins, syscall, Number(calls ?? 200_000));
    held.push(w);
    const meta = await captureFor(capDir, backend, syscall, w);
    process.stderr.write(`${capDir}: ${meta.issued} calls, ${meta.units} units, ${meta.lost.events} lost\n`);
  }
}
process.stderr.write(`holding the workloads (${held.map((w) => w.pid).join(' ')}); SIGTERM ends them\n`);
const keep = setInterval(() => {}, 1 << 30);
process.once('SIGTERM', () => {
  clearInterval(keep);
  for (const w of held) w.child.stdin?.end();
  void Promise.all(held.map((w) => exited(w.child)));
});
