import { Environment, type ParseResult } from '@marcbachmann/cel-js';
import { RE2JS } from 're2js';
import { findEvent } from '../../catalog/events.js';
import type { SyscallEvent } from '../../model/event.js';
import { portsTouched } from '../event-facts.js';

/** A CEL condition over one event, exposed as `ev`: Tracee's field names, args by name, Watchpost's additions. */

/** CEL types of `ev`; args are `dyn` (a raw number, or a decoded name under --parse-arguments). */
function schemaFor(events: readonly string[]): Record<string, unknown> {
  const args: Record<string, string> = {};
  for (const name of events) for (const a of findEvent(name)?.args ?? []) args[a.name] = 'dyn';
  return {
    timestamp: 'int',
    threadStartTime: 'int',
    processorId: 'int',
    processId: 'int',
    cgroupId: 'int',
    threadId: 'int',
    parentProcessId: 'int',
    hostProcessId: 'int',
    hostThreadId: 'int',
    hostParentProcessId: 'int',
    userId: 'int',
    mountNamespace: 'int',
    pidNamespace: 'int',
    processName: 'string',
    executable: { path: 'string' },
    hostName: 'string',
    containerId: 'string',
    container: { id: 'string', name: 'string', image: 'string', imageDigest: 'string' },
    kubernetes: { podName: 'string', podNamespace: 'string', podUID: 'string', podSandbox: 'bool' },
    eventId: 'string',
    eventName: 'string',
    matchedPolicies: 'list<string>',
    returnValue: 'int',
    syscall: 'string',
    contextFlags: { containerStarted: 'bool', isCompat: 'bool' },
    args,
    errno: 'string',
    ports: 'list<map>',
    decoded: 'map<string, string>',
    containerRuntime: 'string',
  };
}

const int = (n: number): bigint | number => (Number.isInteger(n) ? BigInt(n) : n);

/** The CEL view of an event; numbers are CEL ints (bigint), as CEL literals are. */
function contextOf(ev: SyscallEvent): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const a of ev.args) args[a.name] = typeof a.value === 'number' ? int(a.value) : a.value;
  return {
    ev: {
      timestamp: BigInt(Math.round(ev.timestamp)),
      threadStartTime: BigInt(Math.round(ev.threadStartTime)),
      processorId: int(ev.processorId),
      processId: int(ev.processId),
      cgroupId: int(ev.cgroupId),
      threadId: int(ev.threadId),
      parentProcessId: int(ev.parentProcessId),
      hostProcessId: int(ev.hostProcessId),
      hostThreadId: int(ev.hostThreadId),
      hostParentProcessId: int(ev.hostParentProcessId),
      userId: int(ev.userId),
      mountNamespace: int(ev.mountNamespace),
      pidNamespace: int(ev.pidNamespace),
      processName: ev.processName,
      executable: { path: ev.executable.path },
      hostName: ev.hostName,
      containerId: ev.containerId,
      container: { ...ev.container },
      kubernetes: { ...ev.kubernetes },
      eventId: ev.eventId,
      eventName: ev.eventName,
      matchedPolicies: ev.matchedPolicies,
      returnValue: int(ev.returnValue),
      syscall: ev.syscall,
      contextFlags: { ...ev.contextFlags },
      args,
      errno: ev.errno ?? '',
      ports: portsTouched(ev).map((p) => ({ first: BigInt(p.first), last: BigInt(p.last), owner: p.owner, source: p.source })),
      decoded: ev.decoded ?? {},
      containerRuntime: ev.containerRuntime ?? '',
    },
  };
}

/** Why a condition could not be compiled, with the offset in its text. */
export class ConditionError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

export interface CompiledCondition {
  (ev: SyscallEvent): boolean;
}

interface CelErrorShape {
  summary?: string;
  message: string;
  node?: { pos?: number; start?: number };
  range?: { start?: number };
}

function firstLine(err: CelErrorShape): string {
  return (err.summary ?? err.message).split('\n')[0];
}

function offsetOf(err: CelErrorShape): number {
  return err.node?.pos ?? err.range?.start ?? err.node?.start ?? 0;
}

const compiledPatterns = new Map<string, RE2JS>();

/** An RE2 pattern, compiled once (a bounded cache: patterns built from event fields must not grow it forever). */
function re2(pattern: string): RE2JS {
  let re = compiledPatterns.get(pattern);
  if (!re) {
    re = RE2JS.compile(pattern);
    if (compiledPatterns.size >= 256) compiledPatterns.clear();
    compiledPatterns.set(pattern, re);
  }
  return re;
}

/** Our `matches`, in linear time: cel-js runs JavaScript's backtracking RegExp, and paths and names are attacker-controlled. */
const LINEAR_MATCHES = 'linearMatches';

interface CelNode {
  op: string;
  args: unknown;
  pos?: number;
}

/** Points every `x.matches(re)` at LINEAR_MATCHES (cel-js refuses a second `string.matches`); a literal pattern RE2 cannot run is a ConditionError. */
function useLinearMatches(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(useLinearMatches);
  if (!node || typeof node !== 'object') return;
  const n = node as CelNode;
  if (n.op === 'rcall' && Array.isArray(n.args) && n.args[0] === 'matches') {
    n.args[0] = LINEAR_MATCHES;
    const [pattern] = (n.args[2] ?? []) as CelNode[];
    if (pattern?.op === 'value' && typeof pattern.args === 'string') {
      try {
        re2(pattern.args);
      } catch (err) {
        throw new ConditionError(`matches("${pattern.args}"): ${(err as Error).message.split('\n')[0]} (RE2 syntax: no backreferences or lookaround)`, pattern.pos ?? 0);
      }
    }
  }
  useLinearMatches(n.args);
}

/** Parses and type-checks `text` for events of the given names; throws ConditionError. Evaluation errors are thrown as they come. */
export function compileCondition(text: string, events: readonly string[]): CompiledCondition {
  const env = new Environment()
    .registerVariable({ name: 'ev', schema: schemaFor(events) } as Parameters<Environment['registerVariable']>[0])
    .registerFunction(`string.${LINEAR_MATCHES}(string): bool`, (s: string, pattern: string) => re2(pattern).matcher(s).find());
  let parsed: ParseResult;
  try {
    parsed = env.parse(text);
  } catch (err) {
    throw new ConditionError(firstLine(err as CelErrorShape), offsetOf(err as CelErrorShape));
  }
  useLinearMatches((parsed as ParseResult & { ast: unknown }).ast);
  const checked = parsed.check();
  if (!checked.valid) {
    const err = checked.error as CelErrorShape | undefined;
    throw new ConditionError(err ? firstLine(err) : 'does not type-check', err ? offsetOf(err) : 0);
  }
  if (checked.type !== 'bool' && checked.type !== 'dyn') throw new ConditionError(`is a ${checked.type}, not a bool`, 0);
  return (ev) => parsed(contextOf(ev)) === true;
}

/** One line for an evaluation error. */
export function evaluationMessage(err: unknown): string {
  return err instanceof Error ? firstLine(err as CelErrorShape) : String(err);
}
