import type { CapacityProfile, CapacityResult } from './capacity.js';
import type { Spread } from './measure.js';
import type { PeerStatus } from './peers.js';
import type { AccountingResult, AccountingRun, LiveResult, RareResult, Row, StormResult } from './suites.js';

export interface Machine {
  nproc: number;
  cpuModel: string;
  memTotalMB: number;
  kernel: string;
  node: string;
  /** Watchpost commit measured. */
  revision: string;
  loadBefore: string;
  loadAfter: string;
}

export interface Results {
  date: string;
  command: string;
  durationS: number;
  machine: Machine;
  peers: PeerStatus[];
  rare?: RareResult;
  storms: StormResult[];
  accounting: AccountingResult[];
  startup: LiveResult[];
  rss: LiveResult[];
  /** Replayed captures (section 6) and the first such run recorded, kept as the "before" of later runs. */
  capacity?: CapacityResult;
  capacityBaseline?: CapacityResult;
  targets: Target[];
  cleanup: string[];
  notes: string[];
}

export interface Target {
  figure: string;
  who: string;
  measured: string;
  target: string;
  met: boolean | null;
}

const f = (x: number | undefined | null, digits = 2): string => (x === undefined || x === null || !Number.isFinite(x) ? '–' : x.toFixed(digits));
const int = (x: number | undefined | null): string => (x === undefined || x === null || !Number.isFinite(x) ? '–' : Math.round(x).toLocaleString('en-US'));
const sp = (s: Spread | undefined, digits = 1, scale = 1): string =>
  s ? `${(s.median * scale).toFixed(digits)} (${(s.min * scale).toFixed(digits)}–${(s.max * scale).toFixed(digits)})` : '–';
const spInt = (s: Spread | undefined): string => (s ? `${int(s.median)} (${int(s.min)}–${int(s.max)})` : '–');

/** Unaccounted events of every run of a row (issued - delivered - reported lost). */
export function unaccountedRuns(row: Row, issuedOf: (r: Row['runs'][number]) => number | undefined): number[] {
  return row.runs
    .filter((r) => !r.error && r.tracer)
    .map((r) => {
      const issued = issuedOf(r);
      return issued === undefined || !r.tracer ? NaN : issued - r.tracer.delivered - (r.tracer.reportedLost ?? 0);
    });
}

/**
 * delivered + lost syscalls - issued, reading stats() by record: eBPF writes one record per syscall, and its task
 * (fork/exec/exit) records, system-wide, are not syscalls (its lostByEvent, when set, counts the same ringbuf losses
 * again); tracefs writes an enter and an exit record per syscall, and lostByEvent counts the exits whose enter was
 * lost (one record each).
 */
export function recordBalance(backend: string, x: AccountingRun): number {
  if (backend === 'ebpf') {
    const syscallRecords = Object.entries(x.lostByKind).filter(([k]) => k !== 'task-ringbuf-full').reduce((n, [, v]) => n + (v ?? 0), 0);
    return x.delivered + syscallRecords - x.issued;
  }
  return x.delivered + (x.lostRecords + x.lostByEvent) / 2 - x.issued;
}

/** Checks each figure against its target from issue 9. */
export function evaluateTargets(r: Omit<Results, 'targets'>): Target[] {
  const out: Target[] = [];
  const rare = r.rare?.rows ?? [];
  const compatPeers = rare.filter((x) => x.kind === 'peer' && x.caughtCompat && x.ratio !== undefined);
  const bestPeer = compatPeers.reduce<(typeof rare)[number] | undefined>((b, x) => (!b || (x.ratio ?? 0) > (b.ratio ?? 0) ? x : b), undefined);
  for (const backend of ['ebpf', 'tracefs']) {
    const row = rare.find((x) => x.tool === `watchpost-${backend}`);
    if (row) {
      const ahead = bestPeer ? (row.ratio ?? 0) > (bestPeer.ratio ?? 0) : true;
      // where the kernel runs no 32-bit syscalls, the default (--compat auto) arms the native hooks: the native-only target applies
      out.push(
        r.rare?.compatCalls === false
          ? {
              figure: 'Rare target, default mode (--compat auto; this kernel runs no 32-bit syscalls, so native hooks): ratio',
              who: `Watchpost ${backend}`,
              measured: `${f(row.ratio)}; delivered ${int(row.delivered)} of ${int(row.issued)} ioperm (${int(row.reportedLost)} reported lost)`,
              target: '≥ 0.78, as native-only',
              met: row.ratio === undefined ? null : row.ratio >= 0.78 && row.delivered === row.issued,
            }
          : {
              figure: 'Rare target, default mode (--compat auto; compat calls caught): ratio',
              who: `Watchpost ${backend}`,
              measured: `${f(row.ratio)}; delivered ${int(row.delivered)} of ${int(row.issued)} ioperm (${int(row.reportedLost)} reported lost)${row.caughtCompat === false ? ', compat calls not caught' : ''}; best compat-catching peer: ${bestPeer ? `${bestPeer.label} ${f(bestPeer.ratio)}` : 'none measured'}`,
              target: '≥ 0.62 and ahead of every peer that catches compat calls',
              met: row.ratio === undefined ? null : row.ratio >= 0.62 && row.caughtCompat === true && row.delivered === row.issued && ahead,
            },
      );
    }
    const native = rare.find((x) => x.tool === `watchpost-${backend}-nocompat`);
    if (native) out.push({ figure: 'Rare target, native-only (--compat off): ratio', who: `Watchpost ${backend}`, measured: f(native.ratio), target: '≥ 0.78', met: native.ratio === undefined ? null : native.ratio >= 0.78 });
  }
  const armed = rare.find((x) => x.tool === 'watchpost-ebpf-kill-armed');
  const dry = rare.find((x) => x.tool === 'watchpost-ebpf-kill-dry');
  if (armed && dry) {
    out.push({
      figure: 'Rare target with a kill rule the workload never matches: ratio armed (--enforce) vs dry run',
      who: 'Watchpost ebpf',
      measured: `armed ${f(armed.ratio)}, dry run ${f(dry.ratio)}`,
      target: 'within noise of each other (±0.05)',
      met: armed.ratio === undefined || dry.ratio === undefined ? null : Math.abs(armed.ratio - dry.ratio) <= 0.05,
    });
  }
  const ioperm = r.storms.find((s) => s.syscall === 'ioperm');
  const ioctl = r.storms.find((s) => s.syscall === 'ioctl');
  for (const backend of ['ebpf', 'tracefs']) {
    const row = ioperm?.rows.find((x) => x.tool === `watchpost-${backend}`);
    if (row) {
      const un = unaccountedRuns(row, (x) => x.report?.syscalls);
      out.push({
        figure: 'ioperm storm, full decode to JSON: ratio; unaccounted events',
        who: `Watchpost ${backend}`,
        measured: `${f(row.ratio)}; unaccounted per run: ${un.map(int).join(', ') || '–'}`,
        target: '≥ 0.30, nothing unaccounted',
        met: row.ratio === undefined || !un.length ? null : row.ratio >= 0.3 && un.every((u) => u === 0),
      });
      out.push({
        figure: 'Per captured event: ns added to the caller (ioperm storm)',
        who: `Watchpost ${backend}`,
        measured: `${f(row.addedNsPerEvent, 0)} (measured with the kernel buffer overflowing: ${int(row.delivered)} of ${int(row.issued)} calls delivered, ${int(row.reportedLost)} reported lost)`,
        target: '≤ 300 ns',
        met: row.addedNsPerEvent === undefined ? null : row.addedNsPerEvent <= 300,
      });
    }
    const c = ioctl?.rows.find((x) => x.tool === `watchpost-${backend}`);
    if (c) {
      const un = unaccountedRuns(c, (x) => x.report?.syscalls);
      out.push({
        figure: 'ioctl storm: events/s delivered end to end (tracer on one core); unaccounted',
        who: `Watchpost ${backend}`,
        measured: `${int(c.eventsPerSec?.median)} ev/s; unaccounted per run: ${un.map(int).join(', ') || '–'}`,
        target: '≥ 1,000,000 ev/s, zero unaccounted',
        met: c.eventsPerSec === undefined || !un.length ? null : c.eventsPerSec.median >= 1e6 && un.every((u) => u === 0),
      });
    }
  }
  for (const a of r.accounting) {
    const balanced = a.runs.length > 0 && a.runs.every((x) => !x.error && recordBalance(a.backend, x) === 0);
    out.push({
      figure: 'Accounting: delivered + counted-lost == issued (1,000,000 ioperm)',
      who: `Watchpost ${a.backend} (library, pids filter)`,
      measured: a.runs.map((x) => (x.error ? 'failed' : `${int(x.delivered)} + ${int(x.difference + x.issued - x.delivered)} vs ${int(x.issued)} (diff ${int(x.difference)})`)).join('; ') + (a.runs.some((x) => x.lostEvents !== undefined) ? ' (counted lost: stats().lostEvents)' : ' (counted lost: lostByEvent + lostRecords)'),
      target: 'exactly equal',
      met: a.runs.length ? a.exact : null,
    });
    out.push({
      figure: 'Accounting, losses converted from kernel records to syscalls (see section 3)',
      who: `Watchpost ${a.backend} (library, pids filter)`,
      measured: a.runs.map((x) => (x.error ? 'failed' : `diff ${int(recordBalance(a.backend, x))}`)).join('; '),
      target: 'exactly equal (not the issue\'s figure: a reading of stats(), shown to locate the gap)',
      met: a.runs.length ? balanced : null,
    });
  }
  for (const backend of ['ebpf', 'tracefs'] as const) {
    const rows = r.capacity?.rows.filter((x) => x.backend === backend) ?? [];
    for (const [detect, target] of [[false, 1_000_000], [true, 600_000]] as const) {
      const mine = rows.filter((x) => x.detect === detect);
      if (!mine.length) continue;
      out.push({
        figure: `Pipeline capacity, captured storms replayed on one core, detections ${detect ? 'on (the ioperm storm makes a finding per event)' : 'off'}: events/s`,
        who: `Watchpost ${backend}`,
        measured: mine.map((x) => `${x.syscall} ${int(x.eventsPerCpuSec?.median)} per CPU second (${int(x.eventsPerSec?.median)} per wall second)`).join('; '),
        target: `≥ ${int(target)} ev/s`,
        met: mine.some((x) => !x.eventsPerCpuSec) ? null : mine.every((x) => (x.eventsPerCpuSec?.median ?? 0) >= target),
      });
    }
  }
  for (const s of r.startup) {
    out.push({ figure: 'Start-up: CLI launch to first event on stdout', who: `Watchpost ${s.backend}`, measured: `${sp(s.firstEventMs, 0)} ms`, target: '≤ 250 ms', met: s.firstEventMs ? s.firstEventMs.median <= 250 : null });
  }
  for (const s of r.rss) {
    out.push({ figure: `Peak RSS (VmHWM) at ${int(s.rate)} ioperm/s`, who: `Watchpost ${s.backend}`, measured: `${sp(s.peakRssMB)} MB (it delivered ${int(s.eventsPerSec?.median)} of the ${int(s.rate)} ev/s issued)`, target: '≤ 80 MB at 100k ev/s', met: s.peakRssMB ? s.peakRssMB.median <= 80 : null });
  }
  return out;
}

function rowsTable(rows: Row[], storm: boolean, extra?: (row: Row) => string): string {
  const head = storm
    ? '| tool | output | calls/run | ns/call median (min–max) | ratio | events/s delivered median (min–max) | delivered | reported lost | unaccounted | ns added per event |\n|---|---|---|---|---|---|---|---|---|---|'
    : '| tool | output | calls/run | ns/syscall median (min–max) | ratio | ioperm issued (native + int $0x80) | delivered | reported lost | catches compat |\n|---|---|---|---|---|---|---|---|---|';
  const lines = rows.map((row) => {
    const err = row.errors.length ? ` ⚠ ${row.errors.length} failed run(s)` : '';
    return storm
      ? `| ${row.label}${err} | ${row.output} | ${int(row.size)} | ${sp(row.nsPerSyscall)} | ${f(row.ratio)} | ${spInt(row.eventsPerSec)} | ${int(row.delivered)} | ${row.reportedLost === null ? 'not reported' : int(row.reportedLost)} | ${int(row.unaccounted)} | ${f(row.addedNsPerEvent, 0)} |`
      : `| ${row.label}${err} | ${row.output} | ${int(row.size)} | ${sp(row.nsPerSyscall)} | ${f(row.ratio)} | ${int(row.issued)} | ${int(row.delivered)} | ${row.reportedLost === null ? 'not reported' : int(row.reportedLost)} | ${extra?.(row) ?? ''} |`;
  });
  return [head, ...lines].join('\n');
}

export function markdown(r: Results): string {
  const m = r.machine;
  const out: string[] = [];
  out.push('# Watchpost benchmarks', '');
  out.push(`Generated by \`${r.command}\` on ${r.date} (${r.durationS.toFixed(0)} s). Every figure below was measured in that one run; nothing is copied from elsewhere. Re-run it to refresh this file and \`bench/results.json\`.`, '');
  out.push(`Machine: ${m.nproc} vCPU (${m.cpuModel}), ${int(m.memTotalMB)} MB RAM; kernel ${m.kernel}; Node ${m.node}; Watchpost ${m.revision}. Load average before: ${m.loadBefore}; after: ${m.loadAfter} (other jobs on this VM add noise: see the min–max spreads).`, '');
  out.push('Method: each workload (C, built with gcc into a temporary directory) runs pinned to CPU 1; each tracer runs pinned to CPU 0. Every workload run is repeated 3 times, tools interleaved; figures are medians (min–max). A ratio is untraced ns per syscall / traced ns per syscall, both medians from this invocation. Watchpost runs as a user runs it: the CLI, `-o json` to /dev/null, detections on, `--scope pid=<workload>`; events/s run from the go signal to the tool\'s last event written (Watchpost: its final stats line after SIGINT; peers: their exit). Delivered and lost are counted for the workload\'s pid only; unaccounted = issued − delivered − lost as the tool reports it.', '');
  out.push('## Targets (issues 9 and 13)', '');
  out.push('| figure | who | measured | target | met |', '|---|---|---|---|---|');
  for (const t of r.targets) out.push(`| ${t.figure} | ${t.who} | ${t.measured} | ${t.target} | ${t.met === null ? 'not measured' : t.met ? 'yes' : '**no**'} |`);
  out.push('');
  if (r.rare) {
    const compatLine =
      r.rare.compatCalls === false
        ? `one native ioperm every ${r.rare.every} calls (no \`int $0x80\` ioperm: this kernel runs no 32-bit syscalls — ${r.rare.compatDetail} — so Watchpost's default, \`--compat auto\`, arms the native hooks)`
        : `one native ioperm and one \`int $0x80\` ioperm every ${r.rare.every} calls (this kernel runs 32-bit syscalls — ${r.rare.compatDetail ?? 'found out at start'} — so Watchpost's default, \`--compat auto\`, arms the 32-bit hooks)`;
    out.push(`## 1. Rare target among noise`, '', `getppid loop, ${int(r.rare.calls)} calls per run, ${compatLine}; each tool traces ioperm. "Catches compat": the tool delivered more ioperm events than the native calls.`, '');
    out.push(rowsTable(r.rare.rows, false, (row) => (!row.runs.some((x) => x.tracer) ? '–' : (row as { caughtCompat?: boolean }).caughtCompat === undefined ? 'cannot tell (events lost)' : (row as { caughtCompat?: boolean }).caughtCompat ? 'yes' : 'no')), '');
  }
  for (const s of r.storms) {
    out.push(`## 2. ${s.syscall} storm`, '', `${int(s.calls)} ${s.syscall === 'ioperm' ? 'ioperm(0x80, 1, 1) (ENOSYS here; the tracepoints fire)' : 'ioctl(FIONREAD) on a pipe'} calls per run, as fast as possible (slow peers run fewer: see calls/run). "ns added per event" = traced − untraced ns per call.`, '');
    out.push(rowsTable(s.rows, true), '');
  }
  if (r.accounting.length) {
    out.push('## 3. Accounting', '', '1,000,000 ioperm calls from one process, traced by the library (`trace({ backend, events: [\'ioperm\'], pids: [pid] })`, the pid filtered in the kernel); delivered counted by the consumer; counted lost from `stats()`: `lostEvents` where the build has it, else `lostByEvent.ioperm` + `lostRecords`.', '');
    out.push('Read by record (last column): eBPF writes one record per syscall, and its fork/exec/exit task records (system-wide) are not syscalls, so the syscall balance is delivered + the non-task ringbuf losses − issued (lostByEvent, where the revision sets it, counts those same losses a second time); tracefs writes an enter and an exit record per syscall and lostByEvent counts exits whose enter was lost, so it is delivered + (lostRecords + lostByEvent) / 2 − issued.', '');
    out.push('| backend | run | issued | delivered | lostEvents | lostByEvent | lostRecords | lost by reason | delivered + counted lost − issued | balance read by record |', '|---|---|---|---|---|---|---|---|---|---|');
    for (const a of r.accounting)
      a.runs.forEach((x, i) =>
        out.push(x.error ? `| ${a.backend} | ${i + 1} | failed: ${x.error.replace(/\|/g, '/')} | | | | | | | |` : `| ${a.backend} | ${i + 1} | ${int(x.issued)} | ${int(x.delivered)} | ${x.lostEvents === undefined ? 'absent' : int(x.lostEvents)} | ${int(x.lostByEvent)} | ${int(x.lostRecords)} | ${Object.entries(x.lostByReason).map(([k, v]) => `${k}: ${int(v)}`).join(', ') || '–'} | ${int(x.difference)} | ${int(recordBalance(a.backend, x))} |`),
      );
    out.push('');
  }
  if (r.startup.length) {
    out.push('## 4. Start-up', '', `A workload already calling ioperm ${int(r.startup[0].rate)} times/s; the CLI launched (\`-o json -e ioperm --scope pid=…\`, stdout a pipe); times from the spawn.`, '');
    out.push('| backend | to "tracing with" on stderr, ms | to first JSON event on stdout, ms |', '|---|---|---|');
    for (const s of r.startup) out.push(`| ${s.backend} | ${sp(s.readyMs, 0)} | ${sp(s.firstEventMs, 0)} |${s.errors.length ? ` ⚠ ${s.errors.join('; ')}` : ''}`);
    out.push('');
  }
  if (r.rss.length) {
    out.push('## 5. Peak RSS', '', `The CLI (\`-o json\` to /dev/null, detections on) tracing a workload that calls ioperm ${int(r.rss[0].rate)} times/s; VmHWM of the Watchpost process read just before SIGINT.`, '');
    out.push('| backend | peak RSS, MB | events/s delivered |', '|---|---|---|');
    for (const s of r.rss) out.push(`| ${s.backend} | ${sp(s.peakRssMB)} | ${spInt(s.eventsPerSec)} |${s.errors.length ? ` ⚠ ${s.errors.join('; ')}` : ''}`);
    out.push('');
  }
  if (r.capacity) out.push(...capacitySection(r.capacity, r.capacityBaseline, r.command));
  out.push('## Peers', '', `Missing peers are installed from Debian by \`bench/setup.sh\` when apt works (\`${'apt-get install strace bpftrace linux-perf trace-cmd'}\`); otherwise they are skipped.`, '');
  out.push('| peer | present | measured | version / why not |', '|---|---|---|---|');
  for (const p of r.peers) out.push(`| ${p.name} | ${p.present ? 'yes' : 'no'} | ${p.usable ? 'yes' : 'no'} | ${p.note.replace(/\|/g, '/')} |`);
  out.push('');
  const failures = [...(r.rare?.rows ?? []), ...r.storms.flatMap((s) => s.rows), ...(r.capacity?.rows ?? []).map((x) => ({ ...x, label: `capacity ${x.backend} ${x.syscall} ${x.detect ? 'detect' : 'no-detect'}` }))].filter((row) => row.errors.length);
  if (failures.length || r.startup.some((s) => s.errors.length) || r.rss.some((s) => s.errors.length)) {
    out.push('## Failed runs', '', 'A failed run is left out of the medians above.', '');
    for (const row of failures) out.push(...row.errors.map((e) => `- ${row.label}: ${e.replace(/\n/g, ' ')}`));
    for (const s of [...r.startup, ...r.rss]) out.push(...s.errors.map((e) => `- Watchpost ${s.backend} (start-up/RSS): ${e}`));
    out.push('');
  }
  if (r.notes.length) out.push('## Notes', '', ...r.notes.map((n) => `- ${n}`), '');
  out.push('## Clean-up check', '', ...(r.cleanup.length ? r.cleanup.map((c) => `- ${c}`) : ['- nothing left behind: no tracefs instance of ours, no process of ours']), '');
  return out.join('\n');
}

function profileTable(p: CapacityProfile): string[] {
  if (p.error || !p.top) return [`- ${p.backend}: no profile (${p.error ?? 'not taken'})`];
  return [
    `${p.backend}, ${f(p.totalMs, 0)} ms busy:`,
    '',
    '| # | function | where | self ms | self % |',
    '|---|---|---|---|---|',
    ...p.top.map((t, i) => `| ${i + 1} | \`${t.fn}\` | ${t.where} | ${f(t.selfMs, 0)} | ${f(t.pct, 1)} |`),
    '',
  ];
}

/** Sections 6 and 7: capacity of the replayed captures, and the profile of the ioctl replay (with the baseline's, once there is a later run). */
function capacitySection(c: CapacityResult, baseline: CapacityResult | undefined, reportCommand: string): string[] {
  const out: string[] = [];
  const before = baseline && baseline.date !== c.date ? baseline : undefined;
  const when = c.command === reportCommand ? '' : ` Measured separately by \`${c.command}\` on ${c.date} (Watchpost ${c.revision}); the rest of this file is from the run named at the top.`;
  out.push(
    '## 6. Pipeline capacity (captured storms replayed)',
    '',
    `A storm of ${int(c.calls)} calls of each syscall (the workload pinned to CPU 1) is captured by each backend's probe: the raw bytes its kernel buffer received (eBPF ring-buffer records; tracefs per-CPU pages, in the rounds they were read), with the probe opened as \`-o json -e SYSCALL --scope pid=<workload>\` with detections opens it, plus the workload's pid filtered in the kernel, so that the capture holds the storm alone (other processes' records, replayed after they exited, would send the process tree to /proc for each; the eBPF task programs record every process, so their task records are left out of the capture instead). Each capture is then fed through the live path's code — decode → pair → build event → policy → detect → JSON lines into a sink that discards them — in a process pinned to CPU 0 (\`taskset\`), the workload still alive so /proc answers as it would live: ${c.runs} processes × (1 warm-up + ${c.passesPerRun} timed passes); events/s = delivered events per second of CPU time the pinned process used in the pass (user + system, all its threads: what one core does, however busy the shared VM is), median (min–max) over the timed passes; per wall-clock second beside it (lower when other jobs share the core). Without detections = \`--no-detect\` (the same records decoded); the ioperm storm (ioperm(0x80, 1, 1)) makes one WP-005 finding per event, the ioctl storm none.${when}`,
    '',
    '| backend | storm | calls | captured | MB | lost while capturing | other processes\' task records left out | events traced |',
    '|---|---|---|---|---|---|---|---|',
    ...c.captures.map((x) => `| ${x.backend} | ${x.syscall} | ${int(x.issued)} | ${int(x.units)} ${x.backend === 'ebpf' ? 'records' : 'pages'} | ${f(x.bytes / 2 ** 20, 1)} | ${int(x.lost)} | ${x.backend === 'ebpf' ? int(x.skipped) : '– (filtered in the kernel)'} | ${x.events.join(', ')}${x.compat ? ' (32-bit hooks armed)' : ''} |`),
    '',
    `| backend | storm | detections | events per CPU second, median (min–max) | events per wall second | passes | JSON lines per event | bytes per event |${before ? ` baseline events per CPU second (${before.revision}, ${before.date.slice(0, 10)}) |` : ''}`,
    `|---|---|---|---|---|---|---|---|${before ? '---|' : ''}`,
    ...c.rows.map((x) => {
      const was = before?.rows.find((b) => b.backend === x.backend && b.syscall === x.syscall && b.detect === x.detect);
      return `| ${x.backend} | ${x.syscall} | ${x.detect ? 'on' : 'off'} | ${spInt(x.eventsPerCpuSec)} | ${spInt(x.eventsPerSec)} | ${x.passes} | ${f(x.linesPerEvent)} | ${int(x.bytesPerEvent)} |${before ? ` ${spInt(was?.eventsPerCpuSec)} |` : ''}`;
    }),
    '',
    '## 7. CPU profile of the ioctl replay',
    '',
    'One more replay of each ioctl capture, with detections, under `node --cpu-prof`: the ten functions with the most self time (summed over call paths; % of the busy time sampled, idle left out). Under `--cpu-prof` the live start-up can fail (the BPF verifier returns EAGAIN when SIGPROF interrupts it), which is why the replay is profiled, not the live run.',
    '',
  );
  if (before) {
    out.push(`### Now (Watchpost ${c.revision}, ${c.date.slice(0, 10)})`, '');
    for (const p of c.profiles) out.push(...profileTable(p));
    out.push(`### Baseline (Watchpost ${before.revision}, ${before.date.slice(0, 10)}: the first capacity run recorded; delete \`capacityBaseline\` from bench/results.json to start a new one)`, '');
    for (const p of before.profiles) out.push(...profileTable(p));
  } else {
    out.push(`This run is the baseline: later runs show their profile beside it (Watchpost ${c.revision}).`, '');
    for (const p of c.profiles) out.push(...profileTable(p));
  }
  return out;
}
