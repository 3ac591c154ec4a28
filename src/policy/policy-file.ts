import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Node, YAMLMap } from 'yaml';
import { findEvent } from '../catalog/events.js';
import type { EventDefinition } from '../catalog/types.js';
import { UsageError } from '../model/errors.js';
import { parseEventFilter, resolveSelector } from './events-grammar.js';
import { problem, show, suggest } from './problem.js';
import { parseWorkloadScope } from './scope-grammar.js';
import { type Condition, MAX_POLICIES, type PolicySpec, type RuleSpec, type ScopeSpec } from './spec.js';
import { yaml, YamlSource } from './yaml-source.js';

const isMap = (n: unknown): n is YAMLMap => yaml().isMap(n);
const isScalar = (n: unknown): n is import('yaml').Scalar => yaml().isScalar(n);
const isSeq = (n: unknown): n is import('yaml').YAMLSeq => yaml().isSeq(n);

const API_VERSION = 'tracee.aquasec.com/v1beta1';
const ACTIONS = ['log', 'print', 'kill', 'deny'];
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function child(map: YAMLMap, key: string): Node | undefined {
  return (map.get(key, true) as Node | undefined) ?? undefined;
}

function stringAt(src: YamlSource, node: Node | undefined, where: string, example: string): string {
  if (!isScalar(node) || typeof node.value !== 'string' || node.value === '') {
    throw src.fail(node, `${where} must be a non-empty string`, `write e.g. ${example}`);
  }
  return node.value;
}

function stringList(src: YamlSource, node: Node | undefined, where: string, example: string): { value: string; node: Node }[] {
  if (!isSeq(node)) throw src.fail(node, `${where} must be a list`, `write e.g. ${example}`);
  return node.items.map((item) => {
    const n = item as Node;
    if (isScalar(n) && (typeof n.value === 'string' || typeof n.value === 'number' || typeof n.value === 'boolean') && String(n.value) !== '') {
      return { value: typeof n.value === 'string' ? n.value : String(n.source ?? n.value), node: n };
    }
    throw src.fail(n, `each item of ${where} must be a string`, `write e.g. ${example}`);
  });
}

function checkKeys(src: YamlSource, map: YAMLMap, allowed: string[], where: string): void {
  for (const pair of map.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    if (!allowed.includes(key)) {
      throw src.fail(pair.key as Node, `unknown key ${show(key)} in ${where}`, suggest(key, allowed, `the keys are ${allowed.join(', ')}`));
    }
  }
}

function actions(src: YamlSource, node: Node | undefined, where: string): string[] {
  if (node === undefined) return [];
  return stringList(src, node, where, '[log]').map(({ value, node: n }) => {
    if (!ACTIONS.includes(value)) throw src.fail(n, `action ${show(value)} is not supported`, `use ${ACTIONS.join(' or ')}`);
    return value;
  });
}

function parseScope(src: YamlSource, node: Node | undefined): ScopeSpec {
  const items = stringList(src, node, 'spec.scope', '[global] or [comm=bash, follow]');
  if (items.length === 0) throw src.fail(node, 'spec.scope is empty', 'write [global] to cover every process, or a scope like comm=bash');
  const spec: ScopeSpec = { global: false, conditions: [], follow: false };
  for (const { value, node: n } of items) {
    const text = value.replaceAll(' ', '');
    const parsed = parseWorkloadScope(text, src.inside(n));
    if (parsed === 'global') {
      if (items.length > 1) throw src.fail(n, 'global must be the only scope', 'drop global, or drop the other scope entries');
      spec.global = true;
    } else if (parsed === 'follow') spec.follow = true;
    else spec.conditions.push(...parsed);
  }
  return spec;
}

function parseRules(src: YamlSource, node: Node | undefined, policy: string): RuleSpec[] {
  if (!isSeq(node) || node.items.length === 0) {
    throw src.fail(node, 'spec.rules must be a non-empty list', 'write e.g. rules: [{event: ioperm, filters: [data.turn_on=1]}]');
  }
  const rules: RuleSpec[] = [];
  const ruleOf = new Map<string, number>();
  node.items.forEach((item, i) => {
    const where = `spec.rules[${i}]`;
    if (!isMap(item)) throw src.fail(item as Node, `${where} must be a map with an event`, 'write e.g. - event: ioperm');
    checkKeys(src, item, ['event', 'filters', 'actions'], where);
    const eventNode = child(item, 'event');
    const eventText = stringAt(src, eventNode, `${where}.event`, 'event: ioperm');
    const locate = src.inside(eventNode);
    const included = new Set<string>();
    const excluded = new Set<string>();
    let offset = 0;
    for (const part of eventText.split(',')) {
      const exclude = part.startsWith('-');
      for (const name of resolveSelector(exclude ? part.slice(1) : part, exclude ? offset + 1 : offset, locate)) (exclude ? excluded : included).add(name);
      offset += part.length + 1;
    }
    const events = [...included].filter((n) => !excluded.has(n));
    if (events.length === 0) throw problem(locate, 0, `${where}.event selects no event`, 'name at least one event that is not excluded');
    const filterNode = child(item, 'filters');
    const filters = filterNode === undefined || (isScalar(filterNode) && filterNode.value === null) ? [] : stringList(src, filterNode, `${where}.filters`, '[data.turn_on=1, retval!=0]');
    const ruleActions = actions(src, child(item, 'actions'), `${where}.actions`);
    for (const event of events) {
      const other = ruleOf.get(event);
      if (other !== undefined) {
        throw problem(locate, 0, `policy ${show(policy)} already has a rule for ${event} (spec.rules[${other}])`, 'merge the filters into one rule per event, as Tracee requires');
      }
      ruleOf.set(event, i);
      const conditions: Condition[] = [];
      for (const { value, node: n } of filters) {
        const def = findEvent(event) as EventDefinition; // resolveSelector only yields catalog names
        if ((value.startsWith('data.') || value.startsWith('args.')) && events.length > 1) {
          throw src.fail(n, `data filter on ${show(eventText)}, which selects ${events.length} events`, 'give data filters a rule with a single event');
        }
        conditions.push(...parseEventFilter(def, value, 0, src.inside(n), true));
      }
      rules.push({ event, conditions, actions: ruleActions });
    }
  });
  return rules;
}


function parseDocument(src: YamlSource, root: Node | null): PolicySpec {
  if (!isMap(root)) throw src.fail(root, 'a policy must be a YAML map', `start with apiVersion: ${API_VERSION} and kind: Policy`);
  const plain = child(root, 'type');
  if (plain !== undefined) return parsePlain(src, root, plain);
  const apiVersion = child(root, 'apiVersion');
  if (!isScalar(apiVersion) || apiVersion.value !== API_VERSION) {
    throw src.fail(apiVersion ?? root, `apiVersion ${show(String(isScalar(apiVersion) ? apiVersion.value : 'missing'))} is not supported`, `write apiVersion: ${API_VERSION}`);
  }
  const kind = child(root, 'kind');
  if (!isScalar(kind) || kind.value !== 'Policy') {
    throw src.fail(kind ?? root, `kind ${show(String(isScalar(kind) ? kind.value : 'missing'))} is not supported`, 'write kind: Policy');
  }
  const metadata = child(root, 'metadata');
  if (!isMap(metadata)) throw src.fail(metadata ?? root, 'metadata is missing', 'write metadata: {name: my-policy}');
  const name = policyName(src, child(metadata, 'name'));
  const annotations = child(metadata, 'annotations');
  const description = isMap(annotations) ? String((annotations.get('description') as unknown) ?? '') : '';
  const spec = child(root, 'spec');
  if (!isMap(spec)) throw src.fail(spec ?? root, 'spec is missing', 'write spec: with scope: and rules:');
  checkKeys(src, spec, ['scope', 'rules', 'defaultActions'], 'spec');
  return {
    name,
    origin: src.file,
    description,
    scope: parseScope(src, child(spec, 'scope') ?? spec),
    rules: parseRules(src, child(spec, 'rules') ?? spec, name),
    defaultActions: actions(src, child(spec, 'defaultActions'), 'spec.defaultActions'),
  };
}

/** Tracee's plain format: `type: policy` with name, description, scope and rules at the top. */
function parsePlain(src: YamlSource, root: YAMLMap, type: Node): PolicySpec {
  if (!isScalar(type) || type.value !== 'policy') throw src.fail(type, `type ${show(String(isScalar(type) ? type.value : ''))} is not supported`, 'write type: policy');
  checkKeys(src, root, ['type', 'name', 'description', 'version', 'scope', 'rules', 'defaultActions'], 'the policy');
  const name = policyName(src, child(root, 'name') ?? root, 'name');
  const description = child(root, 'description');
  return {
    name,
    origin: src.file,
    description: isScalar(description) ? String(description.value ?? '') : '',
    scope: parseScope(src, child(root, 'scope') ?? root),
    rules: parseRules(src, child(root, 'rules') ?? root, name),
    defaultActions: actions(src, child(root, 'defaultActions'), 'defaultActions'),
  };
}

function policyName(src: YamlSource, node: Node | undefined, where = 'metadata.name'): string {
  const name = stringAt(src, node, where, 'name: ioperm-watch');
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    throw src.fail(node, `policy name ${show(name)} is not a DNS-1123 subdomain`, 'use lowercase letters, digits, - and . (e.g. ioperm-watch)');
  }
  return name;
}

/** Every policy in one YAML text (one per document; `---` separates several). */
export function parsePolicyText(text: string, file: string): PolicySpec[] {
  const src = new YamlSource(file, text);
  const docs = yaml().parseAllDocuments(text, { lineCounter: src.lines, uniqueKeys: true });
  if (!Array.isArray(docs)) return []; // an empty stream
  const policies: PolicySpec[] = [];
  for (const doc of docs) {
    const error = doc.errors[0];
    if (error) throw src.syntaxError(error);
    if (doc.contents === null) continue;
    policies.push(parseDocument(src, doc.contents));
  }
  return policies;
}

function readable(path: string, read: () => string): string {
  try {
    return read();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new UsageError(`--policy ${show(path)}: cannot read it (${code}); pass a policy file or a directory of *.yaml files`);
  }
}

/** Policies from files and directories (each *.yaml and *.yml inside, not recursive); at most 64 in all, names unique. */
export function loadPolicies(paths: readonly string[]): PolicySpec[] {
  const policies: PolicySpec[] = [];
  const byName = new Map<string, string>();
  for (const path of paths) {
    let files: string[];
    let isDir: boolean;
    try {
      isDir = statSync(path).isDirectory();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new UsageError(`--policy ${show(path)}: ${code === 'ENOENT' ? 'no such file or directory' : `cannot open it (${code})`}; pass a policy file or a directory of *.yaml files`);
    }
    if (isDir) {
      files = readable(path, () => readdirSync(path).join('\n'))
        .split('\n')
        .filter((f) => /\.ya?ml$/.test(f))
        .sort()
        .map((f) => join(path, f))
        .filter((f) => statSync(f).isFile());
      if (files.length === 0) throw new UsageError(`--policy ${show(path)}: the directory has no *.yaml or *.yml files; put policies there or pass a file`);
    } else files = [path];
    for (const file of files) {
      for (const policy of parsePolicyText(readable(file, () => readFileSync(file, 'utf8')), file)) {
        const earlier = byName.get(policy.name);
        if (earlier !== undefined) {
          throw new UsageError(`${file}: policy name ${show(policy.name)} is already used in ${earlier}; give each policy its own metadata.name`);
        }
        byName.set(policy.name, file);
        policies.push(policy);
        if (policies.length > MAX_POLICIES) {
          throw new UsageError(`${file}: more than ${MAX_POLICIES} policies loaded; at most ${MAX_POLICIES} can be active, merge or remove some`);
        }
      }
    }
  }
  return policies;
}
