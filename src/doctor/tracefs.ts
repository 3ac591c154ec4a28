import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import type { EventDefinition } from '../catalog/types.js';
import type { CheckResult } from './check.js';

/** Where tracefs is mounted, from /proc/self/mounts (debugfs's tracing/ directory counts too); undefined if nowhere. */
export function tracefsMount(mounts = readFileSync('/proc/self/mounts', 'utf8')): string | undefined {
  for (const line of mounts.split('\n')) {
    const [, dir, type] = line.split(' ');
    if (type === 'tracefs') return dir;
  }
  for (const line of mounts.split('\n')) {
    const [, dir, type] = line.split(' ');
    if (type === 'debugfs' && existsSync(`${dir}/tracing/instances`)) return `${dir}/tracing`;
  }
  return undefined;
}

export function checkTracefs(events: readonly EventDefinition[]): CheckResult {
  const name = 'tracefs';
  const root = tracefsMount();
  if (!root) {
    return {
      status: 'warn',
      name,
      detail: 'not mounted (Watchpost mounts it at /sys/kernel/tracing when it starts, if it may)',
      fix: 'mount it: `mount -t tracefs nodev /sys/kernel/tracing` (kernel needs CONFIG_TRACING)',
    };
  }
  try {
    accessSync(root, constants.R_OK | constants.X_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { status: 'fail', name, detail: `mounted at ${root} but not readable (${code}): tracefs is root's`, fix: 'run as root (`sudo`)' };
  }
  if (!existsSync(`${root}/instances`)) {
    return { status: 'fail', name, detail: `mounted at ${root} but has no instances/ directory (kernel too old?)`, fix: 'use a kernel >= 4.x with tracefs instances' };
  }
  const missing = events.filter((e) => !existsSync(`${root}/events/syscalls/sys_enter_${e.name}`) || !existsSync(`${root}/events/syscalls/sys_exit_${e.name}`));
  const raw = existsSync(`${root}/events/raw_syscalls/sys_enter`) && existsSync(`${root}/events/raw_syscalls/sys_exit`);
  if (!existsSync(`${root}/events/syscalls`)) {
    return { status: 'fail', name, detail: `mounted at ${root}, but the kernel has no syscall tracepoints (events/syscalls)`, fix: 'use a kernel built with CONFIG_FTRACE_SYSCALLS=y' };
  }
  if (missing.length || !raw) {
    const what = [...missing.map((e) => `syscalls:sys_{enter,exit}_${e.name}`), ...(raw ? [] : ['raw_syscalls:sys_{enter,exit}'])];
    return {
      status: 'fail',
      name,
      detail: `mounted at ${root}, but these tracepoints are missing: ${what.join(', ')}`,
      fix: 'those syscalls are not built into this kernel: leave them out with -e, or use a kernel that has them',
    };
  }
  return {
    status: 'ok',
    name,
    detail: `mounted at ${root}; instances/ present; syscalls:sys_enter/exit tracepoints for ${events.map((e) => e.name).join(', ')} and raw_syscalls:sys_enter/exit present`,
  };
}
