import { findEvent } from '../catalog/events.js';
import { portsOf } from '../enrich/details.js';
import { formatPortOwners } from '../enrich/ioports.js';
import type { PortRangeOwner, SyscallEvent } from '../model/event.js';

/** What signatures ask of an event, the same way for live events and recordings (ours or Tracee's). */

/** An integer argument by name; numeric strings ("0x64", "100") count, decoded names do not. */
export function intArg(ev: SyscallEvent, name: string): bigint | undefined {
  const v = ev.args.find((a) => a.name === name)?.value;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : undefined;
  if (typeof v === 'string' && /^-?(0x[0-9a-f]+|\d+)$/i.test(v)) return v.startsWith('-') ? -BigInt(v.slice(1)) : BigInt(v);
  return undefined;
}

/** The port ranges a call names (its catalog entry's `ports`): the event's own (`ports`), else computed from its args. */
export function portsTouched(ev: SyscallEvent): PortRangeOwner[] {
  if (ev.ports) return ev.ports;
  const def = findEvent(ev.eventName);
  if (def?.ports === undefined) return [];
  const args = ev.args.map((a) => {
    const n = intArg(ev, a.name);
    return { ...a, value: n === undefined ? a.value : a.type === 'int32' || a.type === 'uint32' ? Number(n) : n };
  });
  return portsOf(def, args) ?? [];
}

/** A range with its grant arg set (ioperm turn_on=1), or a level of 1-3 (iopl): the call asks for port access (revoking, or an invalid level, does not). */
export function requestsPortAccess(ev: SyscallEvent): boolean {
  const p = findEvent(ev.eventName)?.ports;
  if (p === undefined) return false;
  if (p.kind === 'range') return (intArg(ev, p.grant) ?? 0n) !== 0n;
  const level = intArg(ev, p.level) ?? 0n;
  return level > 0n && level <= 3n;
}

/** The kernel said yes. */
export function succeeded(ev: SyscallEvent): boolean {
  return ev.returnValue === 0;
}

/** "granted" or "denied (-38 ENOSYS)". */
export function outcome(ev: SyscallEvent): string {
  if (ev.returnValue >= 0) return 'granted';
  return `denied (${ev.returnValue}${ev.errno ? ` ${ev.errno}` : ''})`;
}

export function portsText(ev: SyscallEvent): string {
  return formatPortOwners(portsTouched(ev));
}

/** The executable's file name, or the comm when the executable is unknown. */
export function programName(ev: SyscallEvent): string {
  const path = ev.executable.path;
  return path ? path.slice(path.lastIndexOf('/') + 1) : ev.processName;
}
