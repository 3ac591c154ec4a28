import type { SyscallEvent } from '../../../src/model/event.js';
import { syscallEvent } from '../../support/synthetic-event.js';

/** A delivered ioperm event as the pipeline builds it; `from` doubles as a sequence number the tests check. */
export function iopermEvent(from: number, over: Partial<SyscallEvent> = {}): SyscallEvent {
  return syscallEvent('ioperm', [BigInt(from), 1n, 1], {
    timestamp: 1_795_544_402_231_179_800 + from * 1000,
    threadStartTime: 0,
    cgroupId: 0,
    parentProcessId: 1,
    hostParentProcessId: 1,
    mountNamespace: 4026531841,
    returnValue: -1,
    threadEntityId: 0,
    processEntityId: 0,
    parentEntityId: 0,
    ...over,
  });
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

export const EMPTY_STATS = { delivered: {}, lostByEvent: {}, lostRecords: 0, lostEvents: 0, lostByReason: {}, lostByKind: {}, filtered: {} };
