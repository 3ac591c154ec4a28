import { type Comparison, parseNumber, parseNumbers, parseStringPattern, requireEquality, splitComparison } from './comparison.js';
import { type Locate, flagLocation, problem, show, suggest } from './problem.js';
import { findScopeField, scopeFieldNames } from './scope-fields.js';
import type { Condition, ScopeFieldName, ScopeSpec, StringPattern } from './spec.js';

/**
 * Where a scope expression appears: `workload` is --scope and a policy's spec.scope (pid means the host pid, `follow` and
 * `global` allowed); `event` is `-e ioperm.scope.X` and a rule filter (pid means the pid in the process's own namespace).
 */
export type ScopeContext = 'workload' | 'event';

const SPECIAL_NAMES = ['follow', 'global', 'container', 'c', 'not-container', 'host', 'tree', 'podSandbox'];
const SCOPE_HELP = 'use uid, pid, tree, comm, executable, container, not-container, mntns, pidns, uts, follow, or an event field such as hostTid';

/** A --scope value or spec.scope entry (`uid>=1000`, `comm=bash,zsh`, `container`, `tree=42`, `follow`, `global`). */
export function parseWorkloadScope(text: string, locate: Locate): Condition[] | 'follow' | 'global' {
  return text === 'follow' || text === 'global' ? text : parseScope(text, locate, 'workload', 0);
}

/** A scope filter of one event, from `start` in `text` (`ioperm.scope.comm=x`, or a rule filter like `uid=0`). */
export function parseEventScope(text: string, locate: Locate, start: number): Condition[] {
  const word = text.slice(start);
  if (word === 'follow' || word === 'global') {
    throw problem(locate, start, `${show(word)} applies to a whole policy, not to one event`, `move it to --scope or to the policy's spec.scope`);
  }
  return parseScope(text, locate, 'event', start);
}

function parseScope(text: string, locate: Locate, context: ScopeContext, start: number): Condition[] {
  const word = text.slice(start);
  if (word === 'container' || word === 'c') return [{ kind: 'flag', flag: 'container', value: true, text: word }];
  if (word === 'not-container' || word === 'host') return [{ kind: 'flag', flag: 'container', value: false, text: word }];
  if (word === '') throw problem(locate, start, 'empty scope expression', 'write e.g. uid=1000, comm=bash, container or follow');

  const c = splitComparison(text, start, locate);
  if (c === undefined) {
    const hint = findScopeField(word) ? `compare it, e.g. ${word}=…` : suggest(word, [...scopeFieldNames(), ...SPECIAL_NAMES], SCOPE_HELP);
    throw problem(locate, start, `${show(word)} is not a scope expression`, hint);
  }
  const opAt = start + c.name.length;
  switch (c.name) {
    case 'container':
    case 'c':
      return containerCondition(c, text, opAt, locate);
    case 'pid':
    case 'p':
      if (c.values.some((v) => v.text === 'new')) return [newFlag(c, 'pid-new', opAt, locate)];
      if (context === 'workload') return [numberField(c, 'hostProcessId', false, text, start, locate)];
      break;
    case 'tree': {
      const op = requireEquality(c, start, 'tree', locate);
      return [{ kind: 'tree', op, values: c.values.map((v) => parseNumber(v.text, v.offset, 'unsigned', 'tree', locate)), text: text.slice(start) }];
    }
    case 'podSandbox': {
      const op = requireEquality(c, start, 'podSandbox', locate);
      if (c.values.length !== 1 || (c.values[0].text !== 'true' && c.values[0].text !== 'false')) {
        throw problem(locate, c.values[0].offset, `podSandbox takes one value, true or false`, 'write podSandbox=true or podSandbox=false');
      }
      return [{ kind: 'flag', flag: 'pod-sandbox', value: (c.values[0].text === 'true') === (op === '='), text: text.slice(start) }];
    }
  }
  const field = findScopeField(c.name);
  if (field === undefined) {
    throw problem(locate, start, `unknown scope field ${show(c.name)}`, suggest(c.name, [...scopeFieldNames(), ...SPECIAL_NAMES], SCOPE_HELP));
  }
  if (field.type === 'number') return [numberField(c, field.field, field.equalityOnly, text, start, locate)];
  const op = requireEquality(c, start, c.name, locate);
  const values = c.values.map((v) =>
    field.field === 'executable' ? executablePattern(v.text, v.offset, locate) : parseStringPattern(v.text, v.offset, c.name, locate),
  );
  return [{ kind: 'string', target: { kind: 'field', field: field.field }, op, values, text: text.slice(start) }];
}

function numberField(c: Comparison, field: ScopeFieldName, equalityOnly: boolean, text: string, start: number, locate: Locate): Condition {
  if (equalityOnly) requireEquality(c, start, c.name, locate);
  return { kind: 'number', target: { kind: 'field', field }, op: c.op, values: parseNumbers(c, 'unsigned', c.name, locate), text: text.slice(start) };
}

function newFlag(c: Comparison, flag: 'pid-new' | 'container-new', opAt: number, locate: Locate): Condition {
  if (c.op !== '=' || c.values.length !== 1) {
    throw problem(locate, opAt, `${c.name}=new takes no other values or operators`, `write ${c.name}=new alone, in its own --scope`);
  }
  return { kind: 'flag', flag, value: true, text: `${c.name}=new` };
}

/** `container=new`, `container=started`, `container=<id>[,<id>]` (id prefixes match, as short docker ids do), `container!=<id>`. */
function containerCondition(c: Comparison, text: string, opAt: number, locate: Locate): Condition[] {
  const inContainer: Condition = { kind: 'flag', flag: 'container', value: true, text: 'container' };
  if (c.values.some((v) => v.text === 'new')) return [newFlag(c, 'container-new', opAt, locate)];
  if (c.values.some((v) => v.text === 'started')) {
    if (c.op !== '=' || c.values.length !== 1) {
      throw problem(locate, opAt, 'container=started takes no other values or operators', 'write container=started alone (container!=started is not supported, as in Tracee)');
    }
    return [{ kind: 'flag', flag: 'container-started', value: true, text: 'container=started' }];
  }
  const op = requireEquality(c, opAt - c.name.length, 'container', locate);
  const values = c.values.map((v): StringPattern => {
    const p = parseStringPattern(v.text, v.offset, 'container', locate);
    return p.match === 'exact' ? { match: 'prefix', text: p.text } : p;
  });
  return [inContainer, { kind: 'string', target: { kind: 'field', field: 'containerId' }, op, values, text: text.slice(opAt - c.name.length) }];
}

/** `path`, `host:path` (outside containers) or `<mntns>:path`; paths are absolute, so a colon before the first / is a qualifier. */
function executablePattern(text: string, offset: number, locate: Locate): StringPattern {
  const colon = text.indexOf(':');
  const slash = text.indexOf('/');
  if (colon > 0 && (slash === -1 || colon < slash)) {
    const qualifier = text.slice(0, colon);
    const pattern = parseStringPattern(text.slice(colon + 1), offset + colon + 1, 'executable', locate);
    if (qualifier === 'host') return { ...pattern, mntns: 'host' };
    return { ...pattern, mntns: parseNumber(qualifier, offset, 'unsigned', 'executable mount namespace', locate) };
  }
  return parseStringPattern(text, offset, 'executable', locate);
}

/** --scope values: repeated flags AND (but `=` values of one field accumulate, as in Tracee), comma values OR. */
export function parseScopeFlags(values: readonly string[], flag = '--scope'): ScopeSpec {
  const spec: ScopeSpec = { global: false, conditions: [], follow: false };
  for (const value of values) {
    const parsed = parseWorkloadScope(value, flagLocation(flag, value));
    if (parsed === 'follow') spec.follow = true;
    else if (parsed === 'global') spec.global = true;
    else spec.conditions.push(...parsed);
  }
  if (spec.global && (spec.conditions.length > 0 || spec.follow)) {
    const other = values.find((v) => v !== 'global') ?? '';
    throw problem(flagLocation(flag, other), 0, 'global cannot be combined with other scope expressions', 'drop global, or drop the other scopes');
  }
  return spec;
}
