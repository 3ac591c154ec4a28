import type { Tool, TracerResult, Syscall } from './tools.js';
import { interrupt } from './process.js';
import { Workload, type WorkloadReport } from './workload.js';

/** One workload run, untraced (tool undefined) or under one tool. */
export interface Run {
  tool: string;
  report?: WorkloadReport;
  nsPerSyscall?: number;
  tracer?: TracerResult;
  /** Events delivered per second, from go to the tool's last event written. */
  eventsPerSec?: number;
  error?: string;
}

export async function runOnce(argv: string[], s: Syscall, tool: Tool | undefined, dir: string, timeoutMs = 120_000): Promise<Run> {
  const id = tool?.id ?? 'untraced';
  let w: Workload | undefined;
  let tracer: ReturnType<Tool['start']> | undefined;
  try {
    w = await Workload.start(argv, tool?.prefix?.(s, dir) ?? []);
    tracer = tool?.start(s, w, dir);
    if (tracer) await tracer.ready;
    w.go();
    const report = await w.finish(timeoutMs);
    const result = tracer ? await tracer.stop() : undefined;
    const run: Run = { tool: id, report, nsPerSyscall: report.ns / report.syscalls };
    if (result) {
      run.tracer = result;
      run.eventsPerSec = result.delivered / ((result.endAt - w.goAt) / 1000);
    }
    return run;
  } catch (err) {
    if (tracer) await tracer.abort().catch(() => {});
    if (w) await interrupt(w.child, 3000);
    return { tool: id, error: String((err as Error).message ?? err).slice(0, 500) };
  }
}

export function median(xs: readonly number[]): number | undefined {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return undefined;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function spread(xs: readonly (number | undefined)[]): Spread | undefined {
  const v = xs.filter((x): x is number => x !== undefined && Number.isFinite(x));
  const m = median(v);
  return m === undefined ? undefined : { median: m, min: Math.min(...v), max: Math.max(...v), n: v.length };
}
