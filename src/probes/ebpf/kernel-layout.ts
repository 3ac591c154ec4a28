import { type Btf, BtfKind } from './btf.js';

/** The kernel struct offsets our programs read, taken from BTF at start-up (CO-RE without clang). */
export interface KernelLayout {
  task: {
    threadInfoStatus: number;
    realParent: number;
    groupLeader: number;
    tgid: number;
    pid: number;
    comm: number;
    startTime: number;
    nsproxy: number;
    threadPid: number;
  };
  nsproxyMntNs: number;
  /** linux_binprm.filename, the path exec was given. */
  binprmFilename: number;
  /** mnt_namespace.ns.inum and pid_namespace.ns.inum, from the namespace struct. */
  mntNsInum: number;
  pidNsInum: number;
  pidLevel: number;
  pidNumbers: number;
  upidSize: number;
  upidNr: number;
  upidNs: number;
  /** pt_regs offsets of the six syscall arguments: x86_64 (di si dx r10 r8 r9) and i386 (bx cx dx si di bp). */
  regsNative: number[];
  regsCompat: number[];
  regsOrigAx: number;
  regsSize: number;
  /** sched_process_exit has a group_dead argument (6.x); without it we keep fork-tracked pids until close. */
  exitHasGroupDead: boolean;
}

/** Thread-status bit set while a task runs a 32-bit (int $0x80) syscall (arch/x86/include/asm/thread_info.h). */
export const TS_COMPAT = 0x2;

export function kernelLayout(btf: Btf): KernelLayout {
  const t = (path: string): number => btf.offsetOf('task_struct', path);
  const regs = (names: string[]): number[] => names.map((n) => btf.offsetOf('pt_regs', n));
  return {
    task: {
      // On x86_64 thread_info is embedded first in task_struct (CONFIG_THREAD_INFO_IN_TASK).
      threadInfoStatus: t('thread_info') + btf.offsetOf('thread_info', 'status'),
      realParent: t('real_parent'),
      groupLeader: t('group_leader'),
      tgid: t('tgid'),
      pid: t('pid'),
      comm: t('comm'),
      startTime: t('start_time'),
      nsproxy: t('nsproxy'),
      threadPid: t('thread_pid'),
    },
    nsproxyMntNs: btf.offsetOf('nsproxy', 'mnt_ns'),
    binprmFilename: btf.offsetOf('linux_binprm', 'filename'),
    mntNsInum: btf.offsetOf('mnt_namespace', 'ns') + btf.offsetOf('ns_common', 'inum'),
    pidNsInum: btf.offsetOf('pid_namespace', 'ns') + btf.offsetOf('ns_common', 'inum'),
    pidLevel: btf.offsetOf('pid', 'level'),
    pidNumbers: btf.offsetOf('pid', 'numbers'),
    upidSize: btf.structSize('upid'),
    upidNr: btf.offsetOf('upid', 'nr'),
    upidNs: btf.offsetOf('upid', 'ns'),
    regsNative: regs(['di', 'si', 'dx', 'r10', 'r8', 'r9']),
    regsCompat: regs(['bx', 'cx', 'dx', 'si', 'di', 'bp']),
    regsOrigAx: btf.offsetOf('pt_regs', 'orig_ax'),
    regsSize: btf.structSize('pt_regs'),
    exitHasGroupDead: rawTracepointArgs(btf, 'sched_process_exit') >= 2,
  };
}

/** Number of arguments a raw tracepoint passes (its btf_trace_<name> prototype minus the leading void *). */
export function rawTracepointArgs(btf: Btf, name: string): number {
  const ids = btf.idsByName(`btf_trace_${name}`).filter((i) => btf.kind(i) === BtfKind.typedef);
  if (ids.length === 0) return 0;
  const ptr = btf.resolve(ids[0]);
  if (btf.kind(ptr) !== BtfKind.ptr) return 0;
  return btf.funcProtoParams(ptr) - 1;
}
