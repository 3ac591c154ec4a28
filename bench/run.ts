/**
 * `npm run bench` (root): Watchpost against no tracer and against the peer tracers present, on workloads built here.
 * Writes BENCHMARKS.md and bench/results.json. See BENCHMARKS.md for the method.
 * Options: --quick (1 run each, smaller suites: for trying the harness, not for publishing); --rare-only (the rare-target
 * suite alone, printed, no report written); --capacity (the capacity suite alone, merged into the existing report);
 * --startup (start-up alone, 10 runs per backend, printed, no report written); --rss (peak RSS alone at 100k ioperm/s,
 * both backends, 3 runs each or 1 with --quick, printed, no report written).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { detectPeers, traceCmdInstance, removeInstance } from './peers.js';
import { launchedPids, stopAll } from './process.js';
import { evaluateTargets, markdown, type Results } from './report.js';
import { accountingSuite, liveSuite, rareSuite, REPS, setReps, stormSuite, whereText } from './suites.js';
import { capacitySuite, type CapacityResult } from './capacity.js';
import { setDist, watchpostCli, watchpostKillRule } from './tools.js';
import { buildWorkloads } from './workload.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const log = (msg: string): void => void process.stderr.write(`bench: ${msg}\n`);

/** The Watchpost commit measured (and whether src/ had uncommitted changes when it was built). */
function revision(): string {
  try {
    const head = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']).toString().trim();
    const dirty = execFileSync('git', ['-C', ROOT, 'status', '--porcelain', '--', 'src']).toString().trim();
    return dirty ? `${head} + uncommitted changes in src/` : head;
  } catch {
    return 'unknown';
  }
}

function machine(): Results['machine'] {
  const model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? 'unknown';
  return {
    nproc: cpus().length,
    cpuModel: model.trim(),
    memTotalMB: Math.round(totalmem() / 2 ** 20),
    kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
    node: process.version,
    revision: '',
    loadBefore: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    loadAfter: '',
  };
}

/** Tracefs instances our Watchpost processes left (watchpost-<their pid>) and our trace-cmd instance. */
function leftovers(ourPids: Set<number>): string[] {
  const found: string[] = [];
  let names: string[] = [];
  try {
    names = readdirSync('/sys/kernel/tracing/instances');
  } catch {
    return found;
  }
  for (const name of names) {
    const m = /^watchpost-(\d+)$/.exec(name);
    if (m && ourPids.has(Number(m[1]))) {
      found.push(`tracefs instance ${name} left by a Watchpost process this benchmark started (removed by the benchmark)`);
      try {
        removeInstance(name);
      } catch (err) {
        found.push(`could not remove ${name}: ${(err as Error).message}`);
      }
    }
    if (name === traceCmdInstance()) {
      removeInstance(name);
      found.push(`trace-cmd instance ${name} left behind (removed)`);
    }
  }
  return found;
}

/** Timed passes over a capture in each capacity replay process. */
const CAPACITY_PASSES = 3;
const RESULTS = join(ROOT, 'bench', 'results.json');
/** The peak-RSS suite: ioperm calls per second, and how long Watchpost traces them before its VmHWM is read. */
const RSS_RATE = 100_000;
const RSS_HOLD_MS = 5000;
const RSS_HOLD_QUICK_MS = 2000;

function previousResults(): Results | undefined {
  return existsSync(RESULTS) ? (JSON.parse(readFileSync(RESULTS, 'utf8')) as Results) : undefined;
}

/** --capacity: the earlier report with this capacity run in it; the first capacity run recorded stays as the baseline ("before"). */
function mergeCapacity(capacity: CapacityResult): Omit<Results, 'targets'> {
  const before = previousResults();
  if (!before) throw new Error(`${RESULTS} is missing: run the whole benchmark once (sudo npm run bench) before --capacity`);
  return { ...before, capacity, capacityBaseline: before.capacityBaseline ?? capacity };
}

function writeReport(partial: Omit<Results, 'targets'>): void {
  const results: Results = { ...partial, targets: evaluateTargets(partial) };
  writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(ROOT, 'BENCHMARKS.md'), markdown(results));
  log(`wrote BENCHMARKS.md and bench/results.json`);
  for (const t of results.targets) log(`${t.met === null ? '?' : t.met ? 'ok ' : 'MISS'} ${t.figure} — ${t.who}: ${t.measured} (target ${t.target})`);
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    process.stderr.write('bench: needs root (tracing): run `sudo npm run bench`\n');
    process.exit(1);
  }
  const quick = process.argv.includes('--quick');
  if (quick) setReps(1);
  const started = Date.now();
  const m = machine();
  const dir = mkdtempSync(join(tmpdir(), 'watchpost-bench-'));
  let snapshot = '';
  const cleanupAndExit = (code: number): void => {
    void stopAll().finally(() => {
      rmSync(dir, { recursive: true, force: true });
      if (snapshot) rmSync(snapshot, { recursive: true, force: true });
      process.exit(code);
    });
  };
  process.on('SIGINT', () => cleanupAndExit(130));
  process.on('SIGTERM', () => cleanupAndExit(143));

  // the repository's dist/ is rebuilt by anyone running tsc: measure a copy taken now, so one run sees one build
  snapshot = mkdtempSync(join(ROOT, 'bench', '.run-'));
  const rev = revision();
  for (const part of ['src', 'bench']) cpSync(join(ROOT, 'dist', part), join(snapshot, 'dist', part), { recursive: true });
  setDist(join(snapshot, 'dist'));
  m.revision = rev;
  try {
    log(`building workloads in ${dir}; measuring the Watchpost build copied to ${snapshot}`);
    const bins = buildWorkloads(dir);
    if (process.argv.includes('--startup')) {
      setReps(10);
      for (const s of await liveSuite(bins, ['ebpf', 'tracefs'], 10_000, 0, 'startup')) {
        const ms = (x: { median: number; min: number; max: number } | undefined): string => (x ? `${Math.round(x.median)} (${Math.round(x.min)}–${Math.round(x.max)})` : '–');
        log(`startup ${s.backend}: "tracing with" ${ms(s.readyMs)} ms, first event ${ms(s.firstEventMs)} ms over ${s.firstEventMs?.n ?? 0} runs${s.errors.length ? `; ${s.errors.length} failed: ${s.errors[0]}` : ''}`);
      }
      return;
    }
    if (process.argv.includes('--rss')) {
      for (const s of await liveSuite(bins, ['ebpf', 'tracefs'], RSS_RATE, quick ? RSS_HOLD_QUICK_MS : RSS_HOLD_MS, 'rss')) {
        const sp = (x: { median: number; min: number; max: number } | undefined, digits: number): string => (x ? `${x.median.toFixed(digits)} (${x.min.toFixed(digits)}–${x.max.toFixed(digits)})` : '–');
        log(`rss ${s.backend}: peak ${sp(s.peakRssMB, 1)} MB (medians at the peak's reading, MB: ${whereText(s.rssMB)}), delivered ${sp(s.eventsPerSec, 0)} of ${s.rate} ev/s over ${s.peakRssMB?.n ?? 0} runs${s.errors.length ? `; ${s.errors.length} failed: ${s.errors[0]}` : ''}`);
      }
      return;
    }
    if (process.argv.includes('--capacity')) {
      const capacity = await capacitySuite(bins, dir, REPS, CAPACITY_PASSES);
      capacity.revision = rev;
      capacity.command = 'node dist/bench/run.js --capacity';
      writeReport(mergeCapacity(capacity));
      return;
    }
    const peers = await detectPeers(dir);
    for (const p of peers.status) log(`peer ${p.name}: ${p.usable ? 'measured' : 'skipped'} (${p.note})`);
    const missing = peers.status.filter((p) => !p.present).map((p) => p.name);
    if (missing.length) log(`missing peers: ${missing.join(', ')}; install from Debian: apt-get install strace bpftrace linux-perf trace-cmd`);
    const wp = [watchpostCli('ebpf', true), watchpostCli('ebpf', false), watchpostCli('tracefs', true), watchpostCli('tracefs', false)];
    const tools = [...wp, ...peers.tools];

    const rare = await rareSuite(bins, [...tools, watchpostKillRule(false), watchpostKillRule(true)], dir); // kill rules: the rare target only
    if (process.argv.includes('--rare-only')) {
      // a look at the default mode on this kernel (e.g. under test/fixtures/no32.c); writes no report
      log(`rare only: 32-bit calls in the workload: ${rare.compatCalls} (${rare.compatDetail})`);
      for (const row of rare.rows) log(`rare: ${row.label}: ratio ${row.ratio?.toFixed(2) ?? '–'}, delivered ${row.delivered ?? '–'} of ${row.issued ?? '–'}`);
      return;
    }
    const storms = [await stormSuite(bins, 'ioperm', tools, dir), await stormSuite(bins, 'ioctl', tools, dir)];
    const capacity = await capacitySuite(bins, dir, REPS, CAPACITY_PASSES);
    capacity.revision = rev;
    capacity.command = 'sudo npm run bench';
    const accounting = await accountingSuite(bins, ['ebpf', 'tracefs']);
    const startup = await liveSuite(bins, ['ebpf', 'tracefs'], 10_000, 0, 'startup');
    const rss = await liveSuite(bins, ['ebpf', 'tracefs'], RSS_RATE, quick ? RSS_HOLD_QUICK_MS : RSS_HOLD_MS, 'rss');

    const cleanup = leftovers(launchedPids);
    m.loadAfter = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    const notes = [
      'Rare workload: every run also makes one int $0x80 ioperm per native one, so "catches compat" is measured, not assumed. bpftrace on raw_syscalls filters id == 173 || id == 101 without checking TS_COMPAT, so it would also report native ptrace (101) calls as ioperm.',
      'strace -p stops the workload at every syscall; strace --seccomp-bpf starts the workload itself and stops only at the traced syscall. Slow peers (strace, perf trace) run fewer calls (calls/run column) to keep the run short; ratios are per call.',
      'Per captured event (ns added to the caller) comes from the ioperm storm, where the kernel buffer is full most of the time; it is the cost of a call whose record mostly could not be reserved, not of a delivered event.',
      'Watchpost --scope pid=… filters in user space (counted as filtered); the kernel buffer losses it reports are system-wide, so in the storms they may include other processes\' events (a small negative "unaccounted" on eBPF).',
      'perf record and bpftrace trace system-wide; their counts are for the workload pid. perf record "reported lost" is the largest LOST_SAMPLES line of `perf report --stats` (all pids).',
      'Watchpost "reported lost" = lostEvents from its final stats line where the build reports it (all events lost, system-wide), else lostByEvent[syscall] + lostRecords (documented as disjoint in builds without lostEvents). lostRecords counts kernel records, not events (tracefs: one enter and one exit record per syscall; eBPF: also fork/exec/exit task records of every process), and where the eBPF backend fills lostByEvent it counts the same ring-buffer losses again; so a negative "unaccounted" means Watchpost reported more losses than events went missing. Section 3 reads the counters by record.',
      'Watchpost is measured from a copy of dist/ taken when the run starts (the repository\'s dist/ may be rebuilt meanwhile). Start-up is measured after earlier Watchpost runs of the same invocation, so caches Watchpost keeps on disk (e.g. eBPF struct offsets in /var/cache/watchpost) are warm.',
      'The VM is shared with other jobs (see the load averages): untraced baselines move between runs, so compare ratios within one invocation, not across invocations.',
    ];
    const partial: Omit<Results, 'targets'> = {
      date: new Date().toISOString(),
      command: 'sudo npm run bench',
      durationS: (Date.now() - started) / 1000,
      machine: m,
      peers: peers.status,
      rare,
      storms,
      accounting,
      startup,
      rss,
      capacity,
      capacityBaseline: previousResults()?.capacityBaseline ?? capacity,
      cleanup,
      notes,
    };
    writeReport(partial);
  } finally {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
    rmSync(snapshot, { recursive: true, force: true });
  }
}

main().catch(async (err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
  await stopAll();
  process.exit(1);
});
