import type { LossKind } from '../src/model/loss.js';
import { join } from 'node:path';
import { exited, interrupt, launch, Lines, sleep, type RssBreakdown } from './process.js';
import { runOnce, spread, type Run, type Spread } from './measure.js';
import { DIST, startWatchpost, type Syscall, type Tool } from './tools.js';
import { TRACER_CPU, WORKLOAD_CPU, Workload, type WorkloadName } from './workload.js';
import { compatSupport } from '../src/probes/compat-support.js';

export let REPS = 3;
/** --quick: one run of each, for trying the harness. */
export function setReps(n: number): void {
  REPS = n;
}
const cpu = ['--cpu', String(WORKLOAD_CPU)];
const log = (msg: string): void => void process.stderr.write(`bench: ${msg}\n`);

/** One tool's figures over the repetitions of a workload. */
export interface Row {
  tool: string;
  label: string;
  kind: 'untraced' | 'watchpost' | 'peer';
  output: string;
  /** Calls per run (the workload's size for this tool). */
  size: number;
  nsPerSyscall?: Spread;
  /** Untraced ns per syscall / traced ns per syscall, medians of this invocation. */
  ratio?: number;
  eventsPerSec?: Spread;
  /** Medians over runs, for the workload's pid. */
  issued?: number;
  delivered?: number;
  reportedLost?: number | null;
  /** issued - delivered - reportedLost (negative: the tool counted more losses than it missed). */
  unaccounted?: number;
  /** Extra ns the caller paid per traced call (storms): traced - untraced ns per call. */
  addedNsPerEvent?: number;
  peakRssMB?: Spread;
  errors: string[];
  runs: Run[];
}

const med = (runs: Run[], f: (r: Run) => number | null | undefined): number | undefined => {
  const xs = runs.map(f).filter((x): x is number => typeof x === 'number');
  return spread(xs)?.median;
};

function summarize(tool: Tool | undefined, size: number, runs: Run[], issuedOf: (r: Run) => number | undefined): Row {
  const ok = runs.filter((r) => !r.error);
  const row: Row = {
    tool: tool?.id ?? 'untraced',
    label: tool?.label ?? 'untraced',
    kind: tool?.kind ?? 'untraced',
    output: tool?.output ?? '-',
    size,
    nsPerSyscall: spread(ok.map((r) => r.nsPerSyscall)),
    errors: runs.filter((r) => r.error).map((r) => r.error ?? ''),
    runs,
  };
  if (tool) {
    row.eventsPerSec = spread(ok.map((r) => r.eventsPerSec));
    row.issued = med(ok, issuedOf);
    row.delivered = med(ok, (r) => r.tracer?.delivered);
    const lost = ok.map((r) => r.tracer?.reportedLost);
    row.reportedLost = lost.some((x) => x === null) ? null : med(ok, (r) => r.tracer?.reportedLost);
    row.unaccounted = med(ok, (r) => {
      const issued = issuedOf(r);
      return issued === undefined || !r.tracer ? undefined : issued - r.tracer.delivered - (r.tracer.reportedLost ?? 0);
    });
    row.peakRssMB = spread(ok.map((r) => (r.tracer?.peakRssKb ? r.tracer.peakRssKb / 1024 : undefined)));
  }
  return row;
}

/** Runs the workload untraced and under every tool, REPS times, interleaved so drift hits every tool alike. */
async function sweep(name: string, argvOf: (scale: number) => { argv: string[]; size: number }, s: Syscall, tools: Tool[], dir: string, issuedOf: (r: Run, tool: Tool) => number | undefined, scaleOf: (t: Tool) => number = (t) => t.scale): Promise<Row[]> {
  const all: (Tool | undefined)[] = [undefined, ...tools];
  const runs = new Map<Tool | undefined, Run[]>(all.map((t) => [t, []]));
  for (let rep = 0; rep < REPS; rep++) {
    for (const tool of all) {
      const { argv } = argvOf(tool ? scaleOf(tool) : 1);
      const r = await runOnce(argv, s, tool, dir);
      runs.get(tool)?.push(r);
      log(`${name} ${rep + 1}/${REPS} ${tool?.id ?? 'untraced'}: ${r.error ? `FAILED ${r.error}` : `${r.nsPerSyscall?.toFixed(1)} ns/call${r.tracer ? `, ${r.tracer.delivered} delivered, ${r.tracer.reportedLost ?? '?'} lost, ${Math.round(r.eventsPerSec ?? 0)} ev/s` : ''}`}`);
    }
  }
  const rows = all.map((t) => summarize(t, argvOf(t ? scaleOf(t) : 1).size, runs.get(t) ?? [], (r) => (t ? issuedOf(r, t) : undefined)));
  const base = rows[0].nsPerSyscall?.median;
  for (const row of rows.slice(1)) {
    const traced = row.nsPerSyscall?.median;
    if (base && traced) {
      row.ratio = base / traced;
      row.addedNsPerEvent = traced - base;
    }
  }
  return rows;
}

export interface RareResult {
  calls: number;
  every: number;
  /** This kernel runs 32-bit syscalls, so the workload makes int $0x80 ioperm calls too (else it would be killed). */
  compatCalls: boolean;
  /** How that was found out (compat-support.ts). */
  compatDetail: string;
  rows: (Row & { caughtNative?: number; caughtCompat?: boolean })[];
}

/** 1. Rare target among noise: getppid loop, one native and (where the kernel runs them) one int $0x80 ioperm every `every` calls. */
export async function rareSuite(bins: Record<WorkloadName, string>, tools: Tool[], dir: string): Promise<RareResult> {
  const calls = 2_000_000;
  const every = 1000;
  const support = compatSupport();
  const argvOf = (scale: number): { argv: string[]; size: number } => {
    const n = Math.round((calls * scale) / every) * every;
    return { argv: [bins.rare, ...cpu, String(n), String(every), ...(support.ok ? ['compat'] : [])], size: n };
  };
  const rows = await sweep('rare', argvOf, 'ioperm', tools, dir, (r) => (r.report ? (r.report.targets ?? 0) + (r.report.compatTargets ?? 0) : undefined), (t) => t.rareScale ?? t.scale);
  return {
    calls,
    every,
    compatCalls: support.ok,
    compatDetail: support.detail,
    rows: rows.map((row) => {
      const runs = row.runs.filter((r) => r.report && r.tracer);
      if (!runs.length) return row;
      // every run issues as many int $0x80 ioperm calls as native ones: a tool that caught more than the native ones sees
      // compat calls; one that caught fewer while losing events cannot tell (undefined)
      const caught = runs.map((r) => (r.tracer?.delivered ?? 0) - (r.report?.targets ?? 0));
      const lossy = runs.some((r) => (r.tracer?.reportedLost ?? 0) > 0);
      const caughtCompat = caught.every((c) => c > 0) ? true : lossy && caught.some((c) => c < 0) ? undefined : false;
      return { ...row, caughtCompat, caughtNative: row.delivered };
    }),
  };
}

export interface StormResult {
  syscall: Syscall;
  calls: number;
  rows: Row[];
}

/** 2. A storm of one syscall: events/s end to end, slowdown, losses, cost per captured event. */
export async function stormSuite(bins: Record<WorkloadName, string>, s: Syscall, tools: Tool[], dir: string): Promise<StormResult> {
  const calls = 1_000_000;
  const argvOf = (scale: number): { argv: string[]; size: number } => {
    const n = Math.round(calls * scale);
    return { argv: [bins.storm, ...cpu, s, String(n)], size: n };
  };
  return { syscall: s, calls, rows: await sweep(`${s} storm`, argvOf, s, tools, dir, (r) => r.report?.syscalls) };
}

export interface AccountingRun {
  issued: number;
  delivered: number;
  lostByEvent: number;
  lostRecords: number;
  /** stats().lostEvents, in builds that have it. */
  lostEvents?: number;
  lostByReason: Record<string, number>;
  lostByKind: Partial<Record<LossKind, number>>;
  /** delivered + counted lost - issued (counted lost: lostEvents, else lostByEvent + lostRecords): 0 when the books balance. */
  difference: number;
  elapsedMs: number;
  error?: string;
}

export interface AccountingResult {
  backend: string;
  runs: AccountingRun[];
  exact: boolean;
}


/** 3. Accounting: 1,000,000 ioperm calls from one pid, traced by the library with pids: [pid]. */
export async function accountingSuite(bins: Record<WorkloadName, string>, backends: ('ebpf' | 'tracefs')[]): Promise<AccountingResult[]> {
  const out: AccountingResult[] = backends.map((backend) => ({ backend, runs: [], exact: false }));
  for (let rep = 0; rep < REPS; rep++) {
    for (const [i, backend] of backends.entries()) {
      let w: Workload | undefined;
      let tracer: ReturnType<typeof launch> | undefined;
      try {
        w = await Workload.start([bins.storm, ...cpu, 'ioperm', '1000000']);
        tracer = launch(['taskset', '-c', String(TRACER_CPU), process.execPath, join(DIST, 'bench', 'accounting-tracer.js'), backend, 'ioperm', String(w.pid)], ['ignore', 'pipe', 'pipe']);
        const tout = new Lines(tracer.stdout);
        const err = new Lines(tracer.stderr);
        await tout.waitFor((l) => l.startsWith('ready'), 60_000, `accounting tracer (${backend}) ready; stderr: ${err.tail()}`);
        w.go();
        const report = await w.finish(120_000);
        void interrupt(tracer);
        const line = await tout.waitFor((l) => l.startsWith('{'), 60_000, 'accounting tracer result');
        await exited(tracer);
        const res = JSON.parse(line.text) as { counted: number; stats: { lostByEvent: Record<string, number>; lostRecords: number; lostEvents?: number; lostByReason: Record<string, number>; lostByKind: Partial<Record<LossKind, number>> } };
        const countedLost = typeof res.stats.lostEvents === 'number' ? res.stats.lostEvents : (res.stats.lostByEvent.ioperm ?? 0) + res.stats.lostRecords;
        const run: AccountingRun = {
          issued: report.syscalls,
          delivered: res.counted,
          lostByEvent: res.stats.lostByEvent.ioperm ?? 0,
          lostRecords: res.stats.lostRecords,
          lostEvents: res.stats.lostEvents,
          lostByReason: res.stats.lostByReason,
          lostByKind: res.stats.lostByKind,
          difference: res.counted + countedLost - report.syscalls,
          elapsedMs: report.ns / 1e6,
        };
        out[i].runs.push(run);
        log(`accounting ${rep + 1}/${REPS} ${backend}: issued ${run.issued}, delivered ${run.delivered}, counted lost ${countedLost} (lostEvents ${run.lostEvents ?? 'absent'}, lostByEvent ${run.lostByEvent}, lostRecords ${run.lostRecords}), difference ${run.difference}`);
      } catch (err) {
        if (tracer) await interrupt(tracer, 5000);
        if (w) await interrupt(w.child, 3000);
        out[i].runs.push({ issued: 0, delivered: 0, lostByEvent: 0, lostRecords: 0, lostByReason: {}, lostByKind: {}, difference: NaN, elapsedMs: 0, error: String((err as Error).message).slice(0, 400) });
        log(`accounting ${rep + 1}/${REPS} ${backend}: FAILED ${(err as Error).message}`);
      }
    }
  }
  for (const r of out) r.exact = r.runs.length > 0 && r.runs.every((x) => !x.error && x.difference === 0);
  return out;
}

export interface LiveResult {
  backend: string;
  /** launch of the CLI -> "tracing with" on stderr (probes attached). */
  readyMs?: Spread;
  /** launch of the CLI -> first JSON line on stdout. */
  firstEventMs?: Spread;
  peakRssMB?: Spread;
  /** Where the resident memory was when the peak was read, MB (rss runs). */
  rssMB?: Partial<Record<keyof RssBreakdown, Spread>>;
  eventsPerSec?: Spread;
  rate: number;
  errors: string[];
}

const WHERE = ['anon', 'nodeBinary', 'bpfMaps', 'otherFiles'] as const;

/** "anon 36.1, nodeBinary 39.2, …": resident memory by kind, in MB (figures in KiB are converted). */
export function whereText(where: RssBreakdown | Partial<Record<keyof RssBreakdown, Spread>> | undefined): string {
  if (!where) return 'no breakdown';
  return WHERE.map((k) => {
    const v = where[k];
    return `${k} ${v === undefined ? '–' : (typeof v === 'number' ? v / 1024 : v.median).toFixed(1)}`;
  }).join(', ');
}

/** 4./5. The CLI against a workload already calling ioperm at `rate`/s: start-up to first event, or peak RSS over `holdMs`. */
export async function liveSuite(bins: Record<WorkloadName, string>, backends: ('ebpf' | 'tracefs')[], rate: number, holdMs: number, what: 'startup' | 'rss'): Promise<LiveResult[]> {
  const acc = backends.map(() => ({ ready: [] as number[], first: [] as number[], rss: [] as number[], where: [] as RssBreakdown[], eps: [] as number[], errors: [] as string[] }));
  for (let rep = 0; rep < REPS; rep++) {
    for (const [i, backend] of backends.entries()) {
      const w = launch([bins.paced, ...cpu, String(rate)], ['pipe', 'pipe', 'ignore']);
      const wout = new Lines(w.stdout);
      let cli: ReturnType<typeof startWatchpost> | undefined;
      try {
        await wout.waitFor((l) => l.startsWith('ready'), 10_000, 'paced workload');
        const pid = Number(wout.all[0].text.split(' ')[1]);
        await sleep(200); // calling well before the tracer starts
        cli = startWatchpost(['-o', 'json', '-e', 'ioperm', '--backend', backend, '--scope', `pid=${pid}`], 'ioperm', what === 'startup');
        await cli.ready;
        const readyAt = performance.now();
        if (what === 'startup') {
          const first = await cli.stdout?.waitFor(() => true, 30_000, 'first event');
          acc[i].ready.push(readyAt - cli.launchedAt);
          if (first) acc[i].first.push(first.at - cli.launchedAt);
        } else await sleep(holdMs);
        const res = await cli.stop();
        if (what === 'rss') {
          if (res.peakRssKb) acc[i].rss.push(res.peakRssKb / 1024);
          if (res.rssKb) acc[i].where.push(res.rssKb);
          acc[i].eps.push(res.delivered / ((res.endAt - readyAt) / 1000));
        }
        log(`${what} ${rep + 1}/${REPS} ${backend}: ${what === 'startup' ? `ready ${Math.round(readyAt - cli.launchedAt)} ms, first event ${Math.round((acc[i].first.at(-1) ?? NaN))} ms` : `peak RSS ${((res.peakRssKb ?? 0) / 1024).toFixed(1)} MB (${whereText(res.rssKb)}), ${res.delivered} delivered, ${res.reportedLost} lost`}`);
      } catch (err) {
        if (cli) await cli.abort();
        acc[i].errors.push(String((err as Error).message).slice(0, 400));
        log(`${what} ${rep + 1}/${REPS} ${backend}: FAILED ${(err as Error).message}`);
      } finally {
        w.stdin?.end();
        const timer = setTimeout(() => void interrupt(w, 1000), 3000);
        await exited(w);
        clearTimeout(timer);
      }
    }
  }
  return backends.map((backend, i) => ({
    backend,
    rate,
    readyMs: spread(acc[i].ready),
    firstEventMs: spread(acc[i].first),
    peakRssMB: spread(acc[i].rss),
    rssMB: acc[i].where.length ? Object.fromEntries(WHERE.map((k) => [k, spread(acc[i].where.map((w) => w[k] / 1024))])) : undefined,
    eventsPerSec: spread(acc[i].eps),
    errors: acc[i].errors,
  }));
}
