import type { CheckResult } from './check.js';

/**
 * Whether `actions: [deny]` can make a call fail here: a trivial BPF LSM program is loaded and attached for an instant.
 * Its absence is a limit, not a fault (kill rules and tracing work without it), so the line is ok either way and says which.
 */
export async function checkDeny(): Promise<CheckResult> {
  const name = 'enforcement (deny)';
  const { probeLsm } = await import('../probes/ebpf/lsm.js'); // koffi, only here
  const s = probeLsm('locked_down');
  if (s.ok) return { status: 'ok', name, detail: `BPF LSM programs attach (active LSMs ${s.lsms.join(',')}), so a kernel-side deny is possible here; Watchpost's deny rules are not implemented yet, use actions: [kill]` };
  const how = s.lsms?.includes('bpf') ? 'this kernel refuses BPF LSM programs (lockdown integrity does)' : 'boot with bpf in lsm= (CONFIG_BPF_LSM=y) for deny';
  return { status: 'ok', name, detail: `deny is unavailable: ${s.reason}; ${how}. Kill rules work (bpf_send_signal at syscall entry): use actions: [kill]` };
}
