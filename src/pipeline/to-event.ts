import type { EventDefinition } from '../catalog/types.js';
import type { EventArg, SyscallEvent } from '../model/event.js';
import type { CompletedSyscall } from '../probes/types.js';
import { ContainerResolver } from '../enrich/containers.js';
import { decodedArgs, errnoOf, portsOf } from '../enrich/details.js';
import { entityId } from '../enrich/entity-id.js';
import { ContainerNames } from '../enrich/runtime-api.js';
import type { ProcInfo } from '../enrich/proc.js';
import type { EpochClock } from './clock.js';
import { agentHost } from '../enrich/agent-host.js';

type Ports = ReturnType<typeof portsOf>;

/** One event's port owners by the values of the args its entry names (`at`: their indexes; the second -1 for a level). */
interface PortCache {
  at: readonly [number, number];
  byFirst: Map<EventArg['value'], Map<EventArg['value'], Ports>>;
  last: { first: EventArg['value']; second: EventArg['value']; ports: Ports } | undefined;
}

/** What user space knows of a thread: the process tree, or /proc. */
export type ThreadLookup = (tid: number) => ProcInfo | undefined;

// Shared, frozen: most events are on the host and carry the same empty values (one object per event, not six).
const EMPTY_CONTAINER = Object.freeze({ id: '', name: '', image: '', imageDigest: '' });
const EMPTY_K8S = Object.freeze({ podName: '', podNamespace: '', podUID: '', podSandbox: false });
const NO_ADDRESSES: number[] = Object.freeze([]) as unknown as number[];
const NO_POLICIES: string[] = Object.freeze([]) as unknown as string[];
const NO_METADATA: Record<string, unknown> = Object.freeze({});
/** The four contextFlags an event can have, shared: [containerStarted][isCompat]. */
const FLAGS = [false, true].map((containerStarted) => [false, true].map((isCompat) => Object.freeze({ containerStarted, isCompat })));
const MAX_CACHED = 4096;

/** A small memo: values computed once per key while the map stays under its bound. */
function memo<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let v = map.get(key);
  if (v === undefined) {
    if (map.size >= MAX_CACHED) map.clear();
    map.set(key, (v = make()));
  }
  return v;
}

export interface BuildOptions {
  /** Tracee's parse-arguments: replace raw arg values by their decoded names where a decoder exists. */
  parseArguments?: boolean;
}

/**
 * Builds the Tracee-shaped event: one object per delivered syscall. Hot path (every traced call passes here): what is
 * the same for every event of a thread or process (executable, container, pod, entity ids, flags) is computed once
 * and shared by reference, so outputs can serialise it once too; per event only the call's own values are new.
 */
export class EventBuilder {
  private readonly host = agentHost; // WATCHPOST_HOSTNAME under the DaemonSet (the pod's UTS name is not the node's)
  private readonly containers = new ContainerResolver();
  private readonly names = new ContainerNames();
  private readonly executables = new Map<string, { path: string }>();
  private readonly eventIds = new Map<number, string>();
  private readonly entityIds = new Map<number, { start: number; id: number }>();

  /** Entity ids by task id, recomputed only when the start time differs (pid reuse). Hot path: numeric keys. */
  private entity(id: number, start: number | undefined): number {
    if (!id || !start) return 0;
    const hit = this.entityIds.get(id);
    if (hit !== undefined && hit.start === start) return hit.id;
    if (this.entityIds.size >= MAX_CACHED) this.entityIds.clear();
    const v = entityId(id, start);
    this.entityIds.set(id, { start, id: v });
    return v;
  }

  /** Per event: the index of its one arg with a decoder, when that arg alone decides `decoded` (-1: none, or not memoised). */
  private readonly decoderArg = new Map<EventDefinition, number>();
  private readonly decodedBy = new Map<EventDefinition, Map<EventArg['value'], Readonly<Record<string, string>> | undefined>>();

  /** Decoded names depend only on the decoder's arg: made once per value and shared (frozen) by the events that have it. */
  private decoded(def: EventDefinition, args: EventArg[], entryStruct: Uint8Array | null | undefined): Record<string, string> | undefined {
    let at = this.decoderArg.get(def);
    if (at === undefined) {
      const withDecoder = def.args.flatMap((a, i) => (a.decoder !== undefined ? [i] : []));
      at = withDecoder.length === 1 && def.entryRead === undefined ? withDecoder[0] : -1;
      this.decoderArg.set(def, at);
    }
    if (at < 0) return decodedArgs(def, args, entryStruct);
    let byValue = this.decodedBy.get(def);
    if (byValue === undefined) this.decodedBy.set(def, (byValue = new Map()));
    const value = args[at].value;
    let out = byValue.get(value);
    if (out === undefined && !byValue.has(value)) {
      if (byValue.size >= MAX_CACHED) byValue.clear();
      const made = decodedArgs(def, args, entryStruct);
      byValue.set(value, (out = made && Object.freeze(made)));
    }
    return out as Record<string, string> | undefined;
  }

  private readonly portCache = new Map<EventDefinition, PortCache>();

  /**
   * Port owners depend only on the args the entry's `ports` names: computed once per their values (nested maps by value,
   * no string key per event), and the last answer per event kept beside them (a BigInt key costs a hash per lookup).
   */
  private ports(def: EventDefinition, args: EventArg[]): Ports {
    const p = def.ports;
    if (p === undefined) return undefined;
    let c = this.portCache.get(def);
    if (c === undefined) {
      const index = (name: string): number => def.args.findIndex((a) => a.name === name);
      const at: [number, number] = p.kind === 'range' ? [index(p.from), index(p.num)] : [index(p.level), -1];
      this.portCache.set(def, (c = { at, byFirst: new Map(), last: undefined }));
    }
    const first = args[c.at[0]]?.value ?? null;
    const second = c.at[1] < 0 ? null : (args[c.at[1]]?.value ?? null);
    const last = c.last;
    if (last !== undefined && last.first === first && last.second === second) return last.ports;
    let bySecond = c.byFirst.get(first);
    if (bySecond === undefined) {
      if (c.byFirst.size >= MAX_CACHED) c.byFirst.clear();
      c.byFirst.set(first, (bySecond = new Map()));
    }
    let out = bySecond.get(second);
    if (out === undefined && !bySecond.has(second)) {
      if (bySecond.size >= MAX_CACHED) bySecond.clear();
      bySecond.set(second, (out = portsOf(def, args)));
    }
    c.last = { first, second, ports: out };
    return out;
  }

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
    const text = s.strings?.read ?? 0; // string args whose value is their text (eBPF), not their address
    for (let i = 0; i < def.args.length; i++) args[i] = { name: def.args[i].name, type: (text >> i) & 1 ? 'string' : def.args[i].type, value: s.args[i] ?? null };
    const procStart = hostPid === s.tid ? startTime : this.lookup(hostPid)?.startTime;
    const cc =
      this.containers.resolve(hostPid, procStart ?? 0, ctx?.cgroupId) ??
      (hostPpid ? this.containers.resolve(hostPpid, this.lookup(hostPpid)?.startTime ?? 0) : undefined); // gone: its parent's
    const container = cc?.container;
    const names = container ? this.names.get(container.id, container.runtime) : undefined; // cached; never waits
    const decoded = this.decoded(def, args, s.entryStruct);
    const ports = this.ports(def, args);
    if (decoded && this.options.parseArguments) for (const a of args) if (decoded[a.name] !== undefined) a.value = decoded[a.name];
    const threadEntityId = this.entity(s.tid, startTime);
    const ev: SyscallEvent = {
      timestamp: this.clock.toEpoch(s.monoNs),
      exactTimestamp: this.clock.toEpochDigits(s.monoNs),
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
      executable: memo(this.executables, info?.exePath ?? '', () => Object.freeze({ path: info?.exePath ?? '' })),
      hostName: this.host,
      containerId: container?.id ?? '',
      container: container ? { ...(names?.container ?? EMPTY_CONTAINER), id: container.id } : EMPTY_CONTAINER,
      kubernetes: container ? { ...(names?.kubernetes ?? EMPTY_K8S), ...(container.podUID && { podUID: container.podUID }) } : EMPTY_K8S,
      eventId: memo(this.eventIds, def.nr, () => String(def.nr)),
      eventName: def.name,
      matchedPolicies: NO_POLICIES,
      argsNum: def.args.length,
      returnValue: s.ret,
      syscall: def.name,
      stackAddresses: NO_ADDRESSES,
      // Tracee: the container's entrypoint runs (not the runtime's init still setting it up)
      contextFlags: FLAGS[container !== undefined && !(ctx?.comm ?? info?.comm ?? '').startsWith('runc:') ? 1 : 0][s.compat ? 1 : 0],
      threadEntityId,
      processEntityId: hostPid === s.tid ? threadEntityId : this.entity(hostPid, procStart),
      parentEntityId: this.entity(hostPpid, this.lookup(hostPpid)?.startTime),
      args,
      metadata: NO_METADATA,
    };
    const errno = errnoOf(s.ret);
    if (errno) ev.errno = errno;
    if (ports) ev.ports = ports;
    if (decoded) ev.decoded = decoded;
    if (container) ev.containerRuntime = container.runtime;
    if (s.strings?.truncated) ev.truncatedArgs = argNames(def.args, s.strings.truncated);
    if (s.strings?.unread) ev.unreadArgs = argNames(def.args, s.strings.unread);
    return ev;
  }
}

/** The names of the args whose bit is set. */
function argNames(defs: readonly { name: string }[], mask: number): string[] {
  return defs.flatMap((d, i) => ((mask >> i) & 1 ? [d.name] : []));
}
