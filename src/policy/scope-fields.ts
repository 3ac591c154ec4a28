import type { SyscallEvent } from '../model/event.js';
import type { ScopeFieldName } from './spec.js';

/** What scope conditions read: the event, or an ancestor process shaped like one (for `follow` and `tree`). */
export type ScopeSubject = Pick<
  SyscallEvent,
  | 'timestamp'
  | 'threadStartTime'
  | 'processorId'
  | 'processId'
  | 'threadId'
  | 'parentProcessId'
  | 'hostProcessId'
  | 'hostThreadId'
  | 'hostParentProcessId'
  | 'userId'
  | 'mountNamespace'
  | 'pidNamespace'
  | 'cgroupId'
  | 'processName'
  | 'hostName'
  | 'executable'
  | 'containerId'
  | 'container'
  | 'kubernetes'
  | 'syscall'
  | 'contextFlags'
>;

export interface ScopeField {
  field: ScopeFieldName;
  /** Names accepted in filters: Tracee's json name first, then its aliases. */
  names: string[];
  type: 'number' | 'string';
  /** Tracee allows only = and != on namespace ids. */
  equalityOnly: boolean;
  get(s: ScopeSubject): number | string;
}

function n(field: ScopeFieldName, names: string[], get: (s: ScopeSubject) => number, equalityOnly = false): ScopeField {
  return { field, names, type: 'number', equalityOnly, get };
}
function s(field: ScopeFieldName, names: string[], get: (s: ScopeSubject) => string): ScopeField {
  return { field, names, type: 'string', equalityOnly: true, get };
}

/** The event fields a scope filter can name (Tracee's trace.Event json tags and their aliases). */
export const SCOPE_FIELDS: readonly ScopeField[] = [
  n('timestamp', ['timestamp'], (e) => e.timestamp),
  n('processorId', ['processorId'], (e) => e.processorId),
  n('processId', ['processId', 'pid', 'p'], (e) => e.processId),
  n('threadId', ['threadId', 'tid'], (e) => e.threadId),
  n('parentProcessId', ['parentProcessId', 'ppid'], (e) => e.parentProcessId),
  n('hostProcessId', ['hostProcessId', 'hostPid'], (e) => e.hostProcessId),
  n('hostThreadId', ['hostThreadId', 'hostTid'], (e) => e.hostThreadId),
  n('hostParentProcessId', ['hostParentProcessId', 'hostPpid'], (e) => e.hostParentProcessId),
  n('userId', ['userId', 'uid', 'u'], (e) => e.userId),
  n('mountNamespace', ['mountNamespace', 'mntns'], (e) => e.mountNamespace, true),
  n('pidNamespace', ['pidNamespace', 'pidns'], (e) => e.pidNamespace, true),
  n('cgroupId', ['cgroupId'], (e) => e.cgroupId),
  s('processName', ['processName', 'comm'], (e) => e.processName),
  s('hostName', ['hostName', 'uts'], (e) => e.hostName),
  s('executable', ['executable', 'exec', 'binary', 'bin'], (e) => e.executable.path),
  s('containerId', ['containerId'], (e) => e.containerId),
  s('containerImage', ['containerImage'], (e) => e.container.image),
  s('containerImageDigest', ['containerImageDigest'], (e) => e.container.imageDigest),
  s('containerName', ['containerName'], (e) => e.container.name),
  s('podName', ['podName'], (e) => e.kubernetes.podName),
  s('podNamespace', ['podNamespace'], (e) => e.kubernetes.podNamespace),
  s('podUid', ['podUid'], (e) => e.kubernetes.podUID),
  s('syscall', ['syscall'], (e) => e.syscall),
];

const byName = new Map<string, ScopeField>();
for (const f of SCOPE_FIELDS) for (const name of f.names) byName.set(name, f);
const byField = new Map(SCOPE_FIELDS.map((f) => [f.field, f]));

export function findScopeField(name: string): ScopeField | undefined {
  return byName.get(name);
}

export function scopeField(field: ScopeFieldName): ScopeField {
  return byField.get(field) as ScopeField;
}

/** Every accepted name, for "did you mean" suggestions. */
export function scopeFieldNames(): string[] {
  return [...byName.keys()];
}
