import { trace, type SyscallEvent, type TraceOptions, type TraceStats } from '../../src/trace.js';
import { collectAll } from './collect.js';
import { startSyscaller, type ObservedCall } from './syscaller.js';

export interface TracedRun {
  calls: ObservedCall[];
  got: SyscallEvent[];
  stats: TraceStats;
  pid: number;
}

/**
 * Runs the syscall helper with `commands` under a trace of its pid; returns what it saw and what Watchpost reported.
 * The trace is stopped and the helper ended whatever happens, so a failed call or assertion leaves nothing armed.
 */
export async function traced(options: TraceOptions, commands: string[], more: { wrap?: string[]; exe?: string; settleMs?: number } = {}): Promise<TracedRun> {
  const sc = await startSyscaller(commands, { wrap: more.wrap, exe: more.exe });
  const t = trace({ ...options, pids: [sc.pid] });
  try {
    await t.ready;
    const calls = await sc.go();
    const got = await collectAll(t, more.settleMs ?? 400);
    return { calls, got, stats: t.stats(), pid: sc.pid };
  } finally {
    await t.stop();
    await sc.end();
  }
}
