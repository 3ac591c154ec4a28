import type { SyscallEvent, Trace } from '../../src/trace.js';

/** Reads events from a running trace until `count` arrived or `ms` passed, then stops the trace. */
export async function collect(t: Trace, count: number, ms = 5000): Promise<SyscallEvent[]> {
  const got: SyscallEvent[] = [];
  const timer = setTimeout(() => void t.stop(), ms);
  for await (const ev of t) {
    got.push(ev);
    if (got.length >= count) break;
  }
  clearTimeout(timer);
  await t.stop();
  return got;
}

/** Stops the trace after `settleMs` and returns every event it delivered (to check nothing extra came). */
export async function collectAll(t: Trace, settleMs = 300): Promise<SyscallEvent[]> {
  const got: SyscallEvent[] = [];
  const timer = setTimeout(() => void t.stop(), settleMs);
  for await (const ev of t) got.push(ev);
  clearTimeout(timer);
  return got;
}
