import { findEvent } from './events.js';

/** How tables show an argument's value: in hex where the event's entry says so (addresses, flag words, request codes). */

const hexByEvent = new Map<string, ReadonlySet<string>>();
const NONE: ReadonlySet<string> = new Set();

/** The args of an event shown in hex (their `display`), by name and alias; none for a name the catalog does not know. */
export function hexArgs(eventName: string): ReadonlySet<string> {
  let names = hexByEvent.get(eventName);
  if (names === undefined) {
    const def = findEvent(eventName);
    if (!def) return NONE;
    names = new Set(def.args.flatMap((a) => (a.display === 'hex' ? [a.name, ...(a.aliases ?? [])] : [])));
    hexByEvent.set(eventName, names);
  }
  return names;
}

/** The value as a table prints it: 0x… for a non-negative number the entry shows in hex, else as it is. */
export function argText(eventName: string, argName: string, value: string | number | bigint | null): string {
  if ((typeof value === 'number' || typeof value === 'bigint') && value >= 0 && hexArgs(eventName).has(argName)) return `0x${value.toString(16)}`;
  return String(value);
}
