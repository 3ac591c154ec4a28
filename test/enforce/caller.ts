import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { syscallerPath } from '../support/syscaller.js';

/** What a caller did before it ended: the JSON lines it printed (one per call it returned from) and how it ended. */
export interface CallerEnd {
  lines: string[];
  signal: NodeJS.Signals | null;
  code: number | null;
}

export interface Caller {
  pid: number;
  /** Lets it make its calls; resolves when it has exited (killed, or done and its stdin closed). */
  go(): Promise<CallerEnd>;
  /** Ends it if it still runs (SIGKILL to this pid only). */
  stop(): void;
}

/**
 * The syscall helper, killable: unlike startSyscaller, a caller that dies mid-way is an outcome, not an error.
 * `exe` (a copy with another name gives another comm), `wrap` (setpriv, unshare) as for startSyscaller.
 */
export async function startCaller(commands: string[], options: { exe?: string; wrap?: string[] } = {}): Promise<Caller> {
  const exe = options.exe ?? syscallerPath();
  const [cmd, ...args] = options.wrap ? [...options.wrap, exe, ...commands] : [exe, ...commands];
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  child.stdin.on('error', () => {}); // the caller may be dead when we write
  const lines: string[] = [];
  let ready!: () => void;
  const started = new Promise<void>((resolve) => (ready = resolve));
  createInterface({ input: child.stdout }).on('line', (l) => {
    if (l.startsWith('ready ')) ready();
    else if (l === 'done') child.stdin.end();
    else lines.push(l);
  });
  const ended = new Promise<CallerEnd>((resolve) => child.once('exit', (code, signal) => resolve({ lines, signal, code })));
  await Promise.race([started, ended.then((e) => Promise.reject(new Error(`caller ended before it was ready: ${JSON.stringify(e)}`)))]);
  return {
    pid: child.pid!,
    go: () => {
      child.stdin.write('go\n');
      return ended;
    },
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** Runs a caller that a kill rule must end: asserts it died by SIGKILL before it printed a line after its first call; returns its pid. */
export async function expectKilled(commands: string[], options: { exe?: string; wrap?: string[] } = {}): Promise<number> {
  const c = await startCaller(commands, options);
  try {
    const end = await c.go();
    assert.equal(end.signal, 'SIGKILL', `${commands.join(' ')}: ended ${JSON.stringify(end)}`);
    assert.deepEqual(end.lines, [], 'the caller printed a line after its call: it ran on in user space');
  } finally {
    c.stop();
  }
  return c.pid;
}

/** A copy of the helper at DIR/NAME: a comm of our own (rules match it, no one else's process does) and, per copy, its own inode. */
export function helperCopy(dir: string, name: string): string {
  const d = join(tmpdir(), dir);
  mkdirSync(d, { recursive: true });
  const path = join(d, name);
  copyFileSync(syscallerPath(), path);
  chmodSync(path, 0o755);
  return path;
}
