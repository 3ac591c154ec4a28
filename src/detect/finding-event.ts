import type { ArgType } from '../catalog/types.js';
import type { EventArg, SyscallEvent } from '../model/event.js';
import { type Finding, type Severity, SEVERITY_NAMES } from '../model/finding.js';
import { isFindingItem, isStatsItem, type StreamItem } from '../model/stream.js';

/** Tracee's C type names for finding data (pkg/ebpf/finding.go getCType); the catalog's ArgType covers syscall args only. */
const STRING_TYPE = 'const char *' as ArgType;
const INT_TYPE = 'int' as ArgType;
const U64_TYPE = 'unsigned long' as ArgType;

const slug = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

/** 64-bit values that fit print as JSON numbers, as Tracee prints them (metadata turns bigints into strings). */
function asJsonNumber(a: EventArg): EventArg {
  return typeof a.value === 'bigint' && a.value <= BigInt(Number.MAX_SAFE_INTEGER) && a.value >= -BigInt(Number.MAX_SAFE_INTEGER) ? { ...a, value: Number(a.value) } : a;
}

/**
 * A finding as an event of the same stream, shaped as Tracee shapes it: the trigger's context, the signature's
 * event id and name, its data as args, its metadata under `metadata` (Version, Description, Tags, Properties with
 * Severity, Category, Technique, external_id, signatureID, signatureName). The triggering call (id, name, args,
 * returnValue) is `metadata.triggeredBy`: Tracee puts it in args, whose values are scalars in our model.
 */
const exactNs = (t: string | number): bigint => (typeof t === 'string' ? BigInt(t) : BigInt(Math.round(t)));

export function findingToEvent(f: Finding): SyscallEvent {
  const e = f.event;
  const m = f.signature;
  const args: EventArg[] = Object.entries(f.data).map(([name, value]) => ({ name, type: typeof value === 'string' ? STRING_TYPE : INT_TYPE, value }));
  const properties: Record<string, unknown> = {
    Severity: m.severity,
    signatureID: m.id,
    signatureName: m.name,
    Fires: m.fires,
    Remediation: m.remediation,
  };
  if (m.mitre) {
    properties.Category = slug(m.mitre.tactic.name);
    properties.Technique = m.mitre.technique.name;
    properties.external_id = m.mitre.technique.id;
    properties.tactic_id = m.mitre.tactic.id;
    properties['MITRE ATT&CK'] = `${m.mitre.tactic.name}: ${m.mitre.technique.name}`;
  }
  const ev: SyscallEvent = {
    ...e,
    eventId: String(m.eventId),
    eventName: m.eventName,
    argsNum: args.length,
    args,
    metadata: {
      Version: m.version,
      Description: m.description,
      Tags: m.tags,
      Properties: properties,
      triggeredBy: { id: Number(e.eventId), name: e.eventName, args: e.args.map(asJsonNumber), returnValue: e.returnValue },
    },
  };
  if (f.repeats) {
    // a window's summary: as args, every output carries them without knowing summaries (a Falco line, a syslog message)
    args.push(
      { name: 'repeats', type: INT_TYPE, value: f.repeats.count },
      { name: 'first_timestamp', type: U64_TYPE, value: exactNs(f.repeats.first) },
      { name: 'last_timestamp', type: U64_TYPE, value: exactNs(f.repeats.last) },
    );
    ev.argsNum = args.length;
  }
  // the trigger's argument-derived additions describe its args, not the finding's
  delete ev.ports;
  delete ev.decoded;
  return ev;
}


/** A summary's count and span (ns), or undefined for any other event; its three args are the last three. */
export function repeatsOf(ev: SyscallEvent): { count: number; spanNs: bigint } | undefined {
  const n = ev.args.length;
  if (n < 3) return undefined;
  const [count, first, last] = ev.args.slice(n - 3);
  if (count.name !== 'repeats' || first.name !== 'first_timestamp' || last.name !== 'last_timestamp') return undefined;
  if (typeof count.value !== 'number' || typeof first.value !== 'bigint' || typeof last.value !== 'bigint') return undefined;
  return { count: count.value, spanNs: last.value - first.value };
}

/** The finding's severity, or undefined for a plain event (or a finding of another tool without one). */
export function severityOf(ev: SyscallEvent): Severity | undefined {
  const s = (ev.metadata as { Properties?: { Severity?: unknown } }).Properties?.Severity;
  return s === 0 || s === 1 || s === 2 || s === 3 ? s : undefined;
}

/** True for a finding (ours or Tracee's): its metadata names the signature that made it. */
export function isFinding(ev: Pick<SyscallEvent, 'metadata'>): boolean {
  const id = (ev.metadata as { Properties?: { signatureID?: unknown } } | undefined)?.Properties?.signatureID;
  return typeof id === 'string' && id !== '';
}

export function severityName(s: Severity): string {
  return SEVERITY_NAMES[s];
}

/** Stream items as Tracee prints them: findings in its event shape, events as they are; stats readings left out. */
export function asTraceeEvents(items: readonly StreamItem[]): SyscallEvent[] {
  const out: SyscallEvent[] = [];
  for (const item of items) if (!isStatsItem(item)) out.push(isFindingItem(item) ? findingToEvent(item) : item);
  return out;
}
