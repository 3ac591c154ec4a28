import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { createReadStream, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

/** Every process the benchmark started and that has not exited yet: the only ones it may signal. */
const running = new Set<ChildProcess>();
/** Pids of every process the benchmark started (to recognise what they might leave behind). */
export const launchedPids = new Set<number>();

export const now = (): number => performance.now();

/** Starts a process and keeps track of it until it exits. */
export function launch(argv: readonly string[], stdio: StdioOptions = ['pipe', 'pipe', 'pipe']): ChildProcess {
  const child = spawn(argv[0], argv.slice(1), { stdio });
  running.add(child);
  if (child.pid) launchedPids.add(child.pid);
  child.on('exit', () => running.delete(child));
  child.on('error', () => running.delete(child));
  return child;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

export function exited(child: ChildProcess): Promise<Exit> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode, at: now() });
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal, at: now() }));
    child.once('error', () => resolve({ code: -1, signal: null, at: now() }));
  });
}

/** SIGINT (what Ctrl-C sends), then SIGTERM and SIGKILL if the process does not end in time; by pid, ours only. */
export async function interrupt(child: ChildProcess, graceMs = 30_000): Promise<Exit> {
  const done = exited(child);
  if (running.has(child)) child.kill('SIGINT');
  const timer = setTimeout(() => {
    if (running.has(child)) child.kill('SIGTERM');
    setTimeout(() => running.has(child) && child.kill('SIGKILL'), 3000).unref();
  }, graceMs);
  const exit = await done;
  clearTimeout(timer);
  return exit;
}

/** Ends whatever we started that is still running (on a failure or Ctrl-C of the benchmark itself). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((c) => interrupt(c, 5000)));
}

export interface Line {
  text: string;
  at: number;
}

/** The lines of a stream, with the time each arrived; wait for one that matches. */
export class Lines {
  readonly all: Line[] = [];
  firstDataAt: number | undefined;
  private rest = '';
  private ended = false;
  private waiters: { match: (l: string) => boolean; resolve: (l: Line) => void; reject: (e: Error) => void }[] = [];

  constructor(stream: Readable | null, private readonly keep = true) {
    if (!stream) {
      this.ended = true;
      return;
    }
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const at = now();
      this.firstDataAt ??= at;
      const parts = (this.rest + chunk).split('\n');
      this.rest = parts.pop() ?? '';
      for (const text of parts) this.add({ text, at });
    });
    stream.on('end', () => {
      if (this.rest) this.add({ text: this.rest, at: now() });
      this.ended = true;
      for (const w of this.waiters.splice(0)) w.reject(new Error('stream ended'));
    });
  }

  private add(line: Line): void {
    if (this.keep) this.all.push(line);
    this.waiters = this.waiters.filter((w) => {
      if (!w.match(line.text)) return true;
      w.resolve(line);
      return false;
    });
  }

  waitFor(match: (l: string) => boolean, timeoutMs: number, what: string): Promise<Line> {
    const seen = this.all.find((l) => match(l.text));
    if (seen) return Promise.resolve(seen);
    if (this.ended) return Promise.reject(new Error(`${what}: stream ended before it (last lines: ${this.tail()})`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${what}: not seen within ${timeoutMs} ms (last lines: ${this.tail()})`)), timeoutMs);
      this.waiters.push({
        match,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(new Error(`${what}: ${e.message} (last lines: ${this.tail()})`));
        },
      });
    });
  }

  tail(n = 3): string {
    return this.all.slice(-n).map((l) => l.text).join(' | ').slice(0, 400);
  }
}

/** Peak resident set (VmHWM) of a live process, in KiB. */
export function peakRssKb(pid: number): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Where a live process's resident memory is (KiB, from /proc/PID/smaps): what the peak-RSS suite reports beside VmHWM. */
export interface RssBreakdown {
  /** Pages of the node executable (file-backed: code, V8 snapshot, Node's built-in JS sources, ICU data). */
  nodeBinary: number;
  /** Other file-backed mappings: shared libraries, koffi.node. */
  otherFiles: number;
  /** BPF maps mapped into the process (the eBPF ring buffer: every page counts from mmap on). */
  bpfMaps: number;
  /** Anonymous memory: the V8 heap, malloc, stacks. */
  anon: number;
}

export function rssBreakdownKb(pid: number, executable: string): RssBreakdown | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return undefined;
  }
  const out: RssBreakdown = { nodeBinary: 0, otherFiles: 0, bpfMaps: 0, anon: 0 };
  let into: keyof RssBreakdown = 'anon';
  for (const line of text.split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ (\d+)\s*(.*)$/.exec(line);
    if (head) {
      const [, inode, name] = head;
      into = name === executable ? 'nodeBinary' : name.startsWith('anon_inode:bpf-map') ? 'bpfMaps' : inode !== '0' ? 'otherFiles' : 'anon';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) out[into] += Number(rss[1]);
  }
  return out;
}

/** Counts the lines of a file that match, streaming (tracer outputs reach hundreds of MB). */
export async function countLines(path: string, match: (line: string) => boolean): Promise<number> {
  let n = 0;
  const rl = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of rl) if (match(line)) n++;
  return n;
}

/** Runs a command to completion and returns its stdout (for `perf script` and the like). */
export async function capture(argv: readonly string[], onLine?: (line: string) => void, timeoutMs = 120_000): Promise<{ code: number | null; stderr: string }> {
  const child = launch(argv, ['ignore', 'pipe', 'pipe']);
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (c: string) => (stderr = (stderr + c).slice(-4000)));
  if (onLine && child.stdout) {
    const rl = createInterface({ input: child.stdout, crlfDelay: Infinity });
    rl.on('line', onLine);
  } else child.stdout?.resume();
  const timer = setTimeout(() => void interrupt(child, 2000), timeoutMs);
  const exit = await exited(child);
  clearTimeout(timer);
  return { code: exit.code, stderr };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
