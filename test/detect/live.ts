import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SyscallEvent } from '../../src/model/event.js';
import { eventToJson } from '../../src/sinks/json.js';
import { trace } from '../../src/trace.js';
import { type ObservedCall, startSyscaller, syscallerPath } from '../support/syscaller.js';
import { TestCgroups } from '../support/cgroups.js';

/** Live scenarios for the detection tests: real syscalls from the C helper, traced by pid, as Watchpost reports them. */

export const DETECT_EVENTS = ['ioperm', 'iopl', 'userfaultfd', 'perf_event_open'];
const ENOSYS = -38;

export interface LiveRun {
  calls: ObservedCall[];
  events: SyscallEvent[];
  pid: number;
}

export interface LiveOptions {
  /** Another copy of the helper (e.g. named like a hardware tool). */
  exe?: string;
  /** Run the helper as this uid/gid (through setpriv). */
  uid?: number;
  /** Move the helper into this cgroup directory before it makes its calls. */
  cgroup?: string;
}

/** Makes the calls in a fresh helper and returns what it saw and what Watchpost reported for its pid. */
export async function liveRun(commands: string[], options: LiveOptions = {}): Promise<LiveRun> {
  const exe = options.exe ?? syscallerPath();
  const sc =
    options.uid === undefined
      ? await startSyscaller(commands, { exe })
      : await startSyscaller(['--reuid', String(options.uid), '--regid', String(options.uid), '--clear-groups', exe, ...commands], { exe: '/usr/bin/setpriv' });
  const t = trace({ events: DETECT_EVENTS, pids: [sc.pid] });
  try {
    if (options.cgroup) writeFileSync(join(options.cgroup, 'cgroup.procs'), String(sc.pid));
    const events: SyscallEvent[] = [];
    const collecting = (async () => {
      for await (const batch of t.batches()) events.push(...batch);
    })();
    await t.ready;
    const calls = await sc.go();
    const deadline = Date.now() + 5000;
    while (events.length < calls.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await t.stop();
    await collecting;
    return { calls, events, pid: sc.pid };
  } finally {
    await t.stop(); // also when a call failed: nothing stays armed
    await sc.end();
  }
}

/** True when ioperm/iopl are compiled out here (every call -ENOSYS): a granted call cannot happen live. */
export function isEnosys(call: ObservedCall): boolean {
  return call.ret === ENOSYS;
}

/** Writes events as `-o json` does; returns the file. */
export function record(events: readonly SyscallEvent[], dir: string, name = 'recording.jsonl'): string {
  const file = join(dir, name);
  writeFileSync(file, events.map((e) => `${eventToJson(e)}\n`).join(''));
  return file;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** The helper under another name and path (the directory is created when missing). */
export function helperCopy(path: string): string {
  const dir = path.slice(0, path.lastIndexOf('/'));
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
  copyFileSync(syscallerPath(), path);
  return path;
}

/** cgroup v2 mount point (the unified hierarchy), found from mountinfo. */
export function unifiedCgroupRoot(): string | undefined {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [left, right] = line.split(' - ');
    if (right?.startsWith('cgroup2 ')) return left.split(' ')[4];
  }
  return undefined;
}

/** A runtime-shaped cgroup (e.g. system.slice/docker-<id>.scope) under root/wp-detect-<pid>; remove() deletes what was made, deepest first. */
export function makeCgroup(root: string, rel: string): { dir: string; remove: () => Promise<void> } {
  const cgroups = new TestCgroups(`wp-detect-${process.pid}`);
  return { dir: cgroups.make(root, rel), remove: () => cgroups.removeAll() };
}

export function removeTree(path: string): void {
  rmSync(path, { recursive: true, force: true });
}
