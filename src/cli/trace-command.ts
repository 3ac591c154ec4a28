import { constants as osConstants } from 'node:os';
import { EnvironmentError } from '../model/errors.js';
import type { TraceStats } from '../model/event.js';
import '../sinks/all.js';
import { createOutputs, planOutputs } from '../sinks/registry.js';
import { StdoutOutput } from '../sinks/stdout-output.js';
import { checkTraceOptions, explainTrace, trace, type CompatMode, type StreamItem, type Trace, type TraceOptions } from '../trace.js';
import { outputSummaryLine, StatusLine } from './status-line.js';
import { createDetector, type DetectOptions } from '../detect/setup.js';

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
  backlogMb?: number;
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
  let t: Trace<StreamItem> | undefined;
  let stopping: NodeJS.Signals | undefined;
  const stop = (why: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = why;
    void t?.stop();
  };
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, stop);
  const outputPlan = planOutputs(opts.output);
  // built here, once: a bad rules file is a usage error before the root check, and trace() takes this detector
  const detect = opts.detect === false ? undefined : { detector: await createDetector(opts), detectOnly: opts.detectOnly };
  const options: TraceOptions = {
    events: opts.events?.length ? opts.events : undefined,
    scope: opts.scope,
    policyFiles: opts.policy,
    kill: opts.kill,
    enforce: opts.enforce,
    allowHwTools: opts.allowHwTool,
    backend: opts.backend,
    compat: opts.compat,
    bufferKb: opts.bufferKb,
    backlogMb: opts.backlogMb,
    parseArguments: opts.parseArguments || outputPlan.options.parseArguments,
    relativeTime: outputPlan.options.relativeTime,
    detect,
  };
  checkTraceOptions(options); // usage errors before the root check
  if (opts.explain) {
    process.stdout.write(`${explainTrace(options)}\n`);
    return;
  }
  const outputs = createOutputs(outputPlan);
  const jsonStats = outputPlan.outputs.some((o) => o.kind === 'json' && o.target === undefined); // stats as JSON lines on stderr
  if (process.getuid?.() !== 0) {
    throw new EnvironmentError('tracing needs root (tracefs and the syscall tracepoints are root-only): run `sudo ./watchpost`');
  }
  // A signal that came during a synchronous step above (compiling --rules) is handled in the event loop's next poll:
  // two check phases away when this runs from an I/O callback (seen: one immediate ran 9 ms before the handler).
  for (let turn = 0; turn < 2; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
  if (stopping) {
    process.stderr.write(`watchpost: ${stopping} before tracing started; nothing was traced\n`);
    process.exitCode = 128 + osConstants.signals[stopping];
    return;
  }
  let status: StatusLine | undefined;
  const sharesTerminal = process.stdout.isTTY && outputs.some((o) => o instanceof StdoutOutput); // the table and the status line take turns
  const run: Trace<StreamItem> = (t = trace({
    ...options,
    outputs,
    onStats: jsonStats ? (s) => process.stderr.write(`${statsJson(s.stats, false)}\n`) : undefined,
    terminal: sharesTerminal ? { suspend: () => status?.suspend(), resume: () => status?.resume() } : undefined,
  }));
  try {
    await run.ready;
  } catch (err) {
    await run.finished.catch(() => {});
    throw err;
  }
  if (run.backendNote) process.stderr.write(`watchpost: ${run.backendNote}\n`);
  if (run.compatNote) process.stderr.write(`watchpost: ${run.compatNote}\n`);
  if (run.enforcementNote) process.stderr.write(`watchpost: ${run.enforcementNote}\n`);
  const metrics = opts.metrics // node:http and the server: loaded only for --metrics
    ? await (await import('../sinks/metrics-server.js')).startMetricsServer(opts.metrics, { stats: () => run.stats(), get backend() { return run.backend; }, outputs }).catch(async (err: unknown) => {
        await run.stop();
        await run.finished.catch(() => {});
        throw err;
      })
    : undefined;
  process.stderr.write(`watchpost: tracing with ${run.backend}${run.compat ? '' : ' (64-bit callers only)'}${metrics ? `; metrics at ${metrics.url}` : ''}; Ctrl-C to stop\n`);
  if (!jsonStats) status = StatusLine.start({ stats: () => run.stats(), outputs });
  try {
    await run.finished;
  } finally {
    status?.stop();
  }
  await metrics?.close();
  const stats = run.stats();
  for (const o of run.outputStats()) process.stderr.write(`${jsonStats ? JSON.stringify({ output: o }) : outputSummaryLine(o)}\n`);
  const dropped = run.droppedBy();
  if (dropped.length) {
    process.stderr.write(`watchpost: events were dropped by ${dropped.map((o) => `${o.name} (${o.dropped})`).join(', ')}; exit status 1\n`);
    process.exitCode = 1;
  }
  // before the summary: the summary (or final stats) stays the last line
  const found = Object.entries(run.findingCounts()).filter(([, n]) => n > 0);
  const window = run.findingWindow();
  const folded = window?.findingsSuppressed ? `; ${window.findingsSuppressed} repeats within ${window.windowSeconds} s folded into ${window.summaries} summaries` : '';
  if (found.length) process.stderr.write(`${jsonStats ? JSON.stringify({ findings: Object.fromEntries(found), ...(window && { window }) }) : `watchpost: findings: ${found.map(([id, n]) => `${id} ${n}`).join(', ')}${folded}`}\n`);
  for (const p of run.detectionProblems()) process.stderr.write(`watchpost: ${p}\n`);
  process.stderr.write(`${jsonStats ? statsJson(stats, true) : summaryLine(stats)}\n`);
}
