import { agentHost } from '../enrich/agent-host.js';
import type { SyscallEvent } from '../model/event.js';
import { FALCO_PRIORITY, syslogSeverity } from './severity.js';

/** The JSON Falco posts to its http_output (and falcosidekick accepts on `/`). */
export interface FalcoPayload {
  uuid: string;
  output: string;
  priority: (typeof FALCO_PRIORITY)[number];
  rule: string;
  time: string;
  output_fields: Record<string, string | number | boolean | null>;
  source: string;
  tags: string[];
  hostname: string;
}

/** RFC 3339 with nanoseconds, as Falco writes `time`. */
function rfc3339Nanos(ns: number): string {
  const ms = Math.floor(ns / 1e6);
  const frac = String(Math.floor(ns % 1e9)).padStart(9, '0');
  return `${new Date(ms).toISOString().slice(0, 19)}.${frac}Z`;
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
  const time = rfc3339Nanos(ev.timestamp);
  const container = ev.containerId ? ` container_id=${ev.containerId} container_name=${ev.container.name}` : '';
  const output =
    `${time.slice(11, 29)}: ${priority} ${rule}: ${ev.eventName}(${argText(ev)}) = ${ev.returnValue} ` +
    `by ${ev.processName} (pid=${ev.hostProcessId} tid=${ev.hostThreadId} ppid=${ev.hostParentProcessId} uid=${ev.userId} exe=${ev.executable.path})${container}`;
  const fields: FalcoPayload['output_fields'] = {
    'evt.time': Math.round(ev.timestamp),
    'evt.type': ev.eventName,
    'evt.res': ev.returnValue,
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
  for (const a of ev.args) fields[`evt.arg.${a.name}`] = typeof a.value === 'bigint' ? a.value.toString() : a.value;
  const tags = ['watchpost', ev.eventName, ...(Array.isArray(meta.Tags) ? meta.Tags.map(String) : [])];
  return { uuid: crypto.randomUUID(), output, priority, rule, time, output_fields: fields, source: 'syscall', tags, hostname: ev.hostName || agentHost };
}
