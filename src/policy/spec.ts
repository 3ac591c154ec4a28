import type { ArgType } from '../catalog/types.js';

/** The data model of filters and policies as parsed, before compilation; shared by the grammars, the policy file and the compiler. */

export type Operator = '=' | '!=' | '<' | '>' | '<=' | '>=';

/** A string filter value: `x` exact, `x*` prefix, `*x` suffix, `*x*` contains (Tracee's wildcards). */
export interface StringPattern {
  match: 'exact' | 'prefix' | 'suffix' | 'contains';
  text: string;
  /** Only for executables: `host:/usr/bin/ls` (not in a container) or `4026532448:/usr/bin/ls` (that mount namespace). */
  mntns?: bigint | 'host';
}

/** A scope field of the event (Tracee's json names). */
export type ScopeFieldName =
  | 'timestamp'
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
  | 'containerImage'
  | 'containerImageDigest'
  | 'containerName'
  | 'podName'
  | 'podNamespace'
  | 'podUid'
  | 'syscall';

/** An event argument, by its catalog position. */
export interface ArgTarget {
  kind: 'arg';
  name: string;
  index: number;
  type: ArgType;
  /** The C type in the kernel prototype: decides what the kernel can compare exactly. */
  kernelType: string;
}

export type NumberTarget = ArgTarget | { kind: 'retval' } | { kind: 'field'; field: ScopeFieldName };
export type StringTarget = { kind: 'field'; field: ScopeFieldName };

/** Yes/no facts about the process or its container (`not-container` is `container` with value false). */
export type ScopeFlag = 'container' | 'container-new' | 'container-started' | 'pid-new' | 'pod-sandbox';

/** One filter expression as written (`from>=0x3f8,0x2f8`); comma values are OR for `=`, "none of" for `!=`. */
export type Condition =
  | { kind: 'number'; target: NumberTarget; op: Operator; values: bigint[]; text: string }
  | { kind: 'string'; target: StringTarget; op: '=' | '!='; values: StringPattern[]; text: string }
  /** A string argument (Tracee's `string` type, e.g. openat's pathname): needs its text, not the address in the record. */
  | { kind: 'argString'; target: ArgTarget; op: '=' | '!='; values: StringPattern[]; text: string }
  | { kind: 'tree'; op: '=' | '!='; values: bigint[]; text: string }
  | { kind: 'flag'; flag: ScopeFlag; value: boolean; text: string };

/** Which workloads a policy covers. */
export interface ScopeSpec {
  /** `global`: every process; conditions must then be empty. */
  global: boolean;
  conditions: Condition[];
  /** `follow`: also the descendants of matching processes. */
  follow: boolean;
}

/** One event of a policy and the filters its occurrences must pass. */
export interface RuleSpec {
  /** A catalog event name. */
  event: string;
  conditions: Condition[];
  actions: string[];
}

export interface PolicySpec {
  name: string;
  /** Where it came from: "--events/--scope" or a file path. */
  origin: string;
  description: string;
  scope: ScopeSpec;
  rules: RuleSpec[];
  defaultActions: string[];
}

/** At most 64 policies, as in Tracee (one bit each in a 64-bit mask in the kernel). */
export const MAX_POLICIES = 64;
