import { execFileSync, spawn, type ChildProcessByStdio } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

/** test/fixtures, found from dist/test/support at run time. */
const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures');

const built = new Map<string, string>();

/** Compiles test/fixtures/NAME.c once per content (gcc is installed by scripts/test-setup.sh); returns the program's path. */
export function fixturePath(name: string): string {
  const hit = built.get(name);
  if (hit) return hit;
  const source = join(FIXTURES, `${name}.c`);
  const text = readFileSync(source);
  const out = join(tmpdir(), `watchpost-${name}-${createHash('sha256').update(text).digest('hex').slice(0, 12)}`);
  if (!existsSync(out)) execFileSync('gcc', ['-O1', '-pthread', '-o', out, source], { stdio: 'inherit' });
  built.set(name, out);
  return out;
}

/** The syscall helper (test/fixtures/syscaller.c). */
export function syscallerPath(): string {
  return fixturePath('syscaller');
}

const copies: string[] = [];

/**
 * A copy of the helper named PREFIX + this test process's pid: a comm no other process has, not even the same test
 * run twice at once, so a system-wide `comm=` scope sees this run's calls only. Removed when the test process exits.
 */
export function ownSyscaller(prefix: string): { exe: string; comm: string } {
  const comm = `${prefix}${process.pid}`;
  if (comm.length > 15) throw new Error(`${comm}: the kernel keeps 15 bytes of a comm; shorten the prefix`);
  if (copies.length === 0) process.once('exit', () => copies.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const dir = mkdtempSync(join(tmpdir(), `${comm}-`));
  copies.push(dir);
  const exe = join(dir, comm);
  copyFileSync(syscallerPath(), exe);
  chmodSync(exe, 0o755);
  return { exe, comm };
}

/** One call as the helper saw it. */
export interface ObservedCall {
  call: string;
  abi: 'native' | 'compat';
  tid: number;
  ret: number;
  args: number[];
}

export interface Syscaller {
  pid: number;
  child: ChildProcessByStdio<Writable, Readable, null>;
  /** Lets the helper make its calls; resolves with what each returned, in order. */
  go(): Promise<ObservedCall[]>;
  /** Ends the helper (closes its stdin) and waits for it. */
  end(): Promise<void>;
}

/** Starts the helper with the given commands; it waits for go() before making any syscall. */
export async function startSyscaller(commands: string[], options: { exe?: string; argv0?: string; wrap?: string[] } = {}): Promise<Syscaller> {
  const exe = options.exe ?? syscallerPath();
  const [cmd, ...args] = options.wrap ? [...options.wrap, exe, ...commands] : [exe, ...commands];
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'], argv0: options.wrap ? undefined : options.argv0 });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done || !String(first.value).startsWith('ready ')) throw new Error(`syscaller did not start: ${String(first.value)}`);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    pid: child.pid!,
    child,
    async go() {
      child.stdin.write('go\n');
      const calls: ObservedCall[] = [];
      for (;;) {
        const r = await lines.next();
        if (r.done) throw new Error('syscaller ended before "done"');
        if (r.value === 'done') return calls;
        calls.push(JSON.parse(r.value) as ObservedCall);
      }
    },
    async end() {
      child.stdin.end();
      await exited;
    },
  };
}
