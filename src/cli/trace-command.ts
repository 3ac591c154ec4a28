import { constants as osConstants } from 'node:os';
import { EnvironmentError } from '../model/errors.js';
import type { TraceStats } from '../model/event.js';
import '../sinks/all.js';
import { startMetricsServer } from '../sinks/metrics-server.js';
import type { Output } from '../sinks/output.js';
import { createOutputs, planOutputs } from '../sinks/registry.js';
import { StdoutOutput } from '../sinks/stdout-output.js';
import { checkTraceOptions, explainTrace, trace, type CompatMode, type Trace } from '../trace.js';
import { outputSummaryLine, StatusLine } from './status-line.js';
import { createDetector, type DetectOptions, livePlan } from '../detect/setup.js';
import { writeAll } from './replay.js';

export interface TraceCommandOptions extends DetectOptions {
  /** --no-detect: no detections; --detect-only: findings alone. */
  detect?: boolean;
  detectOnly?: boolean;
  events?: string[];
  scope?: string[];
  policy?: string[];
  explain?: boolean;
  /** `-o` values; default table. */
  output: string[];
  compat: CompatMode;
  bufferKb?: number;
  /** `--metrics HOST:PORT`: serve Prometheus metrics there while tracing. */
  metrics?: string;
  backend: 'auto' | 'ebpf' | 'tracefs';
  parseArguments?: boolean;
  /** --kill values and --enforce (see TraceOptions). */
  kill?: string[];
  enforce?: boolean;
}

export function summaryLine(s: TraceStats): string {
  const per = Object.keys(s.delivered).map((name) => `${name} ${s.delivered[name]} delivered, ${s.lostByEvent[name] ?? 0} lost`);
  const reasons = Object.entries(s.lostByReason).map(([r, n]) => `${r}: ${n}`);
  const enforced = Object.entries(s.enforcements ?? {}).map(([action, byPolicy]) => `${Object.values(byPolicy).reduce((a, n) => a + n, 0)} ${action}`);
  return `watchpost: ${per.join('; ')}; ${s.lostEvents} events lost in all; ${s.lostRecords} kernel records lost${reasons.length ? ` (${reasons.join(', ')})` : ''}${enforced.length ? `; enforcement: ${enforced.join(', ')}` : ''}`;
}

function statsJson(s: TraceStats, final: boolean): string {
  return JSON.stringify({ stats: { final, ...s } });
}

export async function traceCommand(opts: TraceCommandOptions): Promise<void> {
  // a signal at any moment from here on is a request to stop: what was attached is undone and the summary printed
  let t: Trace | undefined;
  let stopping: NodeJS.Signals | 'pipe' | undefined;
  const stop = (why: NodeJS.Signals | 'pipe'): void => {
    if (stopping) return;
    stopping = why;
    void t?.stop();
  };
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, stop);
  const detector = opts.detect === false ? undefined : await createDetector(opts); // a bad rules file is a usage error, before the root check
  const plan = detector ? livePlan(detector, opts.events?.length ? opts.events : undefined, opts) : undefined;
  if (plan) opts = { ...opts, events: plan.events };
  const events = opts.events?.length ? opts.events : undefined;
  const selection = { events, scope: opts.scope, policyFiles: opts.policy, kill: opts.kill, enforce: opts.enforce, allowHwTools: opts.allowHwTool, backend: opts.backend };
  checkTraceOptions(selection); // usage errors before the root check
  const outputPlan = planOutputs(opts.output);
  if (opts.explain) {
    process.stdout.write(`${explainTrace(selection)}\n`);
    return;
  }
  const outputs: Output[] = createOutputs(outputPlan);
  const jsonStats = outputPlan.outputs.some((o) => o.kind === 'json' && o.target === undefined);
  if (process.getuid?.() !== 0) {
    throw new EnvironmentError('tracing needs root (tracefs and the syscall tracepoints are root-only): run `sudo ./watchpost`');
  }
  if (stopping && stopping !== 'pipe') {
    process.stderr.write(`watchpost: ${stopping} before tracing started; nothing was traced\n`);
    process.exitCode = 128 + osConstants.signals[stopping];
    return;
  }
  t = trace({ ...selection, compat: opts.compat, bufferKb: opts.bufferKb, parseArguments: opts.parseArguments || outputPlan.options.parseArguments, relativeTime: outputPlan.options.relativeTime });
  await t.ready;
  if (t.backendNote) process.stderr.write(`watchpost: ${t.backendNote}\n`);
  if (t.compatNote) process.stderr.write(`watchpost: ${t.compatNote}\n`);
  if (t.enforcementNote) process.stderr.write(`watchpost: ${t.enforcementNote}\n`);
  const metrics = opts.metrics
    ? await startMetricsServer(opts.metrics, { stats: () => t.stats(), get backend() { return t.backend; }, outputs }).catch(async (err: unknown) => {
        await t.stop();
        throw err;
      })
    : undefined;
  process.stderr.write(`watchpost: tracing with ${t.backend}${t.compat ? '' : ' (64-bit callers only)'}${metrics ? `; metrics at ${metrics.url}` : ''}; Ctrl-C to stop\n`);
  const status = StatusLine.start({ stats: () => t.stats(), outputs });
  const sharesTerminal = process.stdout.isTTY && outputs.some((o) => o instanceof StdoutOutput); // the table and the status line take turns
  let lastStats = '';
  const statsTimer = jsonStats
    ? setInterval(() => {
        const line = statsJson(t.stats(), false);
        status?.suspend();
        if (line !== lastStats) process.stderr.write(`${line}\n`);
        status?.resume();
        lastStats = line;
      }, 5000)
    : undefined;
  for await (const batch of t.batches()) {
    if (sharesTerminal) status?.suspend();
    await writeAll(outputs, detector && plan ? detector.process(batch, plan.show) : batch, process.stdout.isTTY === true);
    if (sharesTerminal) status?.resume();
    if (outputs.length && outputs.every((o) => o instanceof StdoutOutput && o.isBroken)) stop('pipe'); // `watchpost | head` ended
  }
  if (detector) await writeAll(outputs, detector.flush(), process.stdout.isTTY === true); // the summaries of windows still open
  if (statsTimer) clearInterval(statsTimer);
  status?.stop();
  const stats = t.stats();
  await Promise.all(outputs.map((o) => o.close(stats)));
  await metrics?.close();
  for (const o of outputs) {
    if (o instanceof StdoutOutput) continue;
    process.stderr.write(`${jsonStats ? JSON.stringify({ output: o.stats() }) : outputSummaryLine(o.stats())}\n`);
  }
  const dropped = outputs.filter((o) => o.stats().dropped > 0);
  if (dropped.length) {
    process.stderr.write(`watchpost: events were dropped by ${dropped.map((o) => `${o.name} (${o.stats().dropped})`).join(', ')}; exit status 1\n`);
    process.exitCode = 1;
  }
  // before the summary: the summary (or final stats) stays the last line
  const found = Object.entries(detector?.counts() ?? {}).filter(([, n]) => n > 0);
  if (found.length) process.stderr.write(`${jsonStats ? JSON.stringify({ findings: Object.fromEntries(found) }) : `watchpost: findings: ${found.map(([id, n]) => `${id} ${n}`).join(', ')}`}\n`);
  for (const p of detector?.problems() ?? []) process.stderr.write(`watchpost: ${p}\n`);
  process.stderr.write(`${jsonStats ? statsJson(stats, true) : summaryLine(stats)}\n`);
}
