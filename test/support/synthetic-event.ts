import { findEvent } from '../../src/catalog/events.js';
import type { ArgValue, SyscallEvent } from '../../src/model/event.js';

/** A SyscallEvent as the pipeline would hand it to the policy stage: a host process, no container, args in catalog order. */
export function syscallEvent(eventName: string, args: ArgValue[], over: Partial<SyscallEvent> = {}): SyscallEvent {
  const def = findEvent(eventName);
  if (!def) throw new Error(`no catalog event ${eventName}`);
  return {
    timestamp: 1_700_000_000_000_000_000,
    threadStartTime: 1_600_000_000_000_000_000,
    processorId: 0,
    processId: 4242,
    cgroupId: 1,
    threadId: 4242,
    parentProcessId: 1000,
    hostProcessId: 4242,
    hostThreadId: 4242,
    hostParentProcessId: 1000,
    userId: 0,
    mountNamespace: 4026531840,
    pidNamespace: 4026531836,
    processName: 'portprobe',
    executable: { path: '/usr/local/bin/portprobe' },
    hostName: 'host1',
    containerId: '',
    container: { id: '', name: '', image: '', imageDigest: '' },
    kubernetes: { podName: '', podNamespace: '', podUID: '', podSandbox: false },
    eventId: String(def.nr),
    eventName,
    matchedPolicies: [],
    argsNum: def.args.length,
    returnValue: 0,
    syscall: eventName,
    stackAddresses: [],
    contextFlags: { containerStarted: false, isCompat: false },
    threadEntityId: 1,
    processEntityId: 1,
    parentEntityId: 1,
    args: def.args.map((a, i) => ({ name: a.name, type: a.type, value: args[i] ?? null })),
    metadata: {},
    ...over,
  };
}

/** ioperm(from, num, turn_on) with the value types the decoder produces: 64-bit as bigint, int32 as number. */
export function ioperm(from: number, num: number, turnOn: number, over: Partial<SyscallEvent> = {}): SyscallEvent {
  return syscallEvent('ioperm', [BigInt(from), BigInt(num), turnOn], over);
}

/** In a container: id, name and image set, as enrichment fills them. */
export function inContainer(id = 'ab356bc4dd554f00aa11bb22cc33dd44ee55ff6600112233445566778899aabb'): Partial<SyscallEvent> {
  return { containerId: id, container: { id, name: 'web', image: 'nginx:1.27', imageDigest: 'sha256:0' }, mountNamespace: 4026532448, pidNamespace: 4026532449 };
}
