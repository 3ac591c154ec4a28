/**
 * Child process of doctor's round trip: makes the syscalls it is given, natively through libc's syscall() and as a
 * 32-bit caller through `int $0x80` (koffi, no compiler).
 *   node trigger-child.js '[{"name":"ioperm","abi":"native","nr":173,"args":[888,3,1],"close":false}]'
 * Prints "ready", waits for a line on stdin, makes the calls, prints one JSON line per call
 * ({name, abi, tid, ret} with ret = -errno on failure) and "done", then waits for stdin to close.
 */
import koffi from 'koffi';
import { createInterface } from 'node:readline';

export interface TriggerCall {
  name: string;
  abi: 'native' | 'compat';
  /** The syscall number in the table of that ABI (x86_64 or i386). */
  nr: number;
  args: number[];
  /** The call returns a file descriptor to close afterwards. */
  close: boolean;
}

export interface TriggerResult {
  name: string;
  abi: 'native' | 'compat';
  tid: number;
  ret: number;
}

const SYS_CLOSE = 3;
const SYS_GETTID = 186;

/**
 * x86_64 code for `long int80(long nr, long a, long b, long c, long d, long e)`: moves the SysV argument registers to
 * the i386 syscall registers (eax, ebx, ecx, edx, esi, edi), runs `int $0x80` and sign-extends eax. Assembled from:
 * push rbx; mov rax,rdi; mov rbx,rsi; mov r10,rcx; mov rcx,rdx; mov rdx,r10; mov rsi,r8; mov rdi,r9; int 0x80; cdqe; pop rbx; ret
 */
const INT80 = '534889f84889f34989ca4889d14c89d24c89c64c89cfcd8048985bc3';

const PROT_READ = 1;
const PROT_WRITE = 2;
const PROT_EXEC = 4;
const MAP_PRIVATE_ANONYMOUS = 0x22;

/** Maps the int80 code writable, copies it in, then makes it read+exec only (never writable and executable at once). */
function int80Caller(libc: ReturnType<typeof koffi.load>): (nr: number, args: number[]) => number {
  const mmap = libc.func('void *mmap(void *addr, size_t length, int prot, int flags, int fd, long offset)');
  const mprotect = libc.func('int mprotect(void *addr, size_t len, int prot)');
  const code = Buffer.from(INT80, 'hex');
  const addr = mmap(null, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE_ANONYMOUS, -1, 0) as bigint;
  if (BigInt(addr) === (1n << 64n) - 1n) throw new Error(`mmap failed (errno ${koffi.errno()})`);
  new Uint8Array(koffi.view(addr, code.length)).set(code);
  if (Number(mprotect(addr, 4096, PROT_READ | PROT_EXEC)) !== 0) throw new Error(`mprotect failed (errno ${koffi.errno()})`);
  const proto = koffi.proto('long int80(long, long, long, long, long, long)');
  return (nr, args) => Number(koffi.call(addr, proto, nr, ...[0, 1, 2, 3, 4].map((i) => args[i] ?? 0)));
}

async function main(): Promise<void> {
  const calls = JSON.parse(process.argv[2] ?? '[]') as TriggerCall[];
  const libc = koffi.load('libc.so.6');
  const syscall = libc.func('long syscall(long, ...)');
  const int80 = calls.some((c) => c.abi === 'compat') ? int80Caller(libc) : undefined;
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  process.stdout.write('ready\n');
  await lines.next();
  const tid = Number(syscall(SYS_GETTID));
  const out: string[] = [];
  for (const c of calls) {
    let ret: number;
    if (c.abi === 'compat') ret = int80!(c.nr, c.args);
    else {
      const r = Number(syscall(c.nr, ...c.args.flatMap((a) => ['long', a])));
      ret = r === -1 ? -koffi.errno() : r;
    }
    if (c.close && ret >= 0) syscall(SYS_CLOSE, 'long', ret);
    out.push(JSON.stringify({ name: c.name, abi: c.abi, tid, ret } satisfies TriggerResult));
  }
  process.stdout.write(`${out.join('\n')}\ndone\n`);
  for (;;) if ((await lines.next()).done) break;
}

await main();
