import { hostname } from 'node:os';
import type { EventArg, SyscallEvent } from '../model/event.js';
import type { CompletedSyscall } from '../probes/types.js';
import { ContainerResolver } from '../enrich/containers.js';
import { decodedArgs, errnoOf, portsOf } from '../enrich/details.js';
import { entityId } from '../enrich/entity-id.js';
import { ContainerNames } from '../enrich/runtime-api.js';
import type { ProcInfo } from '../enrich/proc.js';
import type { EpochClock } from './clock.js';

/** What user space knows of a thread: the process tree, or /proc. */
export type ThreadLookup = (tid: number) => ProcInfo | undefined;

const EMPTY_CONTAINER = Object.freeze({ id: '', name: '', image: '', imageDigest: '' });
const EMPTY_K8S = Object.freeze({ podName: '', podNamespace: '', podUID: '', podSandbox: false });

export interface BuildOptions {
  /** Tracee's parse-arguments: replace raw arg values by their decoded names where a decoder exists. */
  parseArguments?: boolean;
}

/** Builds the Tracee-shaped event: one object per delivered syscall. */
export class EventBuilder {
  private readonly host = hostname();
  private readonly containers = new ContainerResolver();
  private readonly names = new ContainerNames();

  constructor(
    private readonly clock: EpochClock,
    private readonly lookup: ThreadLookup,
    private readonly options: BuildOptions = {},
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
    const procStart = hostPid === s.tid ? startTime : this.lookup(hostPid)?.startTime;
    const cc =
      this.containers.resolve(hostPid, procStart ?? 0, ctx?.cgroupId) ??
      (hostPpid ? this.containers.resolve(hostPpid, this.lookup(hostPpid)?.startTime ?? 0) : undefined); // gone: its parent's
    const container = cc?.container;
    const names = container ? this.names.get(container.id, container.runtime) : undefined; // cached; never waits
    const decoded = decodedArgs(def.name, args);
    const ports = portsOf(def.name, args);
    if (decoded && this.options.parseArguments) for (const a of args) if (decoded[a.name] !== undefined) a.value = decoded[a.name];
    const ev: SyscallEvent = {
      timestamp: this.clock.toEpoch(s.monoNs),
      threadStartTime: startTime === undefined ? 0 : this.clock.toEpoch(startTime),
      processorId: s.cpu,
      processId: ctx?.nsPid ?? info?.nsPid ?? hostPid,
      cgroupId: ctx?.cgroupId || cc?.cgroupId || 0,
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
      containerId: container?.id ?? '',
      container: container ? { ...(names?.container ?? EMPTY_CONTAINER), id: container.id } : { ...EMPTY_CONTAINER },
      kubernetes: { ...(names?.kubernetes ?? EMPTY_K8S), ...(container?.podUID && { podUID: container.podUID }) },
      eventId: String(def.nr),
      eventName: def.name,
      matchedPolicies: [],
      argsNum: def.args.length,
      returnValue: s.ret,
      syscall: def.name,
      stackAddresses: [],
      // Tracee: the container's entrypoint runs (not the runtime's init still setting it up)
      contextFlags: { containerStarted: container !== undefined && !(ctx?.comm ?? info?.comm ?? '').startsWith('runc:'), isCompat: s.compat },
      threadEntityId: entityId(s.tid, startTime ?? 0),
      processEntityId: hostPid === s.tid ? entityId(s.tid, startTime ?? 0) : entityId(hostPid, this.lookup(hostPid)?.startTime ?? 0),
      parentEntityId: entityId(hostPpid, this.lookup(hostPpid)?.startTime ?? 0),
      args,
      metadata: {},
    };
    const errno = errnoOf(s.ret);
    if (errno) ev.errno = errno;
    if (ports) ev.ports = ports;
    if (decoded) ev.decoded = decoded;
    if (container) ev.containerRuntime = container.runtime;
    return ev;
  }
}
