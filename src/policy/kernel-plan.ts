import type { EventDefinition } from '../catalog/types.js';
import { UsageError } from '../model/errors.js';
import { tracefsFilter } from '../probes/tracefs/filter.js';
import type { KernelCondition, KernelExpr, KernelOp, KernelOperand, ProbeOptions } from '../probes/types.js';
import { groupConditions, kernelWidth, rangeBound } from './matchers.js';
import type { ArgTarget, Condition, Operator, PolicySpec, ScopeFieldName } from './spec.js';

/**
 * The kernel filter plan: per selected event, each condition of each policy and where it runs on each backend (the
 * tracefs entry filter; the eBPF argument filter and task pre-filter; or user space only), built from the policies
 * alone: no tracefs, no file, no mount. The kernel only drops a call no policy keeps: policies OR, and a policy the
 * kernel cannot narrow leaves its event unfiltered there. User space evaluates every condition again.
 */

export type Backend = 'tracefs' | 'ebpf';
/** `kernel`: exact there; `kernel+user`: the kernel pre-filters, user space decides; `user`: user space only. */
export type Where = 'kernel' | 'kernel+user' | 'user';

/** Where one condition of one policy runs on each backend, and why. */
export interface Placement {
  policy: string;
  condition: string;
  where: Record<Backend, Where>;
  why: Record<Backend, string>;
}

export interface EventPlan {
  /** The catalog's argument names, for the eBPF filter's text. */
  args: string[];
  /** The tracefs entry filter over argument slots and common_pid; absent: every call reaches user space. */
  tracefs?: KernelExpr;
  /** The eBPF argument filter: a call is kept when all conditions of one clause hold; absent: every call is kept. */
  ebpf?: KernelCondition[][];
  placements: Placement[];
}

/** What the eBPF program pre-filters on the calling task, for every event: each kind a set (kinds AND, values OR). */
export interface KernelScopeSets {
  uids?: number[];
  comms?: string[];
  mntns?: number[];
}

export interface KernelPlan {
  events: Record<string, EventPlan>;
  scope?: KernelScopeSets;
}

/** Comparisons per event and backend beyond which the event stays unfiltered: a tracefs filter must fit in a page. */
export const MAX_COMPARISONS = 64;
const U32_MAX = 0xffffffffn;

type Pushed<T> = { expr: T; where: 'kernel' | 'kernel+user'; why: string } | { expr?: undefined; why: string };
type NumberCondition = Condition & { kind: 'number' };

/** Where a string-argument filter runs: said once, for --explain and for the refusal. */
const UNREAD_STRING =
  "the syscall record holds the string's address: the eBPF backend reads its text (up to 255 bytes) at syscall entry and user space compares it (no kernel compare yet); tracefs cannot read it, so live tracing needs eBPF";

/** Why neither backend evaluates a group in the kernel, or undefined for an argument or field comparison. */
function userSpaceOnly(first: Condition): string | undefined {
  if (first.kind === 'tree') return 'needs the process tree, kept in user space';
  if (first.kind === 'flag') return 'needs container or process facts from enrichment';
  if (first.kind === 'argString') return UNREAD_STRING;
  if (first.kind === 'number' && first.target.kind === 'retval') return 'the return value exists only at syscall exit';
  return undefined;
}

// ---- tracefs: the entry record's 8-byte slots, compared unsigned; common_pid is the thread id.

const OPS: Record<Operator, KernelOp> = { '=': '==', '!=': '!=', '<': '<', '<=': '<=', '>': '>', '>=': '>=' };

function cmp(operand: KernelOperand, op: KernelOp, value: bigint): KernelExpr {
  return { kind: 'cmp', operand, op, value };
}

function join(kind: 'and' | 'or', items: KernelExpr[]): KernelExpr {
  const flat = items.flatMap((i) => (i.kind === kind ? i.items : [i]));
  return flat.length === 1 ? flat[0] : { kind, items: flat };
}

/** `x in eq || (x not in ne && ranges)`, the matcher's precedence, as comparisons; `wide` adds the 32-bit guard to equalities. */
function groupExpr(operand: KernelOperand, group: NumberCondition[], wide: boolean): KernelExpr {
  const eq: KernelExpr[] = [];
  const rest: KernelExpr[] = [];
  let ranges = 0;
  for (const c of group) {
    if (c.op === '=') for (const v of c.values) eq.push(cmp(operand, '==', v));
    else if (c.op === '!=') for (const v of c.values) rest.push(cmp(operand, '!=', v));
    else {
      ranges++;
      rest.push(cmp(operand, OPS[c.op], rangeBound(c.op, c.values)));
    }
  }
  if (eq.length > 0 && wide) eq.push(cmp(operand, '>', U32_MAX));
  if (eq.length === 0) return join('and', rest);
  if (ranges === 0) return join('or', eq);
  return join('or', [...eq, join('and', rest)]);
}

function tracefsGroup(group: Condition[], inFollowScope: boolean): Pushed<KernelExpr> {
  const first = group[0];
  const only = userSpaceOnly(first);
  if (only !== undefined) return { why: only };
  if (first.kind !== 'number') return { why: 'string fields are not in the syscall record' };
  const numbers = group as NumberCondition[];
  const target = first.target;
  if (target.kind === 'field') {
    if (inFollowScope) return { why: 'follow extends the scope to descendants, which the kernel filter cannot see' };
    if (target.field === 'hostThreadId') {
      if (numbers.some((c) => c.values.some((v) => v > 0x7fffffffn))) return { why: 'no thread id is that large' };
      return { expr: groupExpr({ kind: 'tid' }, numbers, false), where: 'kernel', why: 'common_pid is the host thread id' };
    }
    if (target.field === 'hostProcessId' || target.field === 'processId') {
      return { why: 'common_pid is the thread id: the other threads of the process would be lost' };
    }
    return { why: 'not in the syscall record' };
  }
  if (target.kind !== 'arg') return { why: 'not in the syscall record' };
  const width = kernelWidth(target);
  if (width === 'pointer') return { why: 'pointer argument, kept in user space' };
  const negative = numbers.some((c) => c.values.some((v) => v < 0n));
  if (width === 64) {
    const unsigned = target.kernelType.startsWith('unsigned');
    if (negative || (!unsigned && numbers.some((c) => c.op !== '=' && c.op !== '!='))) {
      return { why: 'the kernel compares the slot as unsigned; negative values stay in user space' };
    }
    return { expr: groupExpr({ kind: 'arg', index: target.index }, numbers, false), where: 'kernel', why: EXACT_64 };
  }
  // A 32-bit argument sits in an 8-byte slot holding the whole register; the syscall itself reads only the low 32 bits.
  if (numbers.some((c) => c.op !== '=' && c.op !== '!=')) return { why: '32-bit argument in an 8-byte slot: ranges need sign handling, kept in user space' };
  const limit = target.kernelType.startsWith('unsigned') ? U32_MAX : 0x7fffffffn;
  if (negative || numbers.some((c) => c.values.some((v) => v > limit))) return { why: '32-bit argument in an 8-byte slot: negative values stay in user space' };
  return {
    expr: groupExpr({ kind: 'arg', index: target.index }, numbers, true),
    where: 'kernel+user',
    why: 'the kernel compares all 8 bytes, so calls with upper bits set pass to user space, which re-checks',
  };
}

const EXACT_64 = '64-bit argument, compared exactly';

// ---- eBPF: argument registers, compared in the width the syscall reads, signed as the value is typed.

/**
 * An argument condition as the eBPF program compares it (kill rules and argument filters alike): in the width user
 * space judges (a 32-bit type is read from the low half; a 32-bit C type is judged on it), signed as the value is typed.
 */
export function argCondition(target: ArgTarget, op: Operator, values: bigint[]): KernelCondition & { on: 'arg' } {
  const signed = target.type === 'int32' || target.type === 'int64';
  const width = target.type === 'int32' || target.type === 'uint32' || kernelWidth(target) === 32 ? 32 : 64;
  return { on: 'arg', index: target.index, width, signed, op, values };
}

function fits(c: KernelCondition & { on: 'arg' }, v: bigint): boolean {
  const bits = BigInt(c.width);
  return c.signed ? v >= -(1n << (bits - 1n)) && v < 1n << (bits - 1n) : v >= 0n && v < 1n << bits;
}

/** The group as alternatives, each a list of conditions that must all hold (the matcher's precedence, as for tracefs). */
function ebpfGroup(group: Condition[]): Pushed<KernelCondition[][]> {
  const first = group[0];
  const only = userSpaceOnly(first);
  if (only !== undefined) return { why: only };
  if (first.kind !== 'number' || first.target.kind !== 'arg') return { why: 'the program compares argument registers only; matched in user space on the context the record carries' };
  const target = first.target;
  if (kernelWidth(target) === 'pointer') return { why: 'pointer argument, kept in user space' };
  const numbers = group as NumberCondition[];
  const eq = numbers.filter((c) => c.op === '=').flatMap((c) => c.values);
  const ne = numbers.filter((c) => c.op === '!=').flatMap((c) => c.values);
  const ranges = numbers.filter((c) => c.op !== '=' && c.op !== '!=').map((c) => argCondition(target, c.op, [rangeBound(c.op, c.values)]));
  const rest = [...(ne.length ? [argCondition(target, '!=', ne)] : []), ...ranges];
  const alternatives = eq.length === 0 ? [rest] : ranges.length === 0 ? [[argCondition(target, '=', eq)]] : [[argCondition(target, '=', eq)], rest];
  const all = alternatives.flat();
  if (all.some((c) => c.values.some((v) => !fits(c, v)))) {
    return { why: `a value outside the argument's range (${all[0].signed ? 'signed' : 'unsigned'} ${all[0].width}-bit) would compare differently in the kernel; kept in user space` };
  }
  return { expr: alternatives, where: 'kernel', why: all[0].width === 64 ? EXACT_64 : '32-bit argument: the program compares the low half of the register, as the syscall reads it' };
}

/** Every way to pick one alternative per group: a policy's conditions as clauses (AND within, OR across). */
function clausesOf(groups: KernelCondition[][][]): KernelCondition[][] {
  let out: KernelCondition[][] = [[]];
  for (const alternatives of groups) out = out.flatMap((clause) => alternatives.map((a) => [...clause, ...a]));
  return out;
}

// ---- eBPF task pre-filter: uid, comm, mount namespace.

type Kind = keyof KernelScopeSets;
const SCOPE_FIELD: Record<Kind, ScopeFieldName> = { uids: 'userId', comms: 'processName', mntns: 'mountNamespace' };
const KIND_OF = new Map<ScopeFieldName, Kind>(Object.entries(SCOPE_FIELD).map(([k, f]) => [f, k as Kind]));

/** The values one policy's scope allows for `kind`, or undefined when it does not restrict the kind to exact values. */
function allowedOf(spec: PolicySpec, kind: Kind): Array<number | string> | undefined {
  if (spec.scope.global || spec.scope.follow) return undefined; // follow: descendants may differ in uid, comm, mntns
  const field = SCOPE_FIELD[kind];
  const group = spec.scope.conditions.filter(
    (c): c is Condition & { kind: 'number' | 'string' } => (c.kind === 'number' || c.kind === 'string') && c.target.kind === 'field' && c.target.field === field,
  );
  const eq = group.filter((c) => c.op === '=');
  // The matcher keeps the `=` values OR what the rest allows: ranges and patterns widen the set beyond the exact values.
  if (eq.length === 0 || group.some((c) => c.op !== '=' && c.op !== '!=')) return undefined;
  const allowed: Array<number | string> = [];
  for (const c of eq) {
    if (c.kind === 'number') allowed.push(...c.values.filter((v) => v >= 0n && v <= U32_MAX).map(Number)); // no uid or inum is wider: such a value matches nothing
    else if (c.values.every((v) => v.match === 'exact' && v.mntns === undefined)) allowed.push(...c.values.map((v) => v.text.slice(0, 15)));
    else return undefined;
  }
  return allowed;
}

/** A kind is pushed only when every policy restricts it to exact values, and then to their union. */
function scopeOf(specs: readonly PolicySpec[]): KernelScopeSets | undefined {
  const out: KernelScopeSets = {};
  for (const kind of ['uids', 'comms', 'mntns'] as const) {
    const sets = specs.map((s) => allowedOf(s, kind));
    if (sets.length === 0 || sets.some((s) => s === undefined)) continue;
    const union = [...new Set(sets.flatMap((s) => s!))];
    if (union.length === 0) continue; // no task can match: the kernel keeps all, user space matches none
    if (kind === 'comms') out.comms = union as string[];
    else out[kind] = union as number[];
  }
  return Object.keys(out).length ? out : undefined;
}

function scopeKindOf(first: Condition): Kind | undefined {
  return (first.kind === 'number' || first.kind === 'string') && first.target.kind === 'field' ? KIND_OF.get(first.target.field) : undefined;
}

// ---- the plan

function keyOf(x: unknown): string {
  return JSON.stringify(x, (_, v) => (typeof v === 'bigint' ? v.toString() : v));
}

function dedupe<T>(items: T[]): T[] {
  const seen = new Set<string>();
  return items.filter((i) => {
    const key = keyOf(i);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function comparisons(e: KernelExpr): number {
  return e.kind === 'cmp' ? 1 : e.items.reduce((n, i) => n + comparisons(i), 0);
}

const PRE_FILTERED = 'the program pre-filters the calling task to the values every policy allows; user space decides on the context read at exit';

/** The plan for the selected events; pure: the backends render it (probeFilters), --explain prints it (explainPlan). */
export function planKernelFilters(policies: readonly PolicySpec[], events: readonly EventDefinition[]): KernelPlan {
  const scope = scopeOf(policies);
  const plan: KernelPlan = { events: {}, ...(scope ? { scope } : {}) };
  for (const def of events) {
    const event = def.name;
    const placements: Placement[] = [];
    /** The placements each backend's per-event filter carries: all back to user space if that filter is dropped. */
    const filtered: Record<Backend, Placement[]> = { tracefs: [], ebpf: [] };
    const tracefsBranches: KernelExpr[] = [];
    const ebpfClauses: KernelCondition[][] = [];
    const passAll: Partial<Record<Backend, string>> = {};
    for (const policy of policies) {
      const rule = policy.rules.find((r) => r.event === event);
      if (rule === undefined) continue;
      const tracefsParts: KernelExpr[] = [];
      const ebpfGroups: KernelCondition[][][] = [];
      const place = (conditions: readonly Condition[], inScope: boolean): void => {
        for (const group of groupConditions(conditions)) {
          const t = tracefsGroup(group, inScope && policy.scope.follow);
          const e = ebpfGroup(group);
          const kind = inScope ? scopeKindOf(group[0]) : undefined;
          let ebpf: { where: Where; why: string } = { where: e.expr ? e.where : 'user', why: e.why };
          if (kind !== undefined) {
            ebpf = scope?.[kind] ? { where: 'kernel+user', why: PRE_FILTERED } : { where: 'user', why: 'the task pre-filter needs every policy to allow exact values of it; matched in user space' };
          }
          if (t.expr) tracefsParts.push(t.expr);
          if (e.expr) ebpfGroups.push(e.expr);
          for (const c of group) {
            const x: Placement = { policy: policy.name, condition: c.text, where: { tracefs: t.expr ? t.where : 'user', ebpf: ebpf.where }, why: { tracefs: t.why, ebpf: ebpf.why } };
            placements.push(x);
            if (t.expr) filtered.tracefs.push(x);
            if (e.expr) filtered.ebpf.push(x);
          }
        }
      };
      place(policy.scope.conditions, true);
      place(rule.conditions, false);
      if (tracefsParts.length === 0) passAll.tracefs ??= policy.name;
      else tracefsBranches.push(join('and', tracefsParts));
      if (ebpfGroups.length === 0) passAll.ebpf ??= policy.name;
      else ebpfClauses.push(...clausesOf(ebpfGroups));
    }
    const entry: EventPlan = { args: def.args.map((a) => a.name), placements };
    const unfiltered = (backend: Backend): string | undefined => {
      if (passAll[backend] !== undefined) return `policy ${passAll[backend]} needs every ${event} call, so the kernel cannot filter`;
      const n = backend === 'tracefs' ? comparisons(join('or', tracefsBranches)) : ebpfClauses.flat().reduce((k, c) => k + c.values.length, 0);
      return n > MAX_COMPARISONS ? `more than ${MAX_COMPARISONS} comparisons, so the kernel does not filter` : undefined;
    };
    for (const backend of ['tracefs', 'ebpf'] as const) {
      const why = unfiltered(backend);
      if (why === undefined) continue;
      for (const x of filtered[backend]) {
        x.where[backend] = 'user';
        x.why[backend] = why;
      }
    }
    if (tracefsBranches.length > 0 && unfiltered('tracefs') === undefined) entry.tracefs = join('or', dedupe(tracefsBranches));
    if (ebpfClauses.length > 0 && unfiltered('ebpf') === undefined) entry.ebpf = dedupe(ebpfClauses);
    plan.events[event] = entry;
  }
  return plan;
}

/** The plan as the probes take it: tracefs entry filters, eBPF argument filters and the eBPF task pre-filter. */
export function probeFilters(plan: KernelPlan): Pick<ProbeOptions, 'kernelFilters' | 'argFilters' | 'kernelScope'> {
  const kernelFilters: Record<string, KernelExpr> = {};
  const argFilters: Record<string, KernelCondition[][]> = {};
  for (const [event, p] of Object.entries(plan.events)) {
    if (p.tracefs) kernelFilters[event] = p.tracefs;
    if (p.ebpf) argFilters[event] = p.ebpf;
  }
  return {
    ...(Object.keys(kernelFilters).length ? { kernelFilters } : {}),
    ...(Object.keys(argFilters).length ? { argFilters } : {}),
    ...(plan.scope ? { kernelScope: plan.scope } : {}),
  };
}

// ---- --explain

const SYMBOL: Record<Operator, string> = { '=': '==', '!=': '!=', '<': '<', '<=': '<=', '>': '>', '>=': '>=' };

function ebpfText(clauses: KernelCondition[][], args: readonly string[]): string {
  const one = (c: KernelCondition): string => {
    const name = c.on === 'arg' ? args[c.index] : c.on;
    const values = c.values.map(String);
    if (values.length === 1) return `${name} ${SYMBOL[c.op]} ${values[0]}`;
    return c.op === '=' ? `${name} in {${values.join(', ')}}` : c.op === '!=' ? `${name} not in {${values.join(', ')}}` : `${name} ${SYMBOL[c.op]} any of {${values.join(', ')}}`;
  };
  const texts = clauses.map((clause) => clause.map(one).join(' && '));
  return texts.length === 1 ? texts[0] : texts.map((t, i) => (clauses[i].length > 1 ? `(${t})` : t)).join(' || ');
}

/**
 * The plan for --explain: per event, the filter each backend runs in the kernel and where each condition runs;
 * `fieldNames[event]`: the format-file fields after `__syscall_nr` that name the tracefs filter's slots.
 */
export function explainPlan(plan: KernelPlan, fieldNames: Readonly<Record<string, readonly string[]>>): string {
  const lines: string[] = [];
  const NONE = 'none (every call reaches user space)';
  for (const [event, p] of Object.entries(plan.events)) {
    lines.push(event);
    const tracefs = p.tracefs && (tracefsFilter(p.tracefs, fieldNames[event] ?? []) ?? 'none (the kernel field names of this event are unknown here)');
    lines.push(`  tracefs filter: ${tracefs ?? NONE}`);
    lines.push(`  eBPF filter:    ${p.ebpf ? ebpfText(p.ebpf, p.args) : NONE}`);
    if (p.placements.length === 0) {
      lines.push('  no conditions: every call matches');
      continue;
    }
    const wt = Math.max('tracefs'.length, ...p.placements.map((x) => x.where.tracefs.length));
    const we = Math.max('eBPF'.length, ...p.placements.map((x) => x.where.ebpf.length));
    lines.push(`  ${'tracefs'.padEnd(wt)}  eBPF`);
    for (const x of p.placements) {
      const why = x.why.tracefs === x.why.ebpf ? x.why.tracefs : `tracefs: ${x.why.tracefs}; eBPF: ${x.why.ebpf}`;
      lines.push(`  ${x.where.tracefs.padEnd(wt)}  ${x.where.ebpf.padEnd(we)}  ${x.policy}: ${x.condition}  (${why})`);
    }
  }
  const scope = Object.entries(plan.scope ?? {}).map(([kind, values]) => `${kind} in {${(values as Array<string | number>).join(', ')}}`);
  lines.push(`eBPF task pre-filter, every event: ${scope.length ? scope.join(' and ') : 'none'}`);
  lines.push('User space evaluates every condition again to fill matchedPolicies.');
  return lines.join('\n');
}

// ---- string-argument filters: tracefs cannot read the text

/** The first string-argument filter of the policies, as `event.data.arg…` text, or undefined: it needs the eBPF backend live. */
export function stringFilterOf(policies: readonly PolicySpec[]): { origin: string; text: string } | undefined {
  for (const p of policies) {
    for (const r of p.rules) {
      const c = r.conditions.find((x) => x.kind === 'argString');
      if (c) return { origin: p.origin, text: `${r.event}.${c.text}` };
    }
  }
  return undefined;
}

/** Live tracing on tracefs refuses string-argument filters: they would silently match nothing (tracefs sees only the address). */
export function refuseTracefsStrings(policies: readonly PolicySpec[], backend: string | undefined): void {
  const f = backend === 'tracefs' ? stringFilterOf(policies) : undefined;
  if (f) {
    throw new UsageError(`${f.origin}: ${f.text}: --backend tracefs sees only the string's address, not its text; use --backend ebpf (or auto), which reads it at syscall entry, or replay a recording with \`watchpost replay FILE -e '${f.text}'\``);
  }
}
