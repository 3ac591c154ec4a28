import { agentHost } from '../enrich/agent-host.js';
import { errnoOf } from '../enrich/details.js';
import type { SyscallEvent } from '../model/event.js';
import { FALCO_PRIORITY, syslogSeverity } from './severity.js';

/** The JSON Falco posts to its http_output (and falcosidekick accepts on `/`). */
export interface FalcoPayload {
  uuid: string;
  output: string;
  priority: (typeof FALCO_PRIORITY)[number];
  rule: string;
  time: string;
  output_fields: Record<string, string | number | bigint | boolean | null>;
  source: string;
  tags: string[];
  hostname: string;
}

/**
 * RFC 3339 with nanoseconds, as Falco writes `time`. The fraction is the last nine digits of the number JSON prints for
 * evt.time, so both say the same instant to the nanosecond (float arithmetic on ns % 1e9 lost the last digits).
 */
function rfc3339Nanos(ns: string): string {
  const digits = ns.padStart(10, '0');
  const seconds = Number(digits.slice(0, -9));
  return `${new Date(seconds * 1000).toISOString().slice(0, 19)}.${digits.slice(-9)}Z`;
}

/** Falco's evt.res: "SUCCESS", or the errno name of a failed call (the number is evt.rawres). */
function resultText(ev: SyscallEvent): string {
  if (ev.returnValue >= 0) return 'SUCCESS';
  return ev.errno ?? errnoOf(ev.returnValue) ?? String(ev.returnValue);
}

function argText(ev: SyscallEvent): string {
  return ev.args.map((a) => `${a.name}=${a.value === null ? '' : String(a.value)}`).join(' ');
}

/**
 * A Watchpost event in Falco's shape. `rule` is the finding's name when the event is a finding (Tracee's
 * `metadata.Properties.signatureName`), else `watchpost <event>`; output_fields use
 * Falco's field names where one exists (proc.*, container.*, k8s.*, evt.*).
 */
export function toFalco(ev: SyscallEvent): FalcoPayload {
  const meta = ev.metadata as { Tags?: unknown; Properties?: Record<string, unknown> };
  const props = meta.Properties ?? {};
  const signature = typeof props.signatureName === 'string' ? props.signatureName : undefined;
  const rule = signature ?? `watchpost ${ev.eventName}`;
  const priority = FALCO_PRIORITY[syslogSeverity(ev)];
  const ns = ev.exactTimestamp ?? BigInt(Math.round(ev.timestamp)).toString();
  const time = rfc3339Nanos(ns);
  const container = ev.containerId ? ` container_id=${ev.containerId} container_name=${ev.container.name}` : '';
  const output =
    `${time.slice(11, 29)}: ${priority} ${rule}: ${ev.eventName}(${argText(ev)}) = ${ev.returnValue} ` +
    `by ${ev.processName} (pid=${ev.hostProcessId} tid=${ev.hostThreadId} ppid=${ev.hostParentProcessId} uid=${ev.userId} exe=${ev.executable.path})${container}`;
  const fields: FalcoPayload['output_fields'] = {
    'evt.time': BigInt(ns),
    'evt.rawtime': BigInt(ns),
    'evt.type': ev.eventName,
    'evt.res': resultText(ev),
    'evt.rawres': ev.returnValue,
    'evt.args': argText(ev),
    'evt.is_compat': ev.contextFlags.isCompat,
    'proc.name': ev.processName,
    'proc.pid': ev.hostProcessId,
    'proc.ppid': ev.hostParentProcessId,
    'proc.exepath': ev.executable.path,
    'thread.tid': ev.hostThreadId,
    'user.uid': ev.userId,
    'container.id': ev.containerId || 'host',
    'container.name': ev.container.name || null,
    'container.image.repository': ev.container.image || null,
    'k8s.pod.name': ev.kubernetes.podName || null,
    'k8s.ns.name': ev.kubernetes.podNamespace || null,
  };
  // Falco renders every evt.arg.* as text: one type whatever the argument's width
  for (const a of ev.args) fields[`evt.arg.${a.name}`] = a.value === null ? null : String(a.value);
  const tags = ['watchpost', ev.eventName, ...(Array.isArray(meta.Tags) ? meta.Tags.map(String) : [])];
  return { uuid: crypto.randomUUID(), output, priority, rule, time, output_fields: fields, source: 'syscall', tags, hostname: ev.hostName || agentHost };
}

/** The payload as JSON, with 64-bit integers (evt.time) printed exactly, as Falco prints them. */
export function falcoJson(p: FalcoPayload): string {
  return JSON.stringify(p, (_k, v: unknown) => (typeof v === 'bigint' ? `\u0000${v}\u0000` : v)).replace(/"\\u0000(-?\d+)\\u0000"/g, '$1');
}
