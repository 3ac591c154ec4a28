import { hostname } from 'node:os';
import type { EventArg, SyscallEvent } from '../model/event.js';
import type { CompletedSyscall } from '../probes/types.js';
import { entityId } from '../enrich/entity-id.js';
import type { ProcInfo } from '../enrich/proc.js';
import type { EpochClock } from './clock.js';

/** What user space knows of a thread: the process tree, or /proc. */
export type ThreadLookup = (tid: number) => ProcInfo | undefined;

const EMPTY_CONTAINER = Object.freeze({ id: '', name: '', image: '', imageDigest: '' });
const EMPTY_K8S = Object.freeze({ podName: '', podNamespace: '', podUID: '', podSandbox: false });

/** Builds the Tracee-shaped event: one object per delivered syscall. */
export class EventBuilder {
  private readonly host = hostname();

  constructor(
    private readonly clock: EpochClock,
    private readonly lookup: ThreadLookup,
  ) {}

  build(s: CompletedSyscall): SyscallEvent {
    const ctx = s.context;
    // a thread already gone: its process (known to the kernel context) still tells the executable
    const info = this.lookup(s.tid) ?? (ctx ? this.lookup(ctx.pid) : undefined);
    const hostPid = ctx?.pid ?? info?.pid ?? 0;
    const hostPpid = ctx?.ppid ?? info?.ppid ?? 0;
    const startTime = ctx?.startTime ?? info?.startTime;
    const def = s.event;
    const args: EventArg[] = new Array(def.args.length);
    for (let i = 0; i < def.args.length; i++) args[i] = { name: def.args[i].name, type: def.args[i].type, value: s.args[i] ?? null };
    return {
      timestamp: this.clock.toEpoch(s.monoNs),
      threadStartTime: startTime === undefined ? 0 : this.clock.toEpoch(startTime),
      processorId: s.cpu,
      processId: ctx?.nsPid ?? info?.nsPid ?? hostPid,
      cgroupId: ctx?.cgroupId ?? 0,
      threadId: ctx?.nsTid ?? info?.nsTid ?? s.tid,
      parentProcessId: ctx?.nsPpid ?? info?.nsPpid ?? hostPpid,
      hostProcessId: hostPid,
      hostThreadId: s.tid,
      hostParentProcessId: hostPpid,
      userId: ctx?.uid ?? info?.uid ?? -1,
      mountNamespace: ctx?.mntns ?? info?.mntns ?? 0,
      pidNamespace: ctx?.pidns ?? info?.pidns ?? 0,
      processName: ctx?.comm ?? info?.comm ?? '',
      executable: { path: info?.exePath ?? '' },
      hostName: this.host,
      containerId: '',
      container: { ...EMPTY_CONTAINER },
      kubernetes: { ...EMPTY_K8S },
      eventId: String(def.nr),
      eventName: def.name,
      matchedPolicies: [],
      argsNum: def.args.length,
      returnValue: s.ret,
      syscall: def.name,
      stackAddresses: [],
      contextFlags: { containerStarted: false, isCompat: s.compat },
      threadEntityId: entityId(s.tid, startTime ?? 0),
      processEntityId: hostPid === s.tid ? entityId(s.tid, startTime ?? 0) : entityId(hostPid, this.lookup(hostPid)?.startTime ?? 0),
      parentEntityId: entityId(hostPpid, this.lookup(hostPpid)?.startTime ?? 0),
      args,
      metadata: {},
    };
  }
}
