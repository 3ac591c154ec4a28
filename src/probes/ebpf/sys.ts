import koffi from 'koffi';

/** Raw Linux syscalls over koffi: the only place that touches native calls (like cilium/ebpf's internal/sys). */

const libc = koffi.load('libc.so.6');
const syscall = libc.func('long syscall(long, ...)');
const ioctlFn = libc.func('int ioctl(int fd, unsigned long request, ...)');
const closeFn = libc.func('int close(int fd)');
const mmapFn = libc.func('void *mmap(void *addr, size_t length, int prot, int flags, int fd, long offset)');
const munmapFn = libc.func('int munmap(void *addr, size_t length)');
const strerrorFn = libc.func('const char *strerror(int errnum)');

const SYS_BPF = 321;
const SYS_PERF_EVENT_OPEN = 298;
const SYS_PIDFD_OPEN = 434;
/** pidfd_open flag: a pidfd for a thread, not only a thread-group leader (Linux 6.9). */
export const PIDFD_THREAD = 0o200;

export const PAGE_SIZE = 4096;
export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;
export const MAP_SHARED = 0x1;
const MAP_FAILED = (1n << 64n) - 1n;

/** A failed syscall: keeps errno so callers can tell EPERM from EINVAL. */
export class SyscallError extends Error {
  override name = 'SyscallError';
  constructor(
    readonly call: string,
    readonly errno: number,
    detail = '',
  ) {
    super(`${call}: ${strerror(errno)} (errno ${errno})${detail ? `\n${detail}` : ''}`);
  }
}

export function strerror(errno: number): string {
  return String(strerrorFn(errno));
}

/** bpf(2). `attr` is passed by pointer for the duration of the call. Returns the (non-negative) result. */
export function bpf(cmd: number, attr: Uint8Array, what: string): number {
  const r = Number(syscall(SYS_BPF, 'int', cmd, 'void *', attr, 'uint', attr.byteLength));
  if (r < 0) throw new SyscallError(what, koffi.errno());
  return r;
}

/** bpf(2) that reports failure as -errno instead of throwing (probing, lookups that may miss). */
export function bpfErrno(cmd: number, attr: Uint8Array): number {
  const r = Number(syscall(SYS_BPF, 'int', cmd, 'void *', attr, 'uint', attr.byteLength));
  return r < 0 ? -koffi.errno() : r;
}

export function perfEventOpen(attr: Uint8Array, pid: number, cpu: number, groupFd: number, flags: number): number {
  const r = Number(
    syscall(SYS_PERF_EVENT_OPEN, 'void *', attr, 'int', pid, 'int', cpu, 'int', groupFd, 'ulong', flags),
  );
  if (r < 0) throw new SyscallError('perf_event_open', koffi.errno());
  return r;
}

/** pidfd_open(2); -errno on failure (the task may be gone). */
export function pidfdOpen(pid: number, flags: number): number {
  const r = Number(syscall(SYS_PIDFD_OPEN, 'int', pid, 'uint', flags));
  return r < 0 ? -koffi.errno() : r;
}

export function ioctl(fd: number, request: number, arg: number, what: string): void {
  const r = Number(ioctlFn(fd, request, 'long', arg));
  if (r < 0) throw new SyscallError(what, koffi.errno());
}

/** close(2), ignoring errors: used on teardown paths that must not throw. */
export function closeFd(fd: number): void {
  if (fd >= 0) closeFn(fd);
}

/** Maps `length` bytes of fd at `offset`; returns the address and an ArrayBuffer over it (no copy). */
export function mmap(length: number, prot: number, fd: number, offset: number, what: string): { addr: bigint; buffer: ArrayBuffer } {
  const addr = BigInt(mmapFn(null, length, prot, MAP_SHARED, fd, offset) as bigint | number);
  if (addr === MAP_FAILED || addr === -1n) throw new SyscallError(what, koffi.errno());
  return { addr, buffer: koffi.view(addr, length) };
}

export function munmap(addr: bigint, length: number): void {
  munmapFn(addr, length);
}

/** Native memory at a stable address, for bpf_attr fields that hold pointers (insns, log buffer, keys, names). */
export class NativeBuffer {
  readonly addr: bigint;
  readonly bytes: Uint8Array;
  private freed = false;

  constructor(readonly size: number) {
    this.addr = BigInt(koffi.alloc('uint8_t', Math.max(1, size)) as bigint | number);
    this.bytes = new Uint8Array(koffi.view(this.addr, Math.max(1, size)));
    this.bytes.fill(0);
  }

  static from(data: Uint8Array): NativeBuffer {
    const b = new NativeBuffer(data.byteLength);
    b.bytes.set(data);
    return b;
  }

  static cString(s: string): NativeBuffer {
    const enc = new TextEncoder().encode(s);
    const b = new NativeBuffer(enc.byteLength + 1);
    b.bytes.set(enc);
    return b;
  }

  free(): void {
    if (this.freed) return;
    this.freed = true;
    koffi.free(this.addr);
  }
}

/** Number of possible CPUs (the width of per-CPU map values), from /sys/devices/system/cpu/possible. */
export function possibleCpus(text: string): number {
  let max = -1;
  for (const part of text.trim().split(',')) {
    const [a, b] = part.split('-');
    max = Math.max(max, Number(b ?? a));
  }
  return max + 1;
}
