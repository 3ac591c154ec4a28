/**
 * The accounting test's tracer: the library, in its own process pinned like the CLI, tracing one syscall for one
 * pid (filtered in the kernel), counting what it delivers. Prints "ready" once attached; on SIGINT stops and prints
 * one JSON line: what it counted and stats().
 *   node accounting-tracer.js BACKEND SYSCALL PID [nocompat]
 */
import { trace } from '../src/trace.js';

const [backend, syscall, pid, mode] = process.argv.slice(2);
const t = trace({ backend: backend as 'ebpf' | 'tracefs', events: [syscall], pids: [Number(pid)], followForks: false, compat: mode === 'nocompat' ? 'off' : 'auto' });
process.on('SIGINT', () => void t.stop());
await t.ready;
process.stdout.write(`ready ${t.backend}\n`);
let counted = 0;
let other = 0;
for await (const batch of t.batches()) {
  for (const ev of batch) {
    if (ev.eventName === syscall && ev.hostProcessId === Number(pid)) counted++;
    else other++;
  }
}
process.stdout.write(`${JSON.stringify({ counted, other, stats: t.stats() })}\n`);
