import { UsageError } from '../model/errors.js';
import { groupConditions, kernelWidth, rangeBound } from './matchers.js';
import type { Condition, PolicySpec } from './spec.js';

/**
 * The kernel push-down plan: per event, the part of the policies the kernel can evaluate on the syscall's entry record.
 * The kernel condition is backend-neutral (`KernelExpr`); tracefs renders it as a filter string. A BPF-map form (per-arg
 * equality sets, ranges, tid sets) is to be derived from the same tree later, in `EventPlan.bpf`.
 */

/** What the kernel reads: the i-th syscall argument slot, or the thread id (tracefs `common_pid`). */
export type KernelOperand = { kind: 'arg'; index: number } | { kind: 'tid' };
export type KernelOp = '==' | '!=' | '<' | '<=' | '>' | '>=';
export type KernelExpr =
  | { kind: 'cmp'; operand: KernelOperand; op: KernelOp; value: bigint }
  | { kind: 'and' | 'or'; items: KernelExpr[] };

/** Where one condition of one policy runs, and why. */
export interface Placement {
  policy: string;
  condition: string;
  /** `kernel`: exact there; `kernel+user`: the kernel pre-filters, user space decides; `user`: user space only. */
  where: 'kernel' | 'kernel+user' | 'user';
  why: string;
}

export interface EventPlan {
  /** Text for `events/syscalls/sys_enter_<event>/filter`; absent when the kernel must pass every call. */
  kernelFilter?: string;
  /** The same condition, backend-neutral. */
  kernelExpr?: KernelExpr;
  /** Conditions the kernel does not decide, as `policy: condition (why)`. */
  userSpace: string[];
  /** Every condition and where it runs, for --explain. */
  placements: Placement[];
  /** Reserved for the eBPF backend's map entries. */
  bpf?: never;
}

export interface PushdownPlan {
  perEvent: Record<string, EventPlan>;
}

/** Kernel filter text beyond this is refused by some kernels (one page); such events are filtered in user space. */
const MAX_FILTER_LENGTH = 4000;
const U32_MAX = 0xffffffffn;
const FIELD_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

type Pushed = { expr: KernelExpr; where: 'kernel' | 'kernel+user'; why: string } | { expr?: undefined; why: string };

const OPS: Record<string, KernelOp> = { '=': '==', '!=': '!=', '<': '<', '<=': '<=', '>': '>', '>=': '>=' };

function cmp(operand: KernelOperand, op: KernelOp, value: bigint): KernelExpr {
  return { kind: 'cmp', operand, op, value };
}

function join(kind: 'and' | 'or', items: KernelExpr[]): KernelExpr {
  const flat = items.flatMap((i) => (i.kind === kind ? i.items : [i]));
  return flat.length === 1 ? flat[0] : { kind, items: flat };
}

/** `x in eq || (x not in ne && ranges)`, the matcher's precedence, as kernel comparisons; `wide` adds the 32-bit guard to equalities. */
function groupExpr(operand: KernelOperand, group: (Condition & { kind: 'number' })[], wide: boolean): KernelExpr {
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

/** Can the kernel evaluate this group of conditions on one field, exactly or as a superset? */
function pushGroup(group: Condition[], fields: readonly string[] | undefined, inFollowScope: boolean): Pushed {
  const first = group[0];
  if (first.kind === 'tree') return { why: 'needs the process tree, kept in user space' };
  if (first.kind === 'flag') return { why: 'needs container or process facts from enrichment' };
  if (first.kind === 'string') return { why: 'string fields are not in the syscall record' };
  if (first.kind === 'argString') return { why: UNREAD_STRING };
  const numbers = group as (Condition & { kind: 'number' })[];
  const target = first.target;
  if (target.kind === 'retval') return { why: 'the return value exists only at syscall exit' };
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
  if (fields === undefined || fields[target.index] === undefined) return { why: 'the kernel field names of this event are unknown' };
  const width = kernelWidth(target);
  if (width === 'pointer') return { why: 'pointer argument, kept in user space' };
  const negative = numbers.some((c) => c.values.some((v) => v < 0n));
  if (width === 64) {
    const unsigned = target.kernelType.startsWith('unsigned');
    if (negative || (!unsigned && numbers.some((c) => c.op !== '=' && c.op !== '!='))) {
      return { why: 'the kernel compares the slot as unsigned; negative values stay in user space' };
    }
    return { expr: groupExpr({ kind: 'arg', index: target.index }, numbers, false), where: 'kernel', why: '64-bit argument, compared exactly' };
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

/** The push-down plan for every selected event; `fieldNames[event]` are the format-file fields after `__syscall_nr`, in order. */
export function planPushdown(policies: readonly PolicySpec[], fieldNames: Readonly<Record<string, readonly string[]>>): PushdownPlan {
  const perEvent: Record<string, EventPlan> = {};
  const events = [...new Set(policies.flatMap((p) => p.rules.map((r) => r.event)))];
  for (const event of events) {
    const fields = fieldNames[event]?.every((f) => FIELD_RE.test(f)) ? fieldNames[event] : undefined;
    const placements: Placement[] = [];
    const branches: KernelExpr[] = [];
    let passAll: string | undefined;
    for (const policy of policies) {
      const rule = policy.rules.find((r) => r.event === event);
      if (rule === undefined) continue;
      const parts: KernelExpr[] = [];
      const place = (conditions: readonly Condition[], follow: boolean): void => {
        for (const group of groupConditions(conditions)) {
          const pushed = pushGroup(group, fields, follow);
          if (pushed.expr) parts.push(pushed.expr);
          for (const c of group) placements.push({ policy: policy.name, condition: c.text, where: pushed.expr ? pushed.where : 'user', why: pushed.why });
        }
      };
      place(policy.scope.conditions, policy.scope.follow);
      place(rule.conditions, false);
      if (parts.length === 0) passAll ??= policy.name;
      else branches.push(join('and', parts));
    }
    let kernelExpr = passAll === undefined && branches.length > 0 ? join('or', dedupe(branches)) : undefined;
    let kernelFilter = kernelExpr && fields ? renderTracefsFilter(kernelExpr, fields) : undefined;
    let demoted: string | undefined;
    if (passAll !== undefined) demoted = `policy ${passAll} needs every ${event} call, so the kernel cannot filter`;
    else if (kernelFilter !== undefined && kernelFilter.length > MAX_FILTER_LENGTH) demoted = 'the kernel filter would be too long';
    if (demoted !== undefined) {
      kernelExpr = undefined;
      kernelFilter = undefined;
      for (const p of placements) {
        if (p.where !== 'user') {
          p.where = 'user';
          p.why = demoted;
        }
      }
    }
    const userSpace = placements.filter((p) => p.where !== 'kernel').map((p) => `${p.policy}: ${p.condition} (${p.why})`);
    perEvent[event] = { ...(kernelFilter !== undefined ? { kernelFilter, kernelExpr } : {}), userSpace, placements };
  }
  return { perEvent };
}

function dedupe(items: KernelExpr[]): KernelExpr[] {
  const seen = new Set<string>();
  return items.filter((i) => {
    const key = JSON.stringify(i, (_, v) => (typeof v === 'bigint' ? v.toString() : v));
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** tracefs filter syntax: `field op value`, `&&`, `||`, parentheses around nested groups; the 32-bit guard in hex, other values in decimal. */
export function renderTracefsFilter(expr: KernelExpr, fields: readonly string[]): string {
  if (expr.kind === 'cmp') {
    const name = expr.operand.kind === 'tid' ? 'common_pid' : fields[expr.operand.index];
    const value = expr.value === U32_MAX && expr.op === '>' ? '0xffffffff' : expr.value.toString();
    return `${name} ${expr.op} ${value}`;
  }
  const parts = expr.items.map((i) => (i.kind === 'cmp' ? renderTracefsFilter(i, fields) : `(${renderTracefsFilter(i, fields)})`));
  return parts.join(expr.kind === 'and' ? ' && ' : ' || ');
}

/** Where a string-argument filter runs: say it once, for --explain and for the refusal. */
const UNREAD_STRING =
  "the syscall record holds the string's address: the eBPF backend reads its text (up to 255 bytes) at syscall entry and user space compares it (no kernel compare yet); tracefs cannot read it, so live tracing needs eBPF";

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

/** The plan for --explain: each event's kernel filter, then each condition and where it runs. */
export function explainPlan(plan: PushdownPlan): string {
  const lines: string[] = [];
  for (const [event, p] of Object.entries(plan.perEvent)) {
    lines.push(`${event}`);
    lines.push(`  kernel filter: ${p.kernelFilter ?? 'none (every call reaches user space)'}`);
    if (p.placements.length === 0) lines.push('  no conditions: every call matches');
    const width = Math.max(...p.placements.map((x) => x.where.length), 0);
    for (const x of p.placements) lines.push(`  ${x.where.padEnd(width)}  ${x.policy}: ${x.condition}  (${x.why})`);
  }
  lines.push('User space evaluates every condition again to fill matchedPolicies.');
  return lines.join('\n');
}
