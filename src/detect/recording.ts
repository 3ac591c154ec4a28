import { findEvent } from '../catalog/events.js';
import type { ArgType } from '../catalog/types.js';
import { decodedArgs, errnoOf, portsOf } from '../enrich/details.js';
import type { ArgValue, EventArg, SyscallEvent } from '../model/event.js';
import { isFinding } from './finding-event.js';

/** One line of a recording: Watchpost's JSON (`-o json`, `-o json:FILE`) or Tracee's (`tracee -o json`). */
export type RecordedLine =
  /** `droppedArgs`: args the catalog does not define for this event (left out, counted). */
  | { kind: 'event'; event: SyscallEvent; droppedArgs: number }
  /** A finding already in the recording: replay makes its own. */
  | { kind: 'finding' }
  /** Valid JSON that is not an event of the catalog (statistics, other syscalls). */
  | { kind: 'other' }
  | { kind: 'malformed'; why: string };

// Integers beyond 2^53 lose digits in JSON.parse: quote arg values with 16+ digits first (JSON keys never sit in an unescaped string).
const BIG_VALUE = /(?<!\\)"value":(-?\d{16,})(?=[,}\]])/g;

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown, fallback = 0): number => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : fallback);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

function argValue(raw: unknown, type: ArgType): ArgValue | undefined {
  if (raw === null) return null;
  // Tracee's lists of strings (execve's argv), socket addresses and other structures: kept whole, as their JSON text
  if (typeof raw === 'object') return type === 'pointer' ? JSON.stringify(raw) : undefined;
  if (typeof raw === 'boolean') return raw ? 1 : 0;
  const wide = type === 'uint64' || type === 'int64';
  if (typeof raw === 'number') {
    if (!Number.isInteger(raw)) return type === 'pointer' ? String(raw) : undefined;
    if (type === 'pointer') return `0x${raw.toString(16)}`;
    return wide ? BigInt(raw) : raw;
  }
  if (typeof raw === 'string') {
    if (type !== 'pointer' && /^-?(0x[0-9a-f]+|\d+)$/i.test(raw)) {
      const n = raw.startsWith('-') ? -BigInt(raw.slice(1)) : BigInt(raw);
      return wide ? n : Number(n);
    }
    return raw; // a pointer, or a name Tracee decoded (parse-arguments)
  }
  return undefined;
}

/** Args by the catalog's definition (names and types), whatever type names the recording used (Tracee: C types); `dropped` counts the others. */
function catalogArgs(eventName: string, raw: unknown): { args: EventArg[]; dropped: number } | string {
  const def = findEvent(eventName)!;
  if (raw !== undefined && raw !== null && !Array.isArray(raw)) return 'args is not a list';
  const given = new Map<string, Json>();
  for (const a of (raw as unknown[] | undefined) ?? []) {
    if (!isObject(a) || typeof a.name !== 'string') return 'an arg has no name';
    given.set(a.name, a);
  }
  const args: EventArg[] = [];
  let used = 0;
  for (const d of def.args) {
    const name = given.has(d.name) ? d.name : d.aliases?.find((n) => given.has(n)); // an older recording may use the kernel's name
    const a = name === undefined ? undefined : given.get(name);
    if (!a) continue; // Tracee leaves out args it could not read
    used++;
    // the catalog's type, not the recording's name for it ("unsigned long", "int", …): values come out as live ones do
    const value = argValue(a.value, d.type);
    if (value === undefined) return `arg ${d.name} has a value of the wrong kind (${JSON.stringify(a.value)})`;
    args.push({ name: d.name, type: d.type, value });
  }
  return { args, dropped: given.size - used };
}

const isPortRange = (p: unknown): boolean =>
  isObject(p) && Number.isInteger(p.first) && Number.isInteger(p.last) && typeof p.owner === 'string' && (p.source === 'ioports' || p.source === 'legacy' || p.source === 'unknown');

/** Watchpost's own additions, checked: a hostile line must be skipped and counted, never trusted into a detection. */
function additionsProblem(o: Json): string | undefined {
  if (o.ports !== undefined && o.ports !== null && !(Array.isArray(o.ports) && o.ports.every(isPortRange))) return 'ports is not a list of {first, last, owner, source}';
  if (o.decoded !== undefined && o.decoded !== null && !(isObject(o.decoded) && Object.values(o.decoded).every((v) => typeof v === 'string'))) return 'decoded is not an object of strings';
  if (o.errno !== undefined && o.errno !== null && typeof o.errno !== 'string') return 'errno is not a string';
  return undefined;
}

/** The line's top-level timestamp with every digit JSON.parse would round away, when it is the number parsed. */
function exactDigits(text: string, parsed: number): string | undefined {
  const digits = /^\{\s*"timestamp"\s*:\s*(\d{1,20})\s*[,}]/.exec(text)?.[1];
  return digits !== undefined && Number(digits) === parsed ? digits : undefined;
}

/** Parses one line; never throws: a line no check foresaw is malformed, with the reason, never the end of the replay. */
export function parseRecordedLine(line: string): RecordedLine {
  try {
    return parseLine(line);
  } catch (err) {
    return { kind: 'malformed', why: `unreadable (${(err as Error).message})` };
  }
}

function parseLine(line: string): RecordedLine {
  const text = line.trim();
  if (text === '') return { kind: 'other' };
  let o: unknown;
  try {
    o = JSON.parse(text.includes('"value":') ? text.replace(BIG_VALUE, '"value":"$1"') : text);
  } catch (err) {
    return { kind: 'malformed', why: `not JSON (${(err as Error).message})` };
  }
  if (!isObject(o)) return { kind: 'malformed', why: 'not a JSON object' };
  if (typeof o.eventName !== 'string') return { kind: 'other' };
  if (isFinding({ metadata: isObject(o.metadata) ? o.metadata : {} })) return { kind: 'finding' };
  const def = findEvent(o.eventName);
  if (!def) return { kind: 'other' };
  const parsed = catalogArgs(o.eventName, o.args);
  if (typeof parsed === 'string') return { kind: 'malformed', why: `${o.eventName}: ${parsed}` };
  const { args, dropped } = parsed;
  const problem = additionsProblem(o);
  if (problem) return { kind: 'malformed', why: `${o.eventName}: ${problem}` };
  if (typeof o.returnValue !== 'number' || !Number.isInteger(o.returnValue)) return { kind: 'malformed', why: `${o.eventName}: returnValue is not an integer` };
  const c = isObject(o.container) ? o.container : {};
  const k = isObject(o.kubernetes) ? o.kubernetes : {};
  const flags = isObject(o.contextFlags) ? o.contextFlags : {};
  const containerId = str(o.containerId) || str(c.id);
  const ev: SyscallEvent = {
    timestamp: num(o.timestamp),
    exactTimestamp: exactDigits(text, num(o.timestamp)),
    threadStartTime: num(o.threadStartTime),
    processorId: num(o.processorId),
    processId: num(o.processId),
    cgroupId: num(o.cgroupId),
    threadId: num(o.threadId),
    parentProcessId: num(o.parentProcessId),
    hostProcessId: num(o.hostProcessId),
    hostThreadId: num(o.hostThreadId),
    hostParentProcessId: num(o.hostParentProcessId),
    userId: num(o.userId, -1),
    mountNamespace: num(o.mountNamespace),
    pidNamespace: num(o.pidNamespace),
    processName: str(o.processName),
    executable: { path: isObject(o.executable) ? str(o.executable.path) : '' },
    hostName: str(o.hostName),
    containerId,
    // Tracee before 0.20 flattened these: containerImage, containerName, podName, …
    container: { id: containerId, name: str(c.name) || str(o.containerName), image: str(c.image) || str(o.containerImage), imageDigest: str(c.imageDigest) || str(o.containerImageDigest) },
    kubernetes: {
      podName: str(k.podName) || str(o.podName),
      podNamespace: str(k.podNamespace) || str(o.podNamespace),
      podUID: str(k.podUID) || str(o.podUID),
      podSandbox: k.podSandbox === true || o.podSandbox === true,
    },
    eventId: String(def.nr),
    eventName: def.name,
    matchedPolicies: Array.isArray(o.matchedPolicies) ? o.matchedPolicies.map(String) : [],
    argsNum: args.length,
    returnValue: o.returnValue,
    syscall: str(o.syscall) || def.name,
    stackAddresses: Array.isArray(o.stackAddresses) ? o.stackAddresses.filter((a): a is number => typeof a === 'number') : [],
    contextFlags: { containerStarted: flags.containerStarted === true, isCompat: flags.isCompat === true },
    threadEntityId: num(o.threadEntityId),
    processEntityId: num(o.processEntityId),
    parentEntityId: num(o.parentEntityId),
    args,
    metadata: isObject(o.metadata) ? o.metadata : {},
  };
  // Watchpost's additions: as recorded, else derived as a live run would (Tracee's lines have none)
  const errno = typeof o.errno === 'string' ? o.errno : errnoOf(ev.returnValue);
  if (errno) ev.errno = errno;
  const ports = Array.isArray(o.ports) ? (o.ports as SyscallEvent['ports']) : portsOf(def, args);
  if (ports) ev.ports = ports;
  const decoded = isObject(o.decoded) ? (o.decoded as Record<string, string>) : decodedArgs(def, args);
  if (decoded) ev.decoded = decoded;
  if (typeof o.containerRuntime === 'string' && o.containerRuntime) ev.containerRuntime = o.containerRuntime;
  return { kind: 'event', event: ev, droppedArgs: dropped };
}
