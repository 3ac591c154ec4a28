import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, type Node, parseDocument, type YAMLMap } from 'yaml';
import { findEvent } from '../../catalog/events.js';
import { UsageError } from '../../model/errors.js';
import type { SyscallEvent } from '../../model/event.js';
import { resolveSelector } from '../../policy/events-grammar.js';
import { type Locate, show, suggest } from '../../policy/problem.js';
import { YamlSource } from '../../policy/yaml-source.js';
import { type FindingData, type MitreAttack, type Severity, SEVERITY_NAMES, type SignatureMetadata } from '../../model/finding.js';
import type { Signature } from '../signature.js';
import { compileCondition, ConditionError, evaluationMessage } from './cel-condition.js';

/**
 * User rules in YAML: a list of rules (or `rules:` holding one), each
 *   id, name, severity (0-3 or low|medium|high|critical), events (names, sets or globs), condition (CEL over `ev`),
 *   optional description, mitre {tactic: "TA0005 Defense Evasion", technique: "T1014 Rootkit"}, tags, remediation,
 *   eventName (default: the name in snake_case), fires (attempt, the default, or success: only when returnValue is 0).
 */

const KEYS = ['id', 'name', 'description', 'severity', 'mitre', 'tags', 'remediation', 'events', 'condition', 'eventName', 'fires'];
const FIRST_RULE_EVENT_ID = 6100;

interface RuleContext {
  src: YamlSource;
  rule: string;
}

function fail(ctx: RuleContext, node: Node | undefined, offset: number, what: string, fix: string): UsageError {
  const at = ctx.src.inside(node)(offset);
  return new UsageError(`${at}: rule ${ctx.rule}: ${what}; ${fix}`);
}

function child(map: YAMLMap, key: string): Node | undefined {
  return (map.get(key, true) as Node | undefined) ?? undefined;
}

function text(ctx: RuleContext, map: YAMLMap, key: string, required: boolean, example: string): string {
  const node = child(map, key);
  if (node === undefined) {
    if (required) throw fail(ctx, map, 0, `${key} is missing`, `add e.g. ${key}: ${example}`);
    return '';
  }
  if (!isScalar(node) || (typeof node.value !== 'string' && typeof node.value !== 'number') || String(node.value).trim() === '') {
    throw fail(ctx, node, 0, `${key} must be a non-empty string`, `write e.g. ${key}: ${example}`);
  }
  return String(node.value).trim();
}

function severity(ctx: RuleContext, map: YAMLMap): Severity {
  const node = child(map, 'severity');
  const fix = 'write 0-3 or one of low, medium, high, critical';
  if (node === undefined) throw fail(ctx, map, 0, 'severity is missing', fix);
  const v = isScalar(node) ? node.value : undefined;
  if (v === 0 || v === 1 || v === 2 || v === 3) return v;
  const i = SEVERITY_NAMES.indexOf(String(v).toLowerCase() as (typeof SEVERITY_NAMES)[number]);
  if (i < 0) throw fail(ctx, node, 0, `severity ${show(String(v))} is not one of 0-3`, fix);
  return i as Severity;
}

function mitre(ctx: RuleContext, map: YAMLMap): MitreAttack | undefined {
  const node = child(map, 'mitre');
  if (node === undefined) return undefined;
  const example = 'mitre: {tactic: TA0005 Defense Evasion, technique: T1014 Rootkit}';
  if (!isMap(node)) throw fail(ctx, node, 0, 'mitre must be a map with tactic and technique', `write e.g. ${example}`);
  const part = (key: 'tactic' | 'technique', re: RegExp) => {
    const value = text(ctx, node, key, true, key === 'tactic' ? 'TA0005 Defense Evasion' : 'T1014 Rootkit');
    const m = re.exec(value);
    if (!m) throw fail(ctx, child(node, key), 0, `mitre.${key} ${show(value)} is not "ID Name"`, `write e.g. ${example}`);
    return { id: m[1], name: m[2] };
  };
  return { tactic: part('tactic', /^(TA\d{4})\s+(\S.*)$/), technique: part('technique', /^(T\d{4}(?:\.\d{3})?)\s+(\S.*)$/) };
}

function stringItems(ctx: RuleContext, map: YAMLMap, key: string, example: string): { value: string; node: Node }[] {
  const node = child(map, key);
  if (node === undefined) return [];
  if (isScalar(node) && typeof node.value === 'string') return [{ value: node.value, node }];
  if (!isSeq(node)) throw fail(ctx, node, 0, `${key} must be a list`, `write e.g. ${key}: ${example}`);
  return node.items.map((item) => {
    const n = item as Node;
    if (isScalar(n) && typeof n.value === 'string' && n.value !== '') return { value: n.value, node: n };
    throw fail(ctx, n, 0, `each item of ${key} must be a string`, `write e.g. ${key}: ${example}`);
  });
}

function events(ctx: RuleContext, map: YAMLMap): string[] {
  const items = stringItems(ctx, map, 'events', '[ioperm, iopl]');
  if (items.length === 0) throw fail(ctx, child(map, 'events') ?? map, 0, 'events is missing or empty', 'add e.g. events: [ioperm]');
  const names = new Set<string>();
  for (const { value, node } of items) {
    const locate: Locate = ctx.src.inside(node);
    try {
      for (const n of resolveSelector(value, 0, locate)) names.add(n);
    } catch (err) {
      // the grammar's message starts with the location: put the rule after it
      const msg = (err as Error).message;
      const at = locate(0);
      throw new UsageError(msg.startsWith(at) ? `${at}: rule ${ctx.rule}:${msg.slice(at.length + 1)}` : msg);
    }
  }
  return [...names];
}

/** A rule compiled into a signature; evaluation errors are counted, never fatal. */
class RuleSignature implements Signature {
  private errors = 0;
  private firstError = '';

  constructor(
    readonly metadata: SignatureMetadata,
    readonly events: readonly string[],
    private readonly where: string,
    private readonly condition: (ev: SyscallEvent) => boolean,
  ) {}

  fires(ev: SyscallEvent): boolean {
    try {
      return this.condition(ev) && (this.metadata.fires === 'attempt' || ev.returnValue === 0);
    } catch (err) {
      if (this.errors++ === 0) this.firstError = evaluationMessage(err);
      return false;
    }
  }

  dataOf(): FindingData {
    return {};
  }

  problems(): string | undefined {
    if (this.errors === 0) return undefined;
    return `rule ${this.metadata.id} (${this.where}): condition failed on ${this.errors} event${this.errors === 1 ? '' : 's'} (first: ${this.firstError}); guard fields of other events with has(), e.g. has(ev.args.level)`;
  }
}

function parseRule(src: YamlSource, node: Node, index: number, eventId: number, taken: Set<string>): Signature {
  const ctx: RuleContext = { src, rule: `#${index + 1}` };
  if (!isMap(node)) throw fail(ctx, node, 0, 'a rule must be a map', 'write e.g. - id: R-1');
  for (const pair of node.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    if (!KEYS.includes(key)) throw fail(ctx, pair.key as Node, 0, `unknown key ${show(key)}`, suggest(key, KEYS, `the keys are ${KEYS.join(', ')}`));
  }
  const id = text(ctx, node, 'id', true, 'R-1');
  ctx.rule = id;
  if (taken.has(id)) throw fail(ctx, child(node, 'id'), 0, `id ${show(id)} is already used`, 'give each rule its own id (WP-* are the built-ins)');
  taken.add(id);
  const name = text(ctx, node, 'name', true, 'Keyboard controller reset port requested');
  const eventName = text(ctx, node, 'eventName', false, 'kbd_reset_port') || name.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '');
  if (findEvent(eventName)) throw fail(ctx, child(node, 'eventName') ?? child(node, 'name'), 0, `event name ${show(eventName)} is a syscall's`, 'choose another eventName');
  const fires = text(ctx, node, 'fires', false, 'attempt') || 'attempt';
  if (fires !== 'attempt' && fires !== 'success') throw fail(ctx, child(node, 'fires'), 0, `fires ${show(fires)} is not attempt or success`, 'write fires: attempt (any result) or fires: success (returnValue 0)');
  const selected = events(ctx, node);
  const conditionNode = child(node, 'condition');
  const condition = text(ctx, node, 'condition', true, 'ev.args.turn_on == 1');
  let compiled: (ev: SyscallEvent) => boolean;
  try {
    compiled = compileCondition(condition, selected);
  } catch (err) {
    if (!(err instanceof ConditionError)) throw err;
    throw fail(ctx, conditionNode, err.offset, `condition: ${err.message}`, 'write CEL over ev, e.g. ev.args.turn_on == 1 && ev.returnValue == 0 (fields: Tracee JSON names, args by name)');
  }
  const metadata: SignatureMetadata = {
    id,
    eventId,
    eventName,
    name,
    version: '1',
    description: text(ctx, node, 'description', false, 'what it means'),
    severity: severity(ctx, node),
    mitre: mitre(ctx, node),
    tags: stringItems(ctx, node, 'tags', '[hardware]').map((t) => t.value),
    remediation: text(ctx, node, 'remediation', false, 'what to do'),
    fires,
  };
  return new RuleSignature(metadata, selected, src.at(node.range?.[0] ?? 0), compiled);
}

/** The rules of one YAML text; `taken` holds the ids already in use (built-ins and earlier files). */
export function parseRuleText(text: string, file: string, taken: Set<string>, firstEventId = FIRST_RULE_EVENT_ID): Signature[] {
  const src = new YamlSource(file, text);
  const doc = parseDocument(text, { lineCounter: src.lines, uniqueKeys: true });
  const error = doc.errors[0];
  if (error) throw src.syntaxError(error);
  let list = doc.contents as Node | null;
  if (isMap(list) && list.has('rules')) list = child(list, 'rules') ?? null;
  if (list === null) return [];
  if (!isSeq(list)) throw new UsageError(`${src.at(list.range?.[0] ?? 0)}: a rules file is a list of rules; write "- id: R-1" entries, or put them under rules:`);
  return list.items.map((item, i) => parseRule(src, item as Node, i, firstEventId + i, taken));
}

/** --rules FILE, repeatable: every rule of every file, or the first mistake as a UsageError. */
export function loadRuleFiles(files: readonly string[], taken: Set<string>): Signature[] {
  const out: Signature[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new UsageError(`--rules ${show(file)}: cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'}); give the path of a YAML rules file`);
    }
    out.push(...parseRuleText(text, file, taken, FIRST_RULE_EVENT_ID + out.length));
  }
  return out;
}
