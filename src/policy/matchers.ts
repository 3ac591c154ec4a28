import type { ArgValue, SyscallEvent } from '../model/event.js';
import { type ScopeSubject, scopeField } from './scope-fields.js';
import type { ArgTarget, Condition, NumberTarget, Operator, StringPattern } from './spec.js';

/** Facts the policy cannot read from the event itself; the enrichment stage supplies them. */
export interface PolicyEnvironment {
  /** The parent of a process (by host pid) as far as the process tree knows it: for `follow` and `tree=`. */
  parentOf?(hostPid: number): ScopeSubject | undefined;
  /** Was the process started after tracing began (`pid=new`)? Default: its thread started after `startedAtNs`. */
  isNewProcess?(s: ScopeSubject): boolean;
  /** Was the container created after tracing began (`container=new`)? Default: never known, so no match. */
  isNewContainer?(s: ScopeSubject): boolean;
  /** When tracing began, ns since the epoch; default: when the policies were compiled. */
  startedAtNs?: number;
}

export type Test<T> = (x: T) => boolean;

/** How far up the process tree `follow` and `tree=` look; guards against a cycle in a corrupt tree. */
const MAX_DEPTH = 256;

/** Groups conditions by what they read; as in Tracee, `=` values of one field accumulate (OR) and everything else ANDs. */
function groupKey(c: Condition): string {
  switch (c.kind) {
    case 'number':
      return c.target.kind === 'arg' ? `arg:${c.target.index}` : c.target.kind === 'retval' ? 'retval' : `field:${c.target.field}`;
    case 'string':
      return `field:${c.target.field}`;
    case 'argString':
      return `arg:${c.target.index}`;
    case 'tree':
      return 'tree';
    case 'flag':
      return `flag:${c.flag}:${c.text}`;
  }
}

export function groupConditions(conditions: readonly Condition[]): Condition[][] {
  const groups = new Map<string, Condition[]>();
  for (const c of conditions) {
    const key = groupKey(c);
    const group = groups.get(key);
    if (group) group.push(c);
    else groups.set(key, [c]);
  }
  return [...groups.values()];
}

/** The single bound an operator's comma values reduce to: `x<a,b` is `x<max(a,b)`, `x>a,b` is `x>min(a,b)`. */
export function rangeBound(op: Operator, values: readonly bigint[]): bigint {
  const pick = op === '<' || op === '<=' ? (a: bigint, b: bigint) => (a > b ? a : b) : (a: bigint, b: bigint) => (a < b ? a : b);
  return values.reduce(pick);
}

/** Compiles conditions (all must hold) into one test over the event, once; evaluation then allocates nothing. */
export function compileEventTest(conditions: readonly Condition[], env: PolicyEnvironment): Test<SyscallEvent> {
  return all(groupConditions(conditions).map((g) => compileGroup(g, env)));
}

/** Same, over any scope subject (an event or an ancestor). */
export function compileScopeTest(conditions: readonly Condition[], env: PolicyEnvironment): Test<ScopeSubject> {
  return all(groupConditions(conditions).map((g) => compileGroup(g, env) as Test<ScopeSubject>));
}

function all<T>(tests: Test<T>[]): Test<T> {
  if (tests.length === 0) return () => true;
  if (tests.length === 1) return tests[0];
  if (tests.length === 2) {
    const [a, b] = tests;
    return (x) => a(x) && b(x);
  }
  return (x) => {
    for (let i = 0; i < tests.length; i++) if (!tests[i](x)) return false;
    return true;
  };
}

function compileGroup(group: Condition[], env: PolicyEnvironment): Test<SyscallEvent> {
  const first = group[0];
  switch (first.kind) {
    case 'number':
      return numberGroup(first.target, group as (Condition & { kind: 'number' })[]);
    case 'string':
      return stringGroup(scopeField(first.target.field).get, group as (Condition & { kind: 'string' })[]);
    case 'argString': {
      const read = argValueGetter(first.target);
      return stringGroup((e: SyscallEvent) => {
        const v = read(e);
        return typeof v === 'string' ? v : undefined; // a string the source read (replay of Tracee's lines); nothing else matches
      }, group as (Condition & { kind: 'argString' })[]);
    }
    case 'tree':
      return treeGroup(group as (Condition & { kind: 'tree' })[], env);
    case 'flag':
      return flagTest(first.flag, first.value, env);
  }
}

function flagTest(flag: (Condition & { kind: 'flag' })['flag'], value: boolean, env: PolicyEnvironment): Test<ScopeSubject> {
  const startedAt = env.startedAtNs ?? Date.now() * 1e6;
  switch (flag) {
    case 'container':
      return value ? (s) => s.containerId !== '' : (s) => s.containerId === '';
    case 'container-started':
      return (s) => s.containerId !== '' && s.contextFlags.containerStarted;
    case 'container-new': {
      const isNew = env.isNewContainer;
      return isNew ? (s) => s.containerId !== '' && isNew(s) : () => false;
    }
    case 'pid-new': {
      const isNew = env.isNewProcess;
      return isNew ? (s) => isNew(s) : (s) => s.threadStartTime >= startedAt;
    }
    case 'pod-sandbox':
      return (s) => s.kubernetes.podSandbox === value;
  }
}

/** Reads a numeric value: 32-bit args are numbers, 64-bit bigints, pointers "0x…" strings. */
type NumberGetter = (e: SyscallEvent) => ArgValue | undefined;

/** How wide the kernel's own view of an argument is: a 32-bit C type reads only the low half of the register. */
export function kernelWidth(t: ArgTarget): 32 | 64 | 'pointer' {
  if (t.type === 'pointer' || t.kernelType.includes('*')) return 'pointer';
  return /\blong\b/.test(t.kernelType) ? 64 : 32;
}

/** An argument's value by catalog position, or by name when the event carries fewer args (a recording left some out). */
function argValueGetter(t: ArgTarget): NumberGetter {
  const { index, name } = t;
  return (e) => {
    const a = e.args[index];
    if (a !== undefined && a.name === name) return a.value;
    for (let i = 0; i < e.args.length; i++) if (e.args[i].name === name) return e.args[i].value;
    return undefined;
  };
}

function argGetter(t: ArgTarget): NumberGetter {
  const read = argValueGetter(t);
  if (kernelWidth(t) !== 32) return read;
  // Judge a 32-bit argument as the kernel does, even if the record kept junk in the upper half of the register.
  const signed = t.type === 'int32' || t.type === 'int64';
  const min = signed ? -0x80000000 : 0;
  const max = signed ? 0x7fffffff : 0xffffffff;
  return (e) => {
    const v = read(e);
    if (typeof v === 'number' ? (v >= min && v <= max) || !Number.isInteger(v) : typeof v !== 'bigint' || (v >= min && v <= max)) return v;
    const low = BigInt.asUintN(32, BigInt(v as number | bigint)); // only crafted values get here
    return Number(signed ? BigInt.asIntN(32, low) : low);
  };
}

function numberGetter(t: NumberTarget): NumberGetter {
  if (t.kind === 'arg') return argGetter(t);
  if (t.kind === 'retval') return (e) => e.returnValue;
  const get = scopeField(t.field).get;
  return get as NumberGetter;
}

/** One numeric bound as a test over number or bigint (mixed comparisons are exact in JS). */
function bound(op: Operator, c: bigint): Test<number | bigint> {
  const n = Number(c);
  const safe = Number.isSafeInteger(n);
  switch (op) {
    case '<':
      return safe ? (v) => (typeof v === 'number' ? v < n : v < c) : (v) => v < c;
    case '<=':
      return safe ? (v) => (typeof v === 'number' ? v <= n : v <= c) : (v) => v <= c;
    case '>':
      return safe ? (v) => (typeof v === 'number' ? v > n : v > c) : (v) => v > c;
    default:
      return safe ? (v) => (typeof v === 'number' ? v >= n : v >= c) : (v) => v >= c;
  }
}

/** `x in eq || (x not in ne && (ranges all hold, or there were no = values))`: Tracee's precedence, with ranges AND-ed. */
function numberGroup(target: NumberTarget, group: (Condition & { kind: 'number' })[]): Test<SyscallEvent> {
  const get = numberGetter(target);
  const eqBig = new Set<bigint>();
  const neBig = new Set<bigint>();
  const ranges: Test<number | bigint>[] = [];
  for (const c of group) {
    if (c.op === '=') for (const v of c.values) eqBig.add(v);
    else if (c.op === '!=') for (const v of c.values) neBig.add(v);
    else ranges.push(bound(c.op, rangeBound(c.op, c.values)));
  }
  const eqNum = new Set([...eqBig].map(Number).filter(Number.isSafeInteger));
  const neNum = new Set([...neBig].map(Number).filter(Number.isSafeInteger));
  const hasEq = eqBig.size > 0;
  const inRange = all(ranges);
  const restDecides = ranges.length > 0 || !hasEq;
  return (e) => {
    let v = get(e);
    if (typeof v === 'string') {
      try {
        v = BigInt(v); // pointers arrive as "0x…" strings; rare in filters, so the allocation is acceptable
      } catch {
        return false;
      }
    }
    if (typeof v === 'number') {
      if (eqNum.has(v)) return true;
      if (neNum.has(v)) return false;
    } else if (typeof v === 'bigint') {
      if (eqBig.has(v)) return true;
      if (neBig.has(v)) return false;
    } else return false;
    return restDecides && inRange(v);
  };
}

type PatternTest = (value: string, s: ScopeSubject) => boolean;

function patternTest(p: StringPattern): PatternTest {
  const t = p.text;
  const mntns = p.mntns;
  const where: Test<ScopeSubject> =
    mntns === undefined ? () => true : mntns === 'host' ? (s) => s.containerId === '' : (s) => BigInt(s.mountNamespace) === mntns;
  switch (p.match) {
    case 'exact':
      return (v, s) => v === t && where(s);
    case 'prefix':
      return (v, s) => v.startsWith(t) && where(s);
    case 'suffix':
      return (v, s) => v.endsWith(t) && where(s);
    case 'contains':
      return (v, s) => v.includes(t) && where(s);
  }
}

/** Strings: any `=` pattern matches, or (there is no `=` pattern and) no `!=` pattern matches; no value at all matches nothing. */
function stringGroup<S extends ScopeSubject>(get: (s: S) => number | string | undefined, group: (Condition & { kind: 'string' | 'argString' })[]): Test<S> {
  const eqExact = new Set<string>();
  const neExact = new Set<string>();
  const eqTests: PatternTest[] = [];
  const neTests: PatternTest[] = [];
  for (const c of group) {
    for (const p of c.values) {
      if (p.match === 'exact' && p.mntns === undefined) (c.op === '=' ? eqExact : neExact).add(p.text);
      else (c.op === '=' ? eqTests : neTests).push(patternTest(p));
    }
  }
  const hasEq = eqExact.size > 0 || eqTests.length > 0;
  return (s) => {
    const value = get(s) as string;
    if (value === undefined) return false;
    if (eqExact.has(value)) return true;
    for (let i = 0; i < eqTests.length; i++) if (eqTests[i](value, s)) return true;
    if (hasEq || neExact.has(value)) return false;
    for (let i = 0; i < neTests.length; i++) if (neTests[i](value, s)) return false;
    return true;
  };
}

/** `tree=A,B tree!=C`: the process is A or B or descends from one, and is not C nor descends from it. */
function treeGroup(group: (Condition & { kind: 'tree' })[], env: PolicyEnvironment): Test<ScopeSubject> {
  const inside = new Set<number>();
  const outside = new Set<number>();
  for (const c of group) for (const v of c.values) (c.op === '=' ? inside : outside).add(Number(v));
  const parentOf = env.parentOf;
  const hasInside = inside.size > 0;
  return (s) => {
    let foundInside = !hasInside;
    let pid = s.hostProcessId;
    let ppid = s.hostParentProcessId;
    for (let depth = 0; depth < MAX_DEPTH && pid > 0; depth++) {
      if (outside.has(pid)) return false;
      if (inside.has(pid)) foundInside = true;
      if (parentOf === undefined) {
        // without a process tree only the direct parent is known
        if (depth === 0 && ppid > 0) {
          pid = ppid;
          ppid = 0;
          continue;
        }
        break;
      }
      const parent = parentOf(pid);
      if (parent === undefined || parent.hostProcessId === pid) break;
      pid = parent.hostProcessId;
    }
    return foundInside;
  };
}
