import { readlinkSync } from 'node:fs';
import { EVENTS, findEvent } from '../../../src/catalog/events.js';
import type { EventDefinition } from '../../../src/catalog/types.js';
import type { CompletedSyscall, Probe } from '../../../src/probes/types.js';
import type { ObservedCall } from '../../support/syscaller.js';

/** What the eBPF probe tests share: expected events from the helper's output, and draining a probe. */

export const byName = (n: string): EventDefinition => EVENTS.find((e) => e.name === n)!;

/** What the probe must report for a call the helper made, built from what the helper printed. */
export function expected(c: ObservedCall): { event: string; compat: boolean; tid: number; ret: number; args: unknown[] } {
  const event = findEvent(c.call.replace(/32$/, ''))!;
  const args = event.args.map((def, i) => {
    const v = c.args[i];
    switch (def.type) {
      case 'int32': return v | 0;
      case 'uint32': return v >>> 0;
      case 'pointer': return '0x' + v.toString(16);
      default: return BigInt(v);
    }
  });
  return { event: event.name, compat: c.abi === 'compat', tid: c.tid, ret: c.ret, args };
}

export function seen(s: CompletedSyscall): ReturnType<typeof expected> {
  return { event: s.event.name, compat: s.compat, tid: s.tid, ret: s.ret, args: s.args };
}

/** Drains until `enough` says so or a second passes without news. */
export async function collect(probe: Probe, keep: (s: CompletedSyscall) => boolean, enough: (n: number) => boolean): Promise<CompletedSyscall[]> {
  const out: CompletedSyscall[] = [];
  let idle = 0;
  while (idle < 100) {
    const before = out.length;
    probe.drain((s) => {
      if (keep(s)) out.push(s);
    });
    if (enough(out.length)) {
      probe.drain((s) => keep(s) && out.push(s)); // anything that should not be there
      return out;
    }
    idle = out.length === before ? idle + 1 : 0;
    await new Promise((r) => setTimeout(r, 10));
  }
  return out;
}

export const nsInode = (pid: number, ns: string): number => Number(/\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/ns/${ns}`))![1]);
