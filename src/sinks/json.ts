import type { ArgValue, SyscallEvent } from '../model/event.js';

function value(v: ArgValue): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v); // numbers and bigints print as JSON integers, exactly (no 2^53 rounding for uint64)
}

const str = JSON.stringify;

/** Hot path: one JSON line per event with Tracee's field names and order, built by template. */
export function eventToJson(e: SyscallEvent): string {
  let args = '';
  for (let i = 0; i < e.args.length; i++) {
    const a = e.args[i];
    args += `${i ? ',' : ''}{"name":${str(a.name)},"type":${str(a.type)},"value":${value(a.value)}}`;
  }
  const c = e.container;
  const k = e.kubernetes;
  return (
    `{"timestamp":${Math.round(e.timestamp)},"threadStartTime":${Math.round(e.threadStartTime)},"processorId":${e.processorId},` +
    `"processId":${e.processId},"cgroupId":${e.cgroupId},"threadId":${e.threadId},"parentProcessId":${e.parentProcessId},` +
    `"hostProcessId":${e.hostProcessId},"hostThreadId":${e.hostThreadId},"hostParentProcessId":${e.hostParentProcessId},` +
    `"userId":${e.userId},"mountNamespace":${e.mountNamespace},"pidNamespace":${e.pidNamespace},` +
    `"processName":${str(e.processName)},"executable":{"path":${str(e.executable.path)}},"hostName":${str(e.hostName)},` +
    `"containerId":${str(e.containerId)},"container":{"id":${str(c.id)},"name":${str(c.name)},"image":${str(c.image)},"imageDigest":${str(c.imageDigest)}},` +
    `"kubernetes":{"podName":${str(k.podName)},"podNamespace":${str(k.podNamespace)},"podUID":${str(k.podUID)},"podSandbox":${k.podSandbox}},` +
    `"eventId":${str(e.eventId)},"eventName":${str(e.eventName)},"matchedPolicies":${str(e.matchedPolicies)},"argsNum":${e.argsNum},` +
    `"returnValue":${e.returnValue},"syscall":${str(e.syscall)},"stackAddresses":${str(e.stackAddresses)},` +
    `"contextFlags":{"containerStarted":${e.contextFlags.containerStarted},"isCompat":${e.contextFlags.isCompat}},` +
    `"threadEntityId":${e.threadEntityId},"processEntityId":${e.processEntityId},"parentEntityId":${e.parentEntityId},` +
    `"args":[${args}],"metadata":${JSON.stringify(e.metadata, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}` +
    (e.errno ? `,"errno":${str(e.errno)}` : '') +
    (e.ports ? `,"ports":${str(e.ports)}` : '') +
    (e.decoded ? `,"decoded":${str(e.decoded)}` : '') +
    (e.containerRuntime ? `,"containerRuntime":${str(e.containerRuntime)}` : '') +
    '}'
  );
}
