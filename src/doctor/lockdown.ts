import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, readFileSync, readSync } from 'node:fs';
import type { CheckResult } from './check.js';
import { readKernelConfig, type KernelConfig } from './kernel-config.js';

export type LockdownLevel = 'none' | 'integrity' | 'confidentiality';

export interface LockdownState {
  /** undefined: locked down, level unknown; null: no sign of lockdown found. */
  level: LockdownLevel | undefined | null;
  evidence: string;
}

/** The selected level in securityfs's `lockdown` file, e.g. "none [integrity] confidentiality". */
export function parseLockdownFile(text: string): LockdownLevel | undefined {
  const m = /\[(none|integrity|confidentiality)\]/.exec(text);
  return m ? (m[1] as LockdownLevel) : undefined;
}

/** The kernel log, from /dev/kmsg (read non-blocking to its end), else `dmesg`; undefined when neither is readable. */
export function readKernelLog(): string | undefined {
  try {
    const fd = openSync('/dev/kmsg', constants.O_RDONLY | constants.O_NONBLOCK);
    const buf = Buffer.alloc(8192);
    const lines: string[] = [];
    try {
      for (let i = 0; i < 200_000; i++) {
        let n: number;
        try {
          n = readSync(fd, buf, 0, buf.length, null);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'EPIPE') continue; // records overwritten while reading: go on with the next
          if (code === 'EAGAIN') break; // the end
          throw err;
        }
        if (n <= 0) break;
        const rec = buf.toString('utf8', 0, n);
        lines.push(rec.slice(rec.indexOf(';') + 1).split('\n')[0]);
      }
    } finally {
      closeSync(fd);
    }
    return lines.join('\n');
  } catch {
    try {
      return execFileSync('dmesg', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      return undefined;
    }
  }
}

/** Lockdown level: securityfs if mounted, else the kernel log's "Kernel is locked down" line, with the level from the command line or build config. */
export interface LockdownSources {
  /** /sys/kernel/security/lockdown, when securityfs is mounted. */
  file: string | undefined;
  log: string | undefined;
  cmdline: string;
  config: KernelConfig | undefined;
}

export function readLockdownSources(): LockdownSources {
  return {
    file: readOptional('/sys/kernel/security/lockdown'),
    log: readKernelLog(),
    cmdline: readOptional('/proc/cmdline') ?? '',
    config: readKernelConfig(),
  };
}

export function lockdownState({ file, log, cmdline, config }: LockdownSources = readLockdownSources()): LockdownState {
  if (file !== undefined) {
    const level = parseLockdownFile(file);
    if (level) return { level, evidence: `/sys/kernel/security/lockdown says "${file.trim()}"` };
  }
  const line = log?.split('\n').find((l) => l.includes('Kernel is locked down'));
  if (!line) {
    const where = log === undefined ? 'the kernel log is not readable' : 'no "Kernel is locked down" line in the kernel log';
    const forced = forcedLevel(config);
    if (forced) return { level: forced.level, evidence: `securityfs lockdown file absent; ${where}; but ${forced.option}=y in ${config!.source} locks it down at boot` };
    return { level: null, evidence: `securityfs lockdown file absent; ${where}` };
  }
  const evidence = `kernel log: "${line.trim().replace(/; see man kernel_lockdown\.7$/, '')}"`;
  const arg = /(?:^|\s)lockdown=(integrity|confidentiality)\b/.exec(cmdline);
  if (arg) return { level: arg[1] as LockdownLevel, evidence: `${evidence}; level from the kernel command line (lockdown=${arg[1]})` };
  const forced = forcedLevel(config);
  if (forced) return { level: forced.level, evidence: `${evidence}; level from ${forced.option}=y in ${config!.source}` };
  return { level: undefined, evidence: `${evidence}; level not found (no lockdown= argument, no kernel config)` };
}

/** The level CONFIG_LOCK_DOWN_KERNEL_FORCE_* imposes at boot, if any. */
function forcedLevel(config: KernelConfig | undefined): { level: LockdownLevel; option: string } | undefined {
  for (const level of ['confidentiality', 'integrity'] as const) {
    const option = `CONFIG_LOCK_DOWN_KERNEL_FORCE_${level.toUpperCase()}`;
    if (config?.values.get(option) === 'y') return { level, option };
  }
  return undefined;
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

const INTEGRITY_MEANS =
  'the kernel refuses to grant I/O ports, so ioperm(turn_on=1) and raising iopl fail with EPERM even for root (common on Secure Boot machines); the syscall tracepoints and BPF programs Watchpost uses still work';

/** What the round trip's ioperm call shows about lockdown, if it made one. */
function evidenceFromIoperm(iopermRet: number | undefined): string {
  if (iopermRet === -1) return '; the round trip confirms: ioperm(turn_on=1) got -1 EPERM';
  if (iopermRet === -38) return '; on this kernel ioperm support is not built in (the syscall returns -38 ENOSYS before lockdown is consulted)';
  return '';
}

export function checkLockdown(state: LockdownState = lockdownState(), iopermRet?: number): CheckResult {
  const name = 'kernel lockdown';
  const extra = evidenceFromIoperm(iopermRet);
  switch (state.level) {
    case 'none':
      return { status: 'ok', name, detail: `none (${state.evidence})` };
    case null:
      return { status: 'ok', name, detail: `no sign of lockdown (${state.evidence})` };
    case 'integrity':
      return { status: 'ok', name, detail: `integrity mode (${state.evidence}): ${INTEGRITY_MEANS}${extra}` };
    case 'confidentiality':
      return {
        status: 'warn',
        name,
        detail: `confidentiality mode (${state.evidence}): on top of integrity mode's limits, tracefs is closed and BPF may not read kernel memory, so both backends are likely refused`,
        fix: 'boot with lockdown=integrity (or without lockdown) on the machines you trace',
      };
    default:
      return {
        status: 'ok',
        name,
        detail: `locked down, level unknown (${state.evidence}): at integrity level or above ${INTEGRITY_MEANS}${extra}`,
      };
  }
}
