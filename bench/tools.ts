import { existsSync, openSync, closeSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { capture, countLines, exited, interrupt, launch, Lines, now, peakRssKb, rssBreakdownKb, sleep, type Exit, type RssBreakdown } from './process.js';
import { TRACER_CPU, type Workload } from './workload.js';

/** The compiled Watchpost measured: dist/ as built, or the snapshot run.ts takes of it (setDist). */
export let DIST = fileURLToPath(new URL('../', import.meta.url));
export function setDist(dir: string): void {
  DIST = dir;
}
const cli = (): string => join(DIST, 'src', 'cli', 'main.js');

/**
 * The Node flags the `watchpost` launcher (what a user types) runs the CLI with, read from it: the bench runs the CLI
 * as it does. The launcher is the checkout's, found upwards from this module (which may be a snapshot's copy under bench/).
 */
let launcherFlags: string[] | undefined;
function nodeFlagsOfLauncher(): string[] {
  if (launcherFlags) return launcherFlags;
  let dir = fileURLToPath(new URL('.', import.meta.url));
  while (!existsSync(join(dir, 'watchpost')) || !existsSync(join(dir, 'package.json'))) {
    const up = join(dir, '..');
    if (up === dir) throw new Error('bench: no watchpost launcher found above the bench code');
    dir = up;
  }
  const line = /^exec node (.*?)"\$here\/dist\/src\/cli\/main\.js"/m.exec(readFileSync(join(dir, 'watchpost'), 'utf8'));
  if (!line) throw new Error(`bench: ${join(dir, 'watchpost')} has no \`exec node … "$here/dist/src/cli/main.js"\` line to take its Node flags from`);
  return (launcherFlags = line[1].trim().split(/\s+/).filter(Boolean));
}

export type Syscall = 'ioperm' | 'ioctl';
export const NR: Record<Syscall, { native: number; compat: number }> = { ioperm: { native: 173, compat: 101 }, ioctl: { native: 16, compat: 54 } };

/** What a tracer reported about one run, counted for the workload's pid only. */
export interface TracerResult {
  delivered: number;
  /** Events the tool itself said it lost (null: the tool does not say). */
  reportedLost: number | null;
  /** When the tool had written its last event (its final line, or its exit). */
  endAt: number;
  peakRssKb?: number;
  /** Where the resident memory was when the peak was read (Watchpost only). */
  rssKb?: RssBreakdown;
  detail?: Record<string, unknown>;
}

export interface Tracer {
  readonly ready: Promise<void>;
  stop(): Promise<TracerResult>;
  /** Ends the tool at once after a failed run. */
  abort(): Promise<void>;
}

export interface Tool {
  id: string;
  label: string;
  kind: 'watchpost' | 'peer';
  /** What the tool produces per event. */
  output: string;
  /** Fraction of the standard storm size this tool runs (slow tracers get fewer calls; ratios are per call). */
  scale: number;
  /** The same for the rare-target workload (default: scale). */
  rareScale?: number;
  /** A tool that starts the workload itself: the command prefix. */
  prefix?(s: Syscall, dir: string): string[];
  /** Starts tracing s for the workload (already started, waiting for go). */
  start(s: Syscall, w: Workload, dir: string): Tracer;
}

const pinned = (argv: string[]): string[] => ['taskset', '-c', String(TRACER_CPU), ...argv];

interface WatchpostStats {
  delivered: Record<string, number>;
  lostByEvent: Record<string, number>;
  lostRecords: number;
  /** Syscalls lost in all (builds that have it): delivered + filtered + lostEvents == seen. */
  lostEvents?: number;
  lostByReason: Record<string, number>;
  filtered: Record<string, number>;
}

/** The Watchpost CLI as a user runs it: JSON lines to /dev/null, detections on, only the workload's pid kept; `compat` false adds --compat off. */
export function watchpostCli(backend: 'ebpf' | 'tracefs', compat: boolean): Tool {
  return {
    id: `watchpost-${backend}${compat ? '' : '-nocompat'}`,
    label: `Watchpost ${backend}${compat ? ' (default: --compat auto)' : ' --compat off'}`,
    kind: 'watchpost',
    output: 'JSON lines (full decode, enrichment, detections)',
    scale: 1,
    start(s, w) {
      return startWatchpost(['-o', 'json', '-e', s, '--backend', backend, ...(compat ? [] : ['--compat', 'off']), '--scope', `pid=${w.pid}`], s);
    },
  };
}

/**
 * Watchpost eBPF in its default mode with one kill rule that the rare workload never matches (it calls ioperm(0x80…);
 * the rule names 0x64): the rule's compares run at every ioperm entry. `armed` adds --enforce; else the rule is a dry run.
 */
export function watchpostKillRule(armed: boolean): Tool {
  return {
    id: `watchpost-ebpf-kill-${armed ? 'armed' : 'dry'}`,
    label: `Watchpost ebpf --kill ioperm.data.from=0x64${armed ? ' --enforce' : ' (dry run)'}`,
    kind: 'watchpost',
    output: 'JSON lines (full decode, enrichment, detections)',
    scale: 1,
    start(s, w) {
      return startWatchpost(['-o', 'json', '-e', s, '--backend', 'ebpf', '--kill', 'ioperm.data.from=0x64', ...(armed ? ['--enforce'] : []), '--scope', `pid=${w.pid}`], s);
    },
  };
}

export interface WatchpostProcess extends Tracer {
  readonly child: ChildProcess;
  readonly stdout: Lines | undefined;
  readonly launchedAt: number;
}

/** Starts the CLI pinned to the tracer CPU; stdout to /dev/null unless a pipe is asked for (start-up). */
export function startWatchpost(args: string[], s: Syscall, stdoutPipe = false): WatchpostProcess {
  const devnull = openSync('/dev/null', 'w');
  const launchedAt = now();
  const child = launch(pinned([process.execPath, ...nodeFlagsOfLauncher(), cli(), ...args]), ['ignore', stdoutPipe ? 'pipe' : devnull, 'pipe']);
  closeSync(devnull);
  const err = new Lines(child.stderr);
  const stdout = stdoutPipe ? new Lines(child.stdout, false) : undefined;
  const ready = err.waitFor((l) => l.includes('tracing with'), 60_000, 'watchpost "tracing with" line').then(() => undefined);
  ready.catch(() => {});
  return {
    child,
    stdout,
    launchedAt,
    ready,
    async stop() {
      const rss = child.pid ? peakRssKb(child.pid) : undefined;
      const where = child.pid ? rssBreakdownKb(child.pid, realpathSync(process.execPath)) : undefined;
      const exit = interrupt(child);
      const final = await err.waitFor((l) => l.includes('"final":true'), 60_000, 'watchpost final stats line').catch(async (e: Error) => {
        const x = await exit;
        const killed = x.signal === 'SIGKILL' || x.signal === 'SIGTERM' ? ', ended by the benchmark: no exit within 30 s of SIGINT' : '';
        throw new Error(`${e.message}; exit ${x.code ?? x.signal}${killed}`);
      });
      await exited(child);
      const stats = (JSON.parse(final.text) as { stats: WatchpostStats }).stats;
      const findings = err.all.find((l) => l.text.startsWith('{"findings"'));
      return {
        delivered: stats.delivered[s] ?? 0,
        reportedLost: typeof stats.lostEvents === 'number' ? stats.lostEvents : (stats.lostByEvent[s] ?? 0) + stats.lostRecords,
        endAt: final.at,
        peakRssKb: rss,
        rssKb: where,
        detail: { stats, findings: findings ? (JSON.parse(findings.text) as { findings: unknown }).findings : {} },
      };
    },
    async abort() {
      await interrupt(child, 5000);
    },
  };
}

/** A peer started with argv that writes its events to a file; counted after it exits. */
function filePeer(
  child: ChildProcess,
  readyWhen: Promise<void>,
  count: (stderr: string) => Promise<{ delivered: number; reportedLost: number | null; detail?: Record<string, unknown> }>,
  waitOnly = false,
): Tracer {
  const err = new Lines(child.stderr ?? null);
  child.stdout?.resume();
  return {
    ready: readyWhen,
    async stop() {
      const exit: Exit = waitOnly ? await exited(child) : await interrupt(child);
      const stderr = err.all.map((l) => l.text).join('\n');
      const counted = await count(stderr);
      return { ...counted, endAt: exit.at, detail: { ...counted.detail, exit: exit.code ?? exit.signal, stderr: stderr.slice(-600) } };
    },
    async abort() {
      await interrupt(child, 5000);
    },
  };
}

function ofPid(pid: number): (line: string) => boolean {
  const p = `${pid} `;
  return (l) => l.startsWith(p);
}

/** strace: ptrace, decodes every argument; attached to the running workload, every syscall stops. */
export function straceAttach(): Tool {
  return {
    id: 'strace',
    label: 'strace -p (ptrace)',
    kind: 'peer',
    output: 'decoded text',
    scale: 0.01,
    rareScale: 0.01,
    start(s, w, dir) {
      const file = join(dir, 'strace.txt');
      const child = launch(pinned(['strace', '-f', '-qq', '-e', `trace=${s}`, '-o', file, '-p', String(w.pid)]), ['ignore', 'ignore', 'pipe']);
      // strace has attached once the tracee's status shows a TracerPid
      const ready = (async () => {
        for (let i = 0; i < 500; i++) {
          if (/^TracerPid:\s+[1-9]/m.test(readFileSync(`/proc/${w.pid}/status`, 'utf8'))) return;
          await sleep(10);
        }
        throw new Error('strace did not attach within 5 s');
      })();
      return filePeer(child, ready, async () => ({ delivered: await countLines(file, ofPid(w.pid)), reportedLost: 0 }), true);
    },
  };
}

/** strace --seccomp-bpf: starts the workload itself, stops only at the traced syscall. */
export function straceSeccomp(): Tool {
  let file = '';
  return {
    id: 'strace-seccomp',
    label: 'strace --seccomp-bpf',
    kind: 'peer',
    output: 'decoded text',
    scale: 0.02,
    rareScale: 0.25,
    prefix(s, dir) {
      file = join(dir, 'strace-seccomp.txt');
      return pinned(['strace', '-f', '-qq', '--seccomp-bpf', '-e', `trace=${s}`, '-o', file, '--']);
    },
    start(_s, w) {
      return filePeer(w.child, Promise.resolve(), async () => ({ delivered: await countLines(file, ofPid(w.pid)), reportedLost: 0 }), true);
    },
  };
}

/** perf trace: strace-like decoding from the kernel's tracepoints, attached to the pid. */
export function perfTrace(): Tool {
  return {
    id: 'perf-trace',
    label: 'perf trace -p',
    kind: 'peer',
    output: 'decoded text',
    scale: 0.02,
    rareScale: 0.25,
    start(s, w, dir) {
      const file = join(dir, 'perf-trace.txt');
      const child = launch(pinned(['perf', 'trace', '-e', s, '-p', String(w.pid), '-o', file]), ['ignore', 'pipe', 'pipe']);
      return filePeer(child, sleep(2500), async () => {
        let delivered = 0;
        let lost = 0;
        const call = `${s}(`;
        await countLines(file, (l) => {
          if (l.includes(call)) delivered++;
          const m = /LOST (\d+) events/.exec(l);
          if (m) lost += Number(m[1]);
          return false;
        });
        return { delivered, reportedLost: lost };
      });
    },
  };
}

/** perf record on the per-syscall tracepoint, system-wide: raw binary records, nothing decoded while tracing. */
export function perfRecord(): Tool {
  return {
    id: 'perf-record',
    label: 'perf record -e syscalls:sys_enter_X -a',
    kind: 'peer',
    output: 'raw binary (perf.data)',
    scale: 1,
    start(s, w, dir) {
      const file = join(dir, 'perf.data');
      const child = launch(pinned(['perf', 'record', '-q', '-e', `syscalls:sys_enter_${s}`, '-a', '-o', file]), ['ignore', 'pipe', 'pipe']);
      return filePeer(child, sleep(2500), async () => {
        let delivered = 0;
        const pid = String(w.pid);
        await capture(['perf', 'script', '-i', file, '-F', 'pid'], (l) => {
          if (l.trim() === pid) delivered++;
        });
        let lost = 0;
        await capture(['perf', 'report', '-i', file, '--stats'], (l) => {
          const m = /^\s*LOST_SAMPLES events:\s+(\d+)/.exec(l);
          if (m) lost = Math.max(lost, Number(m[1]));
        });
        return { delivered, reportedLost: lost, detail: { lostNote: 'largest LOST_SAMPLES line of perf report --stats (all pids)' } };
      });
    },
  };
}

/** bpftrace: compat-aware on raw_syscalls (id == native or i386 number), or on the per-syscall tracepoint. */
export function bpftrace(raw: boolean): Tool {
  return {
    id: raw ? 'bpftrace-raw' : 'bpftrace-tp',
    label: raw ? 'bpftrace raw_syscalls:sys_enter /id == N || id == N32/' : 'bpftrace syscalls:sys_enter_X',
    kind: 'peer',
    output: 'printf text per event',
    scale: 1,
    start(s, w, dir) {
      const file = join(dir, `${raw ? 'bpftrace-raw' : 'bpftrace-tp'}.txt`);
      const probe = raw
        ? `tracepoint:raw_syscalls:sys_enter /args->id == ${NR[s].native} || args->id == ${NR[s].compat}/ { printf("%d %d\\n", pid, args->id); }`
        : `tracepoint:syscalls:sys_enter_${s} { printf("%d\\n", pid); }`;
      // BEGIN fires once every probe is attached; stdout straight to a file (bpftrace's -o file is flushed only at exit)
      const fd = openSync(file, 'w');
      const child = launch(pinned(['bpftrace', '-e', `BEGIN { printf("READY\\n"); } ${probe}`]), ['ignore', fd, 'pipe']);
      closeSync(fd);
      const ready = (async () => {
        for (let i = 0; i < 3000; i++) {
          if (existsSync(file) && readFileSync(file, 'utf8').includes('READY')) return;
          if (child.exitCode !== null) throw new Error(`bpftrace exited with ${child.exitCode}`);
          await sleep(10);
        }
        throw new Error('bpftrace not ready within 30 s');
      })();
      return filePeer(child, ready, async (stderr) => {
        let lost = 0;
        for (const m of stderr.matchAll(/Lost (\d+) events/g)) lost += Number(m[1]);
        const delivered = await countLines(file, (l) => {
          const m = /Lost (\d+) events/.exec(l);
          if (m) lost += Number(m[1]);
          return l.startsWith(`${w.pid}`) && (l.length === String(w.pid).length || l[String(w.pid).length] === ' ');
        });
        return { delivered, reportedLost: lost };
      });
    },
  };
}
