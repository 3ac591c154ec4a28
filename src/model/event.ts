import type { LossKind } from './loss.js';
import type { EventArgType } from '../catalog/types.js';

/** An argument value: 32-bit types are numbers, 64-bit types bigints, pointers "0x…" strings (as Tracee prints them). */
export type ArgValue = number | bigint | string | null;

export interface EventArg {
  name: string;
  type: EventArgType;
  value: ArgValue;
}

export interface ContainerInfo {
  id: string;
  name: string;
  image: string;
  imageDigest: string;
}

export interface KubernetesInfo {
  podName: string;
  podNamespace: string;
  podUID: string;
  podSandbox: boolean;
}

/** A run of I/O ports an ioperm/iopl call touched, and who owns them on this host. */
export interface PortRangeOwner {
  first: number;
  last: number;
  owner: string;
  /** Where the owner came from: the host's /proc/ioports, the well-known PC map, or nowhere. */
  source: 'ioports' | 'legacy' | 'unknown';
}

/** One syscall event, emitted at syscall exit; field names follow Tracee's JSON output. */
export interface SyscallEvent {
  /** Nanoseconds since the Unix epoch (a double: ~256 ns resolution at today's dates). */
  timestamp: number;
  /** The same instant exactly, as decimal digits, where known (traced live, or recorded with all its digits): outputs print this. */
  exactTimestamp?: string;
  threadStartTime: number;
  processorId: number;
  processId: number;
  cgroupId: number;
  threadId: number;
  parentProcessId: number;
  hostProcessId: number;
  hostThreadId: number;
  hostParentProcessId: number;
  userId: number;
  mountNamespace: number;
  pidNamespace: number;
  processName: string;
  executable: { path: string };
  hostName: string;
  containerId: string;
  container: ContainerInfo;
  kubernetes: KubernetesInfo;
  /** Tracee's event id: the x86_64 syscall number, as a string. */
  eventId: string;
  eventName: string;
  matchedPolicies: string[];
  argsNum: number;
  returnValue: number;
  syscall: string;
  stackAddresses: number[];
  contextFlags: { containerStarted: boolean; isCompat: boolean };
  threadEntityId: number;
  processEntityId: number;
  parentEntityId: number;
  args: EventArg[];
  metadata: Record<string, unknown>;
  /** Watchpost additions (after Tracee's fields; absent when they do not apply): */
  /** errno name when returnValue is a negative errno, e.g. "ENOSYS". */
  errno?: string;
  /** ioperm (from, num) and iopl (level 3: the whole space): the port ranges touched and their owners. */
  ports?: PortRangeOwner[];
  /** Decoded argument values by arg name (ioctl request name, flag names), when a decoder knows them. */
  decoded?: Record<string, string>;
  /** Container runtime recognised from the cgroup path (docker, containerd, crio, podman, systemd-nspawn, lxc). */
  containerRuntime?: string;
  /** String args read from user memory whose text goes on past the first STRING_MAX - 1 bytes (eBPF reads 255): the value is that prefix. */
  truncatedArgs?: string[];
  /** String args whose text could not be read at entry (bad pointer, page not present): their value is null. */
  unreadArgs?: string[];
}

/** Loss and delivery counters; delivered + lost accounts for every syscall the probes saw. */
/**
 * The backlog (probes/backlog.ts): bytes of kernel records held in user-space memory now, the most held at once, and
 * the limit past which the kernel buffer fills and loses.
 */
export interface BacklogStats {
  bytes: number;
  peakBytes: number;
  limitBytes: number;
}

export interface TraceStats {
  /** Events delivered, by event name. */
  delivered: Record<string, number>;
  /** Events known lost, by event name (e.g. an exit whose enter record was lost). */
  lostByEvent: Record<string, number>;
  /** Ring-buffer records lost before they could be read, not attributable to an event. */
  lostRecords: number;
  /** Events (syscalls) lost in all: delivered + filtered + lostEvents accounts for every syscall the probes saw. */
  lostEvents: number;
  /** Where the losses came from, in words (one per kind and event): label -> count. */
  lostByReason: Record<string, number>;
  /** The same losses by kind, for machines: kind -> count. */
  lostByKind: Partial<Record<LossKind, number>>;
  /** Events dropped on purpose by the filters and policies (in the kernel or in user space), by event name. */
  filtered: Record<string, number>;
  /** The part of `filtered` the kernel dropped, never sent to user space (tracefs entry filters; eBPF task and argument filters). */
  filteredInKernel?: Record<string, number>;
  /** Kernel records held in user-space memory while a burst outpaced the pipeline; absent for probes without a backlog. */
  backlog?: BacklogStats;
  /** Calls kill rules matched, by action (`killed`, `would kill`) and policy name; absent without kill rules. */
  enforcements?: Record<string, Record<string, number>>;
}
