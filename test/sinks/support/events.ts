import { findEvent } from '../../../src/catalog/events.js';
import type { SyscallEvent } from '../../../src/model/event.js';

/** A delivered ioperm event as the pipeline builds it; `from` doubles as a sequence number the tests check. */
export function iopermEvent(from: number, over: Partial<SyscallEvent> = {}): SyscallEvent {
  const def = findEvent('ioperm')!;
  return {
    timestamp: 1_795_544_402_231_179_800 + from * 1000,
    threadStartTime: 0,
    processorId: 0,
    processId: 4242,
    cgroupId: 0,
    threadId: 4242,
    parentProcessId: 1,
    hostProcessId: 4242,
    hostThreadId: 4242,
    hostParentProcessId: 1,
    userId: 0,
    mountNamespace: 4026531841,
    pidNamespace: 4026531836,
    processName: 'portprobe',
    executable: { path: '/usr/local/bin/portprobe' },
    hostName: 'host1',
    containerId: '',
    container: { id: '', name: '', image: '', imageDigest: '' },
    kubernetes: { podName: '', podNamespace: '', podUID: '', podSandbox: false },
    eventId: String(def.nr),
    eventName: 'ioperm',
    matchedPolicies: [],
    argsNum: 3,
    returnValue: -1,
    syscall: 'ioperm',
    stackAddresses: [],
    contextFlags: { containerStarted: false, isCompat: false },
    threadEntityId: 0,
    processEntityId: 0,
    parentEntityId: 0,
    args: [
      { name: 'from', type: 'uint64', value: BigInt(from) },
      { name: 'num', type: 'uint64', value: 1n },
      { name: 'turn_on', type: 'int32', value: 1 },
    ],
    metadata: {},
    ...over,
  };
}

export function range(start: number, n: number): SyscallEvent[] {
  return Array.from({ length: n }, (_, i) => iopermEvent(start + i));
}

/** The `from` argument of a JSON event: the test sequence number. */
export function seqOf(json: { args: Array<{ name: string; value: unknown }> }): number {
  return Number(json.args.find((a) => a.name === 'from')!.value);
}

/** Polls until `check` returns a value (not undefined) or the time is up. */
export async function waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const EMPTY_STATS = { delivered: {}, lostByEvent: {}, lostRecords: 0, lostEvents: 0, lostByReason: {}, filtered: {} };
