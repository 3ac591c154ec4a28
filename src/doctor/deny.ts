import type { CheckResult } from './check.js';

/** Whether `actions: [deny]` can make a call fail here: a trivial BPF LSM program is loaded and attached for an instant. */
export async function checkDeny(): Promise<CheckResult> {
  const name = 'enforcement (deny)';
  const { probeLsm } = await import('../probes/ebpf/lsm.js'); // koffi, only here
  const s = probeLsm('locked_down');
  if (s.ok) return { status: 'ok', name, detail: `BPF LSM programs attach (active LSMs ${s.lsms.join(',')}): deny rules make the call fail with EPERM` };
  return {
    status: 'warn',
    name,
    detail: `deny is unavailable: ${s.reason}; kill rules still work (bpf_send_signal at syscall entry)`,
    fix: s.lsms?.includes('bpf') ? 'use actions: [kill] (the call completes, the caller dies before its next instruction); deny needs a kernel that lets BPF LSM programs load (lockdown integrity refuses them here)' : 'boot with bpf in lsm= (CONFIG_BPF_LSM=y), or use actions: [kill]',
  };
}
