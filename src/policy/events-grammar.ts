import { allEventNames, allSets, DEFAULT_EVENTS, eventSets, findEvent } from '../catalog/events.js';
import { type EventDefinition, findArg, isStringArg } from '../catalog/types.js';
import { parseNumbers, parseStringPattern, requireEquality, splitComparison } from './comparison.js';
import { type Locate, flagLocation, problem, show, suggest } from './problem.js';
import { parseEventScope } from './scope-grammar.js';
import type { Condition } from './spec.js';

/** What -e/--events flags select: catalog event names and, per event, the filters its occurrences must pass. */
export interface EventsSelection {
  /** Catalog names, in catalog order. */
  events: string[];
  /** Filters per event name; all of an event's filters must hold. */
  filters: Record<string, Condition[]>;
}

let names: string[] | undefined;
let sets: string[] | undefined;
/** Every selectable name (family and every syscall), computed on first use. */
const allNames = (): string[] => (names ??= allEventNames());
/** Tracee's sets, with Tracee's membership, computed on first use. */
const SETS = (): string[] => (sets ??= allSets());
const SELECTOR_RE = /^[A-Za-z0-9_*]+$/;
const FILTER_RE = /^([^.,=!<>]+)\.(data|args|retval|scope)(?=[.=!<>]|$)/;

/** Catalog names a selector stands for: an event name, a set (`syscalls`, `system`, …) or a glob (`io*`, `*fd*`). */
export function resolveSelector(selector: string, offset: number, locate: Locate, preferSet = false): string[] {
  if (!SELECTOR_RE.test(selector)) {
    throw problem(locate, offset, `${show(selector)} is not an event name, set or glob`, 'use letters, digits, _ and * only, e.g. ioperm, io* or syscalls');
  }
  if (findEvent(selector) && !(preferSet && SETS().includes(selector))) return [selector]; // `time` is a syscall and a set: tag=time means the set
  if (SETS().includes(selector)) return allNames().filter((n) => eventSets(n).includes(selector));
  if (selector.includes('*')) {
    const re = new RegExp(`^${selector.split('*').map((p) => p.replace(/[^A-Za-z0-9_]/g, '')).join('.*')}$`);
    const matched = allNames().filter((n) => re.test(n));
    if (matched.length === 0) throw problem(locate, offset, `${show(selector)} matches no event`, `run \`watchpost list --all\` to see the ${allNames().length} events`);
    return matched;
  }
  throw problem(locate, offset, `unknown event ${show(selector)}`, suggest(selector, [...allNames(), ...SETS()], `run \`watchpost list --all\` to see the ${allNames().length} events and sets ${SETS().join(', ')}`));
}

/** The catalog event a filter names (no sets or globs: a filter is about one event's fields). */
function eventForFilter(name: string, offset: number, locate: Locate): EventDefinition {
  const event = findEvent(name);
  if (event) return event;
  const fix = SETS().includes(name) || name.includes('*') ? 'name one event, e.g. ioperm.data.turn_on=1' : suggest(name, allNames(), 'run `watchpost list --all` to see the events');
  throw problem(locate, offset, `unknown event ${show(name)} in filter`, fix);
}

/**
 * One filter of `event`, starting at `start`: `data.X<op>v`, `args.X<op>v` (Tracee's old name), `retval<op>v`, `scope.<scope expression>`;
 * with `bareScope` (policy rule filters) also a scope expression alone, like `uid=1000`.
 */
export function parseEventFilter(event: EventDefinition, text: string, start: number, locate: Locate, bareScope: boolean): Condition[] {
  const rest = text.slice(start);
  const bare = /^(data|args|scope)(?=$|[=!<>])/.exec(rest);
  if (bare) {
    const example = bare[1] === 'scope' ? 'scope.comm=bash' : `data.${event.args[0]?.name ?? 'field'}=1`;
    throw problem(locate, start, `${bare[1]} needs a field name`, `write e.g. ${event.name}.${example}`);
  }
  if (rest.startsWith('data.') || rest.startsWith('args.')) return [dataCondition(event, text, start + 5, locate)];
  if (rest.startsWith('retval')) {
    const c = splitComparison(text, start, locate);
    if (c === undefined || c.name !== 'retval') {
      throw problem(locate, start, `${show(rest)} is not a return-value filter`, 'write e.g. retval!=0 or retval<0');
    }
    return [{ kind: 'number', target: { kind: 'retval' }, op: c.op, values: parseNumbers(c, 'retval', 'retval', locate), text: rest }];
  }
  if (rest.startsWith('scope.')) return parseEventScope(text, locate, start + 6);
  if (bareScope) return parseEventScope(text, locate, start);
  const kind = rest.split(/[.=!<>]/)[0];
  throw problem(locate, start, `unknown filter kind ${show(kind)} for ${event.name}`, suggest(kind, ['data', 'retval', 'scope'], 'use data.<field>, retval or scope.<field>'));
}

function dataCondition(event: EventDefinition, text: string, start: number, locate: Locate): Condition {
  const c = splitComparison(text, start, locate);
  const fields = event.args.map((a) => a.name).join(', ');
  if (c === undefined) {
    throw problem(locate, start, `data filter ${show(text.slice(start))} has no operator`, `write e.g. ${event.name}.data.${event.args[0]?.name ?? 'field'}=1`);
  }
  const index = findArg(event.args, c.name);
  if (index < 0) {
    throw problem(locate, start, `${event.name} has no data field ${show(c.name)}`, `${suggest(c.name, event.args.map((a) => a.name), '')} its fields are ${fields || 'none'}`.trim());
  }
  const arg = event.args[index];
  const target = { kind: 'arg', name: arg.name, index, type: arg.type, kernelType: arg.kernelType } as const;
  const what = `${event.name}.data.${arg.name}`;
  if (isStringArg(arg)) {
    const op = requireEquality(c, start, what, locate);
    return { kind: 'argString', target, op, values: c.values.map((v) => parseStringPattern(v.text, v.offset, what, locate)), text: `data.${text.slice(start)}` };
  }
  const opaque = c.values.find((v) => !/^-?(0x[0-9a-f]+|\d+)$/i.test(v.text));
  if (arg.type === 'pointer' && arg.traceeType !== undefined && arg.traceeType !== 'trace.Pointer' && opaque) {
    throw problem(locate, opaque.offset, `${what} is a ${arg.traceeType} in the caller's memory: filters compare only its address`, `filter on a string or number argument of ${event.name} (${fields}), or on retval`);
  }
  return {
    kind: 'number',
    target,
    op: c.op,
    values: parseNumbers(c, arg.type, what, locate),
    text: `data.${text.slice(start)}`,
  };
}

/** -e/--events values, as Tracee reads them: selections and exclusions add up across flags; filters AND; no positive selection means the defaults. */
export function parseEventsFlags(values: readonly string[], flag = '--events'): EventsSelection {
  const included = new Set<string>();
  const excluded = new Set<string>();
  const filters: Record<string, Condition[]> = {};
  for (const value of values) {
    const locate = flagLocation(flag, value);
    const filter = FILTER_RE.exec(value);
    if (filter) {
      const event = eventForFilter(filter[1], 0, locate);
      (filters[event.name] ??= []).push(...parseEventFilter(event, value, filter[1].length + 1, locate, false));
      included.add(event.name);
      continue;
    }
    const kind = /^([^.,=!<>]+)\.([^.=!<>]*)/.exec(value);
    if (kind && findEvent(kind[1])) {
      throw problem(locate, kind[1].length + 1, `unknown filter kind ${show(kind[2])} for ${kind[1]}`, suggest(kind[2], ['data', 'retval', 'scope'], `write ${kind[1]}.data.<field>=<value>, ${kind[1]}.retval<op><value> or ${kind[1]}.scope.<field>=<value>`));
    }
    let offset = value.startsWith('tag=') ? 4 : 0;
    if (/[=!<>]/.test(value.slice(offset)) || value.slice(offset).includes('.')) {
      const name = value.slice(offset).split(/[.=!<>]/)[0];
      throw problem(locate, offset, `${show(value)} is neither a list of events nor a filter`, findEvent(name)
        ? `write a filter as ${name}.data.<field>=<value>, ${name}.retval<op><value> or ${name}.scope.<field>=<value>`
        : `write a filter as <event>.data.<field>=<value>, e.g. ioperm.data.turn_on=1`);
    }
    for (const item of value.slice(offset).split(',')) {
      const exclude = item.startsWith('-');
      const names = resolveSelector(exclude ? item.slice(1) : item, exclude ? offset + 1 : offset, locate, value.startsWith('tag='));
      for (const name of names) (exclude ? excluded : included).add(name);
      offset += item.length + 1;
    }
  }
  if (included.size === 0) for (const name of DEFAULT_EVENTS) included.add(name);
  const events = allNames().filter((n) => included.has(n) && !excluded.has(n));
  if (events.length === 0) {
    throw problem(flagLocation(flag, values.join(' ')), 0, 'these flags exclude every event', 'drop an exclusion (-name) or select more events');
  }
  for (const name of Object.keys(filters)) if (excluded.has(name)) delete filters[name];
  return { events, filters };
}
