import type { CheckResult } from './check.js';

export async function checkBpf(): Promise<CheckResult> {
  const name = 'BPF';
  // loaded on demand: koffi is only needed here
  const { ebpfSupport } = await import('../probes/ebpf/probe.js');
  const s = ebpfSupport();
  if (s.ok) return { status: 'ok', name, detail: 'bpf(2) works: a test map was created and closed' };
  return {
    status: 'warn',
    name,
    detail: `${s.reason}; the eBPF backend is unavailable, Watchpost falls back to tracefs (higher cost per event)`,
    fix: 'run as root on a kernel with CONFIG_BPF_SYSCALL=y, and check that no seccomp or LSM policy blocks bpf(2)',
  };
}
