import { findEvent } from '../catalog/events.js';
import { portsOf } from '../enrich/details.js';
import { formatPortOwners } from '../enrich/ioports.js';
import type { PortRequest } from '../catalog/types.js';
import type { ArgValue, PortRangeOwner, SyscallEvent } from '../model/event.js';

/** What signatures ask of an event, the same way for live events and recordings (ours or Tracee's). */

/** An argument's value as an integer; numeric strings ("0x64", "100") count, decoded names do not. */
function intOf(v: ArgValue | undefined): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : undefined;
  if (typeof v === 'string' && /^-?(0x[0-9a-f]+|\d+)$/i.test(v)) return v.startsWith('-') ? -BigInt(v.slice(1)) : BigInt(v);
  return undefined;
}

/** The first argument of that name. */
function argValue(ev: SyscallEvent, name: string): ArgValue | undefined {
  const args = ev.args;
  for (let i = 0; i < args.length; i++) if (args[i].name === name) return args[i].value;
  return undefined;
}

/** An integer argument by name; numeric strings ("0x64", "100") count, decoded names do not. */
export function intArg(ev: SyscallEvent, name: string): bigint | undefined {
  return intOf(argValue(ev, name));
}

/**
 * intArg as a number, to compare with small integers (a bigint past 2^53 rounds, but never to or across one).
 * Hot path: a number or bigint value allocates nothing.
 */
export function numArg(ev: SyscallEvent, name: string): number | undefined {
  const v = argValue(ev, name);
  if (typeof v === 'number') return Number.isInteger(v) ? v : undefined;
  if (typeof v === 'bigint') return Number(v);
  const n = intOf(v);
  return n === undefined ? undefined : Number(n);
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

let specName = '';
let spec: PortRequest | undefined;

/** The catalog's `ports` of an event name (the last name asked kept: a storm asks the same one). */
function portsSpec(name: string): PortRequest | undefined {
  if (name !== specName) {
    spec = findEvent(name)?.ports;
    specName = name;
  }
  return spec;
}

/** A range with its grant arg set (ioperm turn_on=1), or a level of 1-3 (iopl): the call asks for port access (revoking, or an invalid level, does not). */
export function requestsPortAccess(ev: SyscallEvent): boolean {
  const p = portsSpec(ev.eventName);
  if (p === undefined) return false;
  if (p.kind === 'range') return (numArg(ev, p.grant) ?? 0) !== 0;
  const level = numArg(ev, p.level) ?? 0;
  return level > 0 && level <= 3;
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
