import { findEvent } from '../catalog/events.js';
import type { SyscallEvent } from '../model/event.js';
import { UsageError } from '../model/errors.js';
import { parseEventsFlags } from './events-grammar.js';
import { type PolicyEnvironment, type Test, compileEventTest, compileScopeTest } from './matchers.js';
import { show } from './problem.js';
import type { ScopeSubject } from './scope-fields.js';
import { parseScopeFlags } from './scope-grammar.js';
import { MAX_POLICIES, type PolicySpec, type ScopeSpec } from './spec.js';

export type { PolicyEnvironment } from './matchers.js';

interface Entry {
  name: string;
  test: Test<SyscallEvent>;
}

/** One event's policies, and the lists of names they match, made once per combination. */
interface EventPolicies {
  entries: Entry[];
  lists: Map<number, readonly string[]>;
}

const NO_MATCH: readonly string[] = Object.freeze([]);
/** Up to this many policies on one event, a match is a bit mask and its list of names is shared. */
const MASK_BITS = 30;
const MAX_DEPTH = 256;

/** Compiled policies: which events to enable, and which policies each event matches. */
export class Policies {
  private constructor(
    readonly specs: readonly PolicySpec[],
    private readonly byEvent: ReadonlyMap<string, EventPolicies>,
  ) {}

  /** Compiles every condition into closures once; throws UsageError for more than 64 policies, duplicate names or unknown events. */
  static compile(specs: readonly PolicySpec[], env: PolicyEnvironment = {}): Policies {
    if (specs.length === 0) throw new UsageError('no policy given: pass --events/--scope flags or --policy FILE|DIR');
    if (specs.length > MAX_POLICIES) {
      throw new UsageError(`${specs.length} policies given (from ${specs[MAX_POLICIES].origin} on); at most ${MAX_POLICIES} can be loaded, merge some`);
    }
    const seen = new Map<string, string>();
    const byEvent = new Map<string, EventPolicies>();
    for (const spec of specs) {
      const earlier = seen.get(spec.name);
      if (earlier !== undefined) {
        throw new UsageError(`${spec.origin}: policy name ${show(spec.name)} is already used by ${earlier}; give each policy its own metadata.name`);
      }
      seen.set(spec.name, spec.origin);
      const scope = compileScope(spec.scope, env);
      const events = new Set<string>();
      for (const rule of spec.rules) {
        if (!findEvent(rule.event)) throw new UsageError(`${spec.origin}: policy ${show(spec.name)} names unknown event ${show(rule.event)}; run \`watchpost list\``);
        if (events.has(rule.event)) {
          throw new UsageError(`${spec.origin}: policy ${show(spec.name)} has two rules for ${rule.event}; merge their filters into one rule, as Tracee requires`);
        }
        events.add(rule.event);
        const filter = compileEventTest(rule.conditions, env);
        const test: Test<SyscallEvent> = scope === undefined ? filter : (e) => filter(e) && scope(e);
        const known = byEvent.get(rule.event);
        if (known) known.entries.push({ name: spec.name, test });
        else byEvent.set(rule.event, { entries: [{ name: spec.name, test }], lists: new Map() });
      }
    }
    return new Policies(specs, byEvent);
  }

  /** Catalog names of the events any policy needs enabled. */
  selectedEvents(): Set<string> {
    return new Set(this.byEvent.keys());
  }

  /**
   * Names of the policies the event matches, in load order (for event.matchedPolicies); empty means drop it. Hot path:
   * no allocation — the list for each combination of matches is made once, frozen, and shared by the events that have
   * it (so outputs serialise it once too).
   */
  evaluate(e: SyscallEvent): readonly string[] {
    const on = this.byEvent.get(e.eventName);
    if (on === undefined) return NO_MATCH;
    const entries = on.entries;
    if (entries.length > MASK_BITS) return Object.freeze(entries.filter((x) => x.test(e)).map((x) => x.name));
    let mask = 0;
    for (let i = 0; i < entries.length; i++) if (entries[i].test(e)) mask |= 1 << i;
    if (mask === 0) return NO_MATCH;
    let list = on.lists.get(mask);
    if (list === undefined) {
      if (on.lists.size >= 4096) on.lists.clear();
      on.lists.set(mask, (list = Object.freeze(entries.filter((_, i) => mask & (1 << i)).map((x) => x.name))));
    }
    return list;
  }
}

/** undefined for a scope that holds everywhere, so global policies pay nothing. */
function compileScope(scope: ScopeSpec, env: PolicyEnvironment): Test<ScopeSubject> | undefined {
  if (scope.conditions.length === 0) return undefined;
  const own = compileScopeTest(scope.conditions, env);
  const parentOf = env.parentOf;
  if (!scope.follow || parentOf === undefined) return own;
  return (s) => {
    if (own(s)) return true;
    let pid = s.hostProcessId;
    for (let depth = 0; depth < MAX_DEPTH; depth++) {
      const parent = parentOf(pid);
      if (parent === undefined || parent.hostProcessId === pid) return false;
      if (own(parent)) return true;
      pid = parent.hostProcessId;
    }
    return false;
  };
}

export function compilePolicies(specs: readonly PolicySpec[], env: PolicyEnvironment = {}): Policies {
  return Policies.compile(specs, env);
}

/** The one policy that -e/--events and --scope flags form (Tracee's CLI policy). */
export function policyFromFlags(flags: { events?: readonly string[]; scope?: readonly string[] }, name = 'cli'): PolicySpec {
  const selection = parseEventsFlags(flags.events ?? []);
  const scope = parseScopeFlags(flags.scope ?? []);
  return {
    name,
    origin: '--events/--scope',
    description: 'from the command line',
    scope,
    rules: selection.events.map((event) => ({ event, conditions: selection.filters[event] ?? [], actions: [] })),
    defaultActions: ['log'],
  };
}
