/**
 * Child process of doctor's round trip: makes the syscalls it is given through libc's syscall() (koffi, no compiler).
 *   node trigger-child.js '[{"name":"ioperm","nr":173,"args":[888,3,1],"close":false}]'
 * Prints "ready", waits for a line on stdin, makes the calls, prints one JSON line per call
 * ({name, tid, ret} with ret = -errno on failure) and "done", then waits for stdin to close.
 */
import koffi from 'koffi';
import { createInterface } from 'node:readline';

export interface TriggerCall {
  name: string;
  nr: number;
  args: number[];
  /** The call returns a file descriptor to close afterwards. */
  close: boolean;
}

export interface TriggerResult {
  name: string;
  tid: number;
  ret: number;
}

const SYS_CLOSE = 3;
const SYS_GETTID = 186;

async function main(): Promise<void> {
  const calls = JSON.parse(process.argv[2] ?? '[]') as TriggerCall[];
  const syscall = koffi.load('libc.so.6').func('long syscall(long, ...)');
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  process.stdout.write('ready\n');
  await lines.next();
  const tid = Number(syscall(SYS_GETTID));
  const out: string[] = [];
  for (const c of calls) {
    const r = Number(syscall(c.nr, ...c.args.flatMap((a) => ['long', a])));
    const ret = r === -1 ? -koffi.errno() : r;
    if (c.close && ret >= 0) syscall(SYS_CLOSE, 'long', ret);
    out.push(JSON.stringify({ name: c.name, tid, ret } satisfies TriggerResult));
  }
  process.stdout.write(`${out.join('\n')}\ndone\n`);
  for (;;) if ((await lines.next()).done) break;
}

await main();
