import { statSync } from 'node:fs';
import type { CheckResult } from './check.js';

const VMLINUX = '/sys/kernel/btf/vmlinux';

export async function checkBtf(): Promise<CheckResult> {
  const name = 'BTF';
  let size: number;
  try {
    size = statSync(VMLINUX).size;
  } catch {
    return {
      status: 'warn',
      name,
      detail: `${VMLINUX} is missing: the eBPF backend cannot find task_struct offsets, Watchpost falls back to tracefs`,
      fix: 'use a kernel built with CONFIG_DEBUG_INFO_BTF=y',
    };
  }
  const { currentKernelLayout } = await import('../probes/ebpf/probe.js');
  const started = performance.now();
  try {
    currentKernelLayout();
  } catch (err) {
    return {
      status: 'warn',
      name,
      detail: `${VMLINUX} present but the task_struct layout could not be read from it: ${String((err as Error).message).split('\n')[0]}`,
      fix: 'report this kernel version; use --backend tracefs meanwhile',
    };
  }
  return {
    status: 'ok',
    name,
    detail: `${VMLINUX} (${(size / 1048576).toFixed(1)} MB) parsed in ${Math.round(performance.now() - started)} ms; task_struct offsets found`,
  };
}
