import type { ArgValue, SyscallEvent } from '../model/event.js';

function value(v: ArgValue): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v); // numbers and bigints print as JSON integers, exactly (no 2^53 rounding for uint64)
}

const str = JSON.stringify;
const MAX_CACHED = 4096;

/** JSON text of strings that repeat from event to event (names, paths, hosts), escaped once. */
const quoted = new Map<string, string>();
function q(s: string): string {
  let out = quoted.get(s);
  if (out === undefined) {
    if (quoted.size >= MAX_CACHED) quoted.clear();
    quoted.set(s, (out = str(s)));
  }
  return out;
}

/** `{"name":"from","type":"uint64","value":` per arg name and type. */
const argHeads = new Map<string, string>();
function argHead(name: string, type: string): string {
  const key = `${name}\u0000${type}`;
  let out = argHeads.get(key);
  if (out === undefined) argHeads.set(key, (out = `{"name":${str(name)},"type":${str(type)},"value":`));
  return out;
}

/** Objects shared between events (port tables, policy lists) are serialized once. */
const shared = new WeakMap<object, string>();
function once(o: object): string {
  let out = shared.get(o);
  if (out === undefined) shared.set(o, (out = str(o)));
  return out;
}

const EMPTY_CONTAINER_JSON = '{"id":"","name":"","image":"","imageDigest":""}';
const EMPTY_K8S_JSON = '{"podName":"","podNamespace":"","podUID":"","podSandbox":false}';

/** Hot path: one JSON line per event with Tracee's field names and order, built by template, repeated parts cached. */
export function eventToJson(e: SyscallEvent): string {
  let args = '';
  for (let i = 0; i < e.args.length; i++) {
    const a = e.args[i];
    args += `${i ? ',' : ''}${argHead(a.name, a.type)}${value(a.value)}}`;
  }
  const c = e.container;
  const k = e.kubernetes;
  const container =
    c.id === '' && c.name === '' && c.image === '' && c.imageDigest === ''
      ? EMPTY_CONTAINER_JSON
      : `{"id":${q(c.id)},"name":${q(c.name)},"image":${q(c.image)},"imageDigest":${q(c.imageDigest)}}`;
  const kubernetes =
    k.podName === '' && k.podNamespace === '' && k.podUID === '' && !k.podSandbox
      ? EMPTY_K8S_JSON
      : `{"podName":${q(k.podName)},"podNamespace":${q(k.podNamespace)},"podUID":${q(k.podUID)},"podSandbox":${k.podSandbox}}`;
  let metadata = '{}';
  for (const _ in e.metadata) {
    metadata = JSON.stringify(e.metadata, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    break;
  }
  return (
    `{"timestamp":${e.exactTimestamp ?? Math.round(e.timestamp)},"threadStartTime":${Math.round(e.threadStartTime)},"processorId":${e.processorId},` +
    `"processId":${e.processId},"cgroupId":${e.cgroupId},"threadId":${e.threadId},"parentProcessId":${e.parentProcessId},` +
    `"hostProcessId":${e.hostProcessId},"hostThreadId":${e.hostThreadId},"hostParentProcessId":${e.hostParentProcessId},` +
    `"userId":${e.userId},"mountNamespace":${e.mountNamespace},"pidNamespace":${e.pidNamespace},` +
    `"processName":${q(e.processName)},"executable":{"path":${q(e.executable.path)}},"hostName":${q(e.hostName)},` +
    `"containerId":${q(e.containerId)},"container":${container},"kubernetes":${kubernetes},` +
    `"eventId":${q(e.eventId)},"eventName":${q(e.eventName)},"matchedPolicies":${e.matchedPolicies.length ? once(e.matchedPolicies) : '[]'},"argsNum":${e.argsNum},` +
    `"returnValue":${e.returnValue},"syscall":${q(e.syscall)},"stackAddresses":${e.stackAddresses.length ? str(e.stackAddresses) : '[]'},` +
    `"contextFlags":{"containerStarted":${e.contextFlags.containerStarted},"isCompat":${e.contextFlags.isCompat}},` +
    `"threadEntityId":${e.threadEntityId},"processEntityId":${e.processEntityId},"parentEntityId":${e.parentEntityId},` +
    `"args":[${args}],"metadata":${metadata}` +
    (e.errno ? `,"errno":${q(e.errno)}` : '') +
    (e.ports ? `,"ports":${once(e.ports)}` : '') +
    (e.decoded ? `,"decoded":${str(e.decoded)}` : '') +
    (e.containerRuntime ? `,"containerRuntime":${q(e.containerRuntime)}` : '') +
    (e.truncatedArgs ? `,"truncatedArgs":${str(e.truncatedArgs)}` : '') +
    (e.unreadArgs ? `,"unreadArgs":${str(e.unreadArgs)}` : '') +
    '}'
  );
}
