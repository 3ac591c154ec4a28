import type { EventDefinition } from '../catalog/types.js';
import type { ArgValue, BacklogStats } from '../model/event.js';
import type { LossCount } from '../model/loss.js';

/** Context a probe read in the kernel at the time of the syscall (eBPF); tracefs leaves it out. */
export interface KernelContext {
  pid: number;
  ppid: number;
  uid: number;
  gid: number;
  comm: string;
  cgroupId: number;
  mntns: number;
  pidns: number;
  /** pid and tid as seen inside the task's own PID namespace. */
  nsPid: number;
  nsTid: number;
  nsPpid: number;
  /** Task start time, ns since boot (CLOCK_MONOTONIC-based, as task_struct->start_time). */
  startTime: number;
}

/** One syscall, enter and exit paired: what every probe hands to the pipeline. */
export interface CompletedSyscall {
  event: EventDefinition;
  /** CLOCK_MONOTONIC nanoseconds at syscall entry. */
  monoNs: number;
  cpu: number;
  tid: number;
  compat: boolean;
  args: ArgValue[];
  ret: number;
  context?: KernelContext;
  /** The struct the event's catalog entry asks for (`entryRead`), its first bytes as read from user memory at entry (eBPF only); null when that read failed. */
  entryStruct?: Uint8Array | null;
  /**
   * eBPF: string args read from user memory at entry, as bit masks by arg index. `read` args carry their text instead of
   * the address (null where `unread`: bad pointer, page not present); `truncated` ones only their first STRING_MAX - 1 bytes.
   */
  strings?: { read: number; truncated: number; unread: number };
  /** A kill rule matched this call at entry (eBPF): its index in ProbeOptions.enforce.rules, and whether SIGKILL was sent. */
  enforcement?: { rule: number; killed: boolean };
}

/** Comparison operators of a kernel condition (the policy grammar's). */
export type CompareOp = '=' | '!=' | '<' | '>' | '<=' | '>=';

/** One condition the eBPF program checks at syscall entry (kill rules, argument filters); a rule's conditions all must hold. */
export type KernelCondition =
  /**
   * An argument register: `width` 32 compares the low half (an int in the kernel prototype); a 32-bit caller's 64-bit
   * argument is its register's low half, extended per `signed`. Several values: any one (`!=`: none).
   */
  | { on: 'arg'; index: number; width: 32 | 64; signed: boolean; op: CompareOp; values: bigint[] }
  /** The caller's real uid, mount namespace inum or cgroup2 id (unsigned). */
  | { on: 'uid' | 'mntns' | 'cgroupId'; op: CompareOp; values: bigint[] }
  /** task->comm, exact (cut to 15 bytes as the kernel cuts it). */
  | { on: 'comm'; op: '=' | '!='; values: string[] };

/** What a tracefs filter reads: the i-th syscall argument slot (all 8 bytes), or the thread id (`common_pid`). */
export type KernelOperand = { kind: 'arg'; index: number } | { kind: 'tid' };
export type KernelOp = '==' | '!=' | '<' | '<=' | '>' | '>=';
/** A tracefs entry filter, before the probe names the fields: comparisons joined by AND and OR. */
export type KernelExpr =
  | { kind: 'cmp'; operand: KernelOperand; op: KernelOp; value: bigint }
  | { kind: 'and' | 'or'; items: KernelExpr[] };

/** A rule whose matching calls are killed (bpf_send_signal(SIGKILL) at syscall entry) or, unarmed, only flagged. */
export interface KernelKillRule {
  nr: number;
  /** The 32-bit (int $0x80) number, checked when compat calls are caught. */
  compatNr?: number;
  conditions: KernelCondition[];
}

export interface ProbeEnforcement {
  rules: KernelKillRule[];
  /** false: a dry run; matching calls are flagged `would kill` and live. */
  armed: boolean;
  /** Executables never killed, by the identity of the file the task runs (kernel dev_t and inode). */
  allowExecutables: Array<{ dev: number; ino: bigint }>;
}

/** Task lifecycle, for the process tree: fork/clone, exec and exit as the kernel reported them. */
export type TaskEvent =
  | { kind: 'fork'; monoNs: number; parentTid: number; childTid: number; cloneFlags: number; comm: string }
  | { kind: 'exec'; monoNs: number; tid: number; oldTid: number; filename: string }
  | { kind: 'exit'; monoNs: number; tid: number; groupDead: boolean };

export interface ProbeOptions {
  events: EventDefinition[];
  /** Also catch 32-bit (int $0x80) calls; costs a hook on every syscall. */
  compat: boolean;
  /** Trace only these processes (and, with followForks, their new children and threads). */
  pids?: number[];
  followForks?: boolean;
  /** Thread/process ids never to record (Watchpost itself). */
  excludePids: number[];
  /** Per-CPU buffer size. */
  bufferKb?: number;
  /** The most bytes of kernel records held in user space while the pipeline is behind (backlog.ts); 0: none. */
  backlogBytes?: number;
  /** tracefs: each event's entry filter, over argument slots and the thread id; the probe names the fields from its format files. */
  kernelFilters?: Record<string, KernelExpr>;
  /** eBPF: each event's argument filter at entry; a call is kept when every condition of one clause holds (an empty list keeps none). */
  argFilters?: Record<string, KernelCondition[][]>;
  /** Also report task fork/exec/exit (drain's onTask), in timestamp order with the syscalls. */
  lifecycle?: boolean;
  /**
   * Pre-filter on the calling task, in the kernel (eBPF; tracefs ignores it): each kind given lists the values allowed
   * (any one matches), the kinds given must all match, an absent or empty kind filters nothing. Values as in
   * KernelContext (comm cut to 15 bytes like the kernel's). It may only drop what the scope in user space would also drop.
   */
  kernelScope?: { uids?: number[]; comms?: string[]; cgroupIds?: number[]; mntns?: number[] };
  /** Kill rules checked in the kernel at syscall entry (eBPF only; tracefs refuses them). Pid 1, kernel threads and excludePids are exempt. */
  enforce?: ProbeEnforcement;
}

export interface LossCounters {
  /** Records lost (and syscalls in progress at stop), by kind. */
  losses: LossCount[];
  /** Completed syscalls known lost, by event name (e.g. exit seen, enter lost). */
  byEvent: Record<string, number>;
  /** Completed syscalls the kernel filters dropped on purpose (never sent to user space), by event name. */
  filteredByEvent?: Record<string, number>;
  /** Syscalls lost in all, when records are not syscalls (tracefs: two records each); default: the sum of byEvent. */
  eventsLost?: number;
}

export interface Probe {
  readonly backend: 'tracefs' | 'ebpf';
  /** Reads what is available now (at most about `budget` records) and hands each completed syscall to emit. Returns how many were read. */
  drain(emit: (s: CompletedSyscall) => void, onTask?: (t: TaskEvent) => void, budget?: number): number;
  /** Loss counters so far. */
  losses(): LossCounters;
  /**
   * Moves records waiting in the kernel buffer into user-space memory (the backlog, bounded by backlogBytes), for a
   * reader that is behind: a burst is then held, not lost. drain hands them over first. Returns bytes moved. Optional.
   */
  spill?(): number;
  /** What the backlog holds and held at most. Optional, with spill. */
  backlog?(): BacklogStats;
  /** Stops recording (detaches, disables); what is buffered stays readable by drain, and finish hands over the rest. Optional. */
  stopRecording?(): void;
  /** Stops recording, hands over everything still buffered (settling pairs), then closes. Optional: without it, drain + close. */
  finish?(emit: (s: CompletedSyscall) => void, onTask?: (t: TaskEvent) => void): void;
  /** Stops recording and releases every kernel object; idempotent and synchronous (safe in exit handlers). */
  close(): void;
}
