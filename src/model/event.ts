import type { ArgType } from '../catalog/types.js';

/** An argument value: 32-bit types are numbers, 64-bit types bigints, pointers "0x…" strings (as Tracee prints them). */
export type ArgValue = number | bigint | string | null;

export interface EventArg {
  name: string;
  type: ArgType;
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

/** One syscall event, emitted at syscall exit; field names follow Tracee's JSON output. */
export interface SyscallEvent {
  /** Nanoseconds since the Unix epoch (a double: ~256 ns resolution at today's dates). */
  timestamp: number;
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
}

/** Loss and delivery counters; delivered + lost accounts for every syscall the probes saw. */
export interface TraceStats {
  /** Events delivered, by event name. */
  delivered: Record<string, number>;
  /** Events known lost, by event name (e.g. an exit whose enter record was lost). */
  lostByEvent: Record<string, number>;
  /** Ring-buffer records lost before they could be read, not attributable to an event. */
  lostRecords: number;
  /** Where the losses came from: reason -> count. */
  lostByReason: Record<string, number>;
}
