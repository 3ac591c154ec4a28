import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Can a 64-bit process on this kernel make a 32-bit (`int $0x80`) syscall? Found out, never assumed: a kernel built
 * with CONFIG_IA32_EMULATION may still refuse them (ia32_emulation=0, confidential guests, some hypervisors kill the
 * caller with SIGSEGV). A throwaway child runs a 161-byte static program that makes one, so no compiler is needed;
 * the answer is kept for the rest of the boot in /run.
 */

export type CompatMode = 'auto' | 'on' | 'off';

export interface CompatSupport {
  /** The kernel ran the 32-bit call and answered it. */
  ok: boolean;
  /** One line: what the throwaway child did. */
  detail: string;
  /** Watchpost itself runs under a seccomp filter, which may be what refused the call (not the kernel). */
  sandboxed?: boolean;
}

/** What a trace arms: 32-bit hooks or not, and a line for stderr when the user should know why. */
export interface CompatDecision {
  compat: boolean;
  note?: string;
}

const VADDR = 0x40_0000;
const HEADERS = 64 + 56; // ELF64 header + one program header

/**
 * x86-64 code: eax = i386 getpid (20) through int $0x80; compare with the native getpid (39); exit 0 when they agree,
 * 3 when the kernel answered something else (e.g. -ENOSYS). A kernel that refuses int $0x80 kills the child instead.
 *   mov eax,20; int 0x80; mov ebx,eax; mov eax,39; syscall; cmp eax,ebx; jne bad;
 *   xor edi,edi; mov eax,60; syscall;   bad: mov edi,3; mov eax,60; syscall
 */
const CODE = Buffer.from('b814000000cd8089c3b8270000000f0539d8750931ffb83c0000000f05bf03000000b83c0000000f05', 'hex');

/** The whole program: one read+execute PT_LOAD segment mapping the file at VADDR, entry right after the headers. */
export function compatProbeProgram(): Buffer {
  const size = HEADERS + CODE.length;
  const b = Buffer.alloc(size);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2 /* 64-bit */, 1 /* little-endian */, 1 /* ELF version */], 0);
  b.writeUInt16LE(2, 16); // e_type: ET_EXEC
  b.writeUInt16LE(0x3e, 18); // e_machine: x86-64
  b.writeUInt32LE(1, 20); // e_version
  b.writeBigUInt64LE(BigInt(VADDR + HEADERS), 24); // e_entry
  b.writeBigUInt64LE(64n, 32); // e_phoff
  b.writeUInt16LE(64, 52); // e_ehsize
  b.writeUInt16LE(56, 54); // e_phentsize
  b.writeUInt16LE(1, 56); // e_phnum
  const ph = 64;
  b.writeUInt32LE(1, ph); // p_type: PT_LOAD
  b.writeUInt32LE(5, ph + 4); // p_flags: R+X
  b.writeBigUInt64LE(0n, ph + 8); // p_offset
  b.writeBigUInt64LE(BigInt(VADDR), ph + 16); // p_vaddr
  b.writeBigUInt64LE(BigInt(VADDR), ph + 24); // p_paddr
  b.writeBigUInt64LE(BigInt(size), ph + 32); // p_filesz
  b.writeBigUInt64LE(BigInt(size), ph + 40); // p_memsz
  b.writeBigUInt64LE(0x1000n, ph + 48); // p_align
  CODE.copy(b, HEADERS);
  return b;
}

/** Places where a program may be written and run (a noexec mount refuses the exec: the next place is tried). */
const RUN_DIRS = [tmpdir(), '/run', '/dev/shm', '/var/tmp'];

/** Writes the program, runs it once, and says what happened. Undefined when no place would let it run. */
export function runCompatProbe(): CompatSupport | undefined {
  if (process.arch !== 'x64') return { ok: false, detail: `this is ${process.arch}, not x86_64: there is no int $0x80 ABI` };
  const program = compatProbeProgram();
  for (const base of RUN_DIRS) {
    let dir: string | undefined;
    try {
      dir = mkdtempSync(join(base, 'watchpost-compat-'));
      const exe = join(dir, 'probe');
      writeFileSync(exe, program, { mode: 0o700 });
      chmodSync(exe, 0o700);
      const r = spawnSync(exe, [], { stdio: 'ignore', timeout: 5000 });
      if (r.error) continue; // EACCES on a noexec mount: try the next place
      if (r.status === 0) return { ok: true, detail: 'a 32-bit int $0x80 getpid returned the caller\'s pid' };
      if (r.signal) return { ok: false, detail: `a process making a 32-bit int $0x80 syscall was killed by ${r.signal}` };
      return { ok: false, detail: `a 32-bit int $0x80 getpid did not return the caller's pid (exit ${r.status})` };
    } catch {
      continue;
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  }
  return undefined;
}

const CACHE_DIR = '/run/watchpost';

function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Watchpost itself runs under a seccomp filter: what refused the probe may be that filter, not the kernel. */
function underSeccompFilter(): boolean {
  try {
    return /^Seccomp:\s*2$/m.test(readFileSync('/proc/self/status', 'utf8'));
  } catch {
    return false;
  }
}

let known: CompatSupport | undefined;

/**
 * Whether this kernel runs 32-bit syscalls: once per process, and read from /run (keyed by boot id) when an earlier
 * Watchpost of this boot found out. A machine where the probe cannot run at all is assumed to allow them, so 32-bit
 * callers are caught rather than missed. Under a seccomp filter the answer is this process's own, never shared.
 */
export function compatSupport(): CompatSupport {
  if (known) return known;
  const sandboxed = underSeccompFilter();
  const boot = sandboxed ? undefined : bootId();
  const file = boot ? join(CACHE_DIR, `compat-${boot}.json`) : undefined;
  if (file) {
    try {
      const cached = JSON.parse(readFileSync(file, 'utf8')) as CompatSupport;
      if (typeof cached.ok === 'boolean' && typeof cached.detail === 'string') return (known = cached);
    } catch {
      // not yet found out this boot
    }
  }
  const found = runCompatProbe();
  if (!found) return (known = { ok: true, detail: 'not found out (no writable place lets a program run); assumed possible' });
  known = sandboxed && !found.ok ? { ok: false, detail: `${found.detail}; Watchpost runs under a seccomp filter, which may be what refused it`, sandboxed: true } : found;
  if (file) {
    try {
      mkdirSync(CACHE_DIR, { recursive: true, mode: 0o755 });
      writeFileSync(`${file}.${process.pid}`, JSON.stringify(found), { mode: 0o644 });
      renameSync(`${file}.${process.pid}`, file); // a concurrent start never reads half a file
    } catch {
      // read-only /run: found out again next start
    }
  }
  return known;
}

/** Turns --compat into what the probes arm, with the line the user is owed when the answer is not what they may expect. */
export function decideCompat(mode: CompatMode, support: () => CompatSupport = compatSupport): CompatDecision {
  if (mode === 'off') return { compat: false };
  const s = support();
  if (mode === 'on') {
    return s.ok ? { compat: true } : { compat: true, note: `--compat on: this kernel runs no 32-bit syscalls (${s.detail}); the 32-bit hooks are armed anyway, at their cost` };
  }
  return s.ok ? { compat: true } : { compat: false, note: `this kernel runs no 32-bit syscalls (${s.detail}): tracing 64-bit callers only, with the cheaper native hooks` };
}
