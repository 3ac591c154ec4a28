import { spawn } from 'node:child_process';
import { findEvent } from '../src/catalog/events.js';
import { EbpfProbe } from '../src/probes/ebpf/probe.js';
import type { ProbeEnforcement } from '../src/probes/types.js';
import { helperCopy } from '../test/enforce/caller.js';

/**
 * What kill rules cost the calls they look at: an ioperm storm (ioperm(0x80, 1, 1) in a loop) timed untraced, traced
 * without rules, traced with a rule that never matches (its compares run on every call), and with a dry-run rule that
 * matches every call (flags in each record). Unwatched syscalls leave at the id check, before any rule: unchanged.
 * Run: sudo node dist/bench/kill-cost.js [calls=200000] [reps=5]  (not part of `npm run bench`)
 */

const CALLS = Number(process.argv[2] ?? 200_000);
const REPS = Number(process.argv[3] ?? 5);
const K = `wpb${process.pid % 1_000_000}`;
const exe = helperCopy(`wp-kill-bench-${process.pid}`, K);

/** ns per call of one storm, from go to done (pipe latency is ~0.1% of a 200k-call storm). */
async function storm(): Promise<number> {
  const child = spawn(exe, [`iopermstorm:${CALLS}`], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  let t0 = 0n;
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (t0 === 0n && out.includes('ready')) {
        t0 = process.hrtime.bigint();
        child.stdin.write('go\n');
      }
      if (out.includes('done')) {
        resolve(Number(process.hrtime.bigint() - t0) / CALLS);
        child.stdin.end();
      }
    });
    child.once('exit', (code) => (out.includes('done') ? undefined : reject(new Error(`storm exited ${code}`))));
  });
}

const rule = (from: bigint, armed: boolean): ProbeEnforcement => ({
  armed,
  allowExecutables: [],
  rules: [{ nr: 173, conditions: [{ on: 'arg', index: 0, width: 64, signed: false, op: '=', values: [from] }, { on: 'comm', op: '=', values: [K] }] }],
});

const configs: Array<[string, ProbeEnforcement | undefined | null]> = [
  ['untraced', null],
  ['traced, no kill rule', undefined],
  ['traced, a rule that never matches (from=0x64)', rule(0x64n, true)],
  ['traced, a dry-run rule matching every call', rule(0x80n, false)],
];

const results = new Map<string, number[]>(configs.map(([name]) => [name, []]));
for (let r = 0; r < REPS; r++) {
  for (const [name, enforce] of configs) {
    // interleaved: load on the machine hits every configuration alike
    const probe = enforce === null ? undefined : new EbpfProbe({ events: [findEvent('ioperm')!], compat: false, excludePids: [process.pid], enforce: enforce ?? undefined });
    const timer = probe && setInterval(() => probe.drain(() => {}), 5);
    try {
      results.get(name)!.push(await storm());
    } finally {
      if (timer) clearInterval(timer);
      probe?.close();
    }
  }
}
for (const [name, xs] of results) {
  xs.sort((a, b) => a - b);
  process.stdout.write(`${name}: min ${xs[0].toFixed(0)} ns/call, median ${xs[Math.floor(xs.length / 2)].toFixed(0)} ns/call\n`);
}
