import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { findEvent } from '../../src/catalog/events.js';
import { UsageError } from '../../src/model/errors.js';
import { parseEventsFlags } from '../../src/policy/events-grammar.js';
import { parsePolicyText } from '../../src/policy/policy-file.js';
import { Policies, policyFromFlags } from '../../src/policy/policy.js';
import { explainPlan, planKernelFilters } from '../../src/policy/kernel-plan.js';
import { parseScopeFlags } from '../../src/policy/scope-grammar.js';
import type { PolicySpec } from '../../src/policy/spec.js';
import { ioperm } from '../support/synthetic-event.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 2000);
const FIELDS = { ioperm: ['from', 'num', 'turn_on'], iopl: ['level'], ioctl: ['fd', 'cmd', 'arg'] };

/** The kernel filter plan of the events the policies name, as trace() makes it. */
function plan(policies: PolicySpec[]): ReturnType<typeof planKernelFilters> {
  const events = [...new Set(policies.flatMap((p) => p.rules.map((r) => r.event)))].flatMap((name) => findEvent(name) ?? []);
  return planKernelFilters(policies, events);
}

/** Runs a parser: it either returns, or throws a one-line UsageError; anything else fails the property. */
function onlyUsageErrors(run: () => void): void {
  try {
    run();
  } catch (err) {
    if (!(err instanceof UsageError)) throw new Error(`threw ${(err as Error)?.name}: ${(err as Error)?.message}`);
    assert.ok(!err.message.includes('\n') && !err.message.includes('\r'), `message is one line: ${JSON.stringify(err.message)}`);
    assert.ok(err.message.length > 0);
  }
}

const EVENT_SEEDS = [
  'ioperm', 'io*', 'syscalls,-ioctl', 'tag=fs', 'ioperm.data.turn_on=1', 'ioperm.data.from>=0x3f8', 'ioperm.data.from=0x3f8,0x2f8',
  'ioperm.retval!=0', 'ioperm.scope.comm=x', 'ioperm.scope.executable=*probe', 'perf_event_open.data.pid=-1', 'ioperm.scope.container',
  'iopl.data.level<=3', 'ioctl.data.request=0x5401', 'ioperm.scope.hostTid=42',
];
const SCOPE_SEEDS = [
  'uid>=1000', 'uid=0', 'pid=new', 'pid<100', 'tree=1', 'tree!=5', 'comm=bash,zsh', 'executable=/usr/bin/ls', 'exec=host:/bin/sh',
  'executable=4026532448:/usr/bin/ls', 'container', 'not-container', 'container=new', 'container=ab356bc4dd554', 'container=started',
  'mntns=4026531840', 'pidns!=4026531836', 'follow', 'uts!=box', 'podSandbox=true',
];
const ALPHABET = [...'=!<>,.-*:/0x19aefiopmnrstuldcz \t\n"\'\\{}[]#&|%', '\u0000', 'é', '\u2028'];

/** A seed with a few random edits: insertions, deletions and replacements at random places. */
function mutated(seeds: string[]): fc.Arbitrary<string> {
  const edit = fc.tuple(fc.constantFrom('insert', 'delete', 'replace'), fc.nat(), fc.constantFrom(...ALPHABET));
  return fc.tuple(fc.constantFrom(...seeds), fc.array(edit, { maxLength: 4 })).map(([seed, edits]) => {
    let s = seed;
    for (const [kind, at, ch] of edits) {
      const i = s.length === 0 ? 0 : at % (s.length + 1);
      if (kind === 'insert') s = s.slice(0, i) + ch + s.slice(i);
      else if (kind === 'delete') s = s.slice(0, i) + s.slice(i + 1);
      else s = s.slice(0, i) + ch + s.slice(i + 1);
    }
    return s;
  });
}

const anyText = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: fc.constantFrom(...ALPHABET) }));

describe('parsers never throw anything but UsageError', () => {
  it('--events, random and mutated values, and whatever they parse to compiles, evaluates and plans', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(anyText, mutated(EVENT_SEEDS)), { maxLength: 4 }), (values) =>
        onlyUsageErrors(() => {
          parseEventsFlags(values);
          const policy = policyFromFlags({ events: values });
          Policies.compile([policy]).evaluate(ioperm(0x3f8, 8, 1));
          explainPlan(plan([policy]), FIELDS);
        }),
      ),
      { numRuns: RUNS },
    );
  });

  it('--scope, random and mutated values', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(anyText, mutated(SCOPE_SEEDS)), { maxLength: 4 }), (values) =>
        onlyUsageErrors(() => {
          parseScopeFlags(values);
          const policy = policyFromFlags({ scope: values });
          Policies.compile([policy]).evaluate(ioperm(0x3f8, 8, 1));
          plan([policy]);
        }),
      ),
      { numRuns: RUNS },
    );
  });

  const POLICY = `apiVersion: tracee.aquasec.com/v1beta1
kind: Policy
metadata:
  name: port-watch
  annotations:
    description: raw port access
spec:
  scope:
    - comm=portprobe
    - follow
  defaultActions:
    - log
  rules:
    - event: ioperm
      filters:
        - data.turn_on=1
        - data.from>=0x3f8
        - retval!=0
        - uid=0
    - event: iopl
`;

  it('Policy YAML, mutated as text', () => {
    fc.assert(
      fc.property(mutated([POLICY]), fc.array(fc.tuple(fc.nat(), fc.constantFrom(...ALPHABET)), { maxLength: 6 }), (text, more) =>
        onlyUsageErrors(() => {
          let s = text;
          for (const [at, ch] of more) s = s.slice(0, at % (s.length + 1)) + ch + s.slice((at % (s.length + 1)) + 1);
          const policies = parsePolicyText(s, 'fuzz.yaml');
          if (policies.length > 0) {
            Policies.compile(policies).evaluate(ioperm(0x3f8, 8, 1));
            plan(policies);
          }
        }),
      ),
      { numRuns: RUNS },
    );
  });

  it('Policy YAML, random documents and policies with random parts', () => {
    const scalar = fc.oneof(anyText, mutated([...EVENT_SEEDS, ...SCOPE_SEEDS, 'data.turn_on=1', 'retval<0']), fc.integer(), fc.boolean(), fc.constant(null));
    const value = fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }), fc.dictionary(fc.string(), scalar, { maxKeys: 3 }));
    const policy = fc.record({
      apiVersion: fc.oneof(fc.constant('tracee.aquasec.com/v1beta1'), value),
      kind: fc.oneof(fc.constant('Policy'), value),
      metadata: fc.oneof(fc.record({ name: fc.oneof(fc.constant('p1'), value) }), value),
      spec: fc.oneof(
        fc.record({
          scope: fc.oneof(fc.array(fc.oneof(fc.constantFrom('global', ...SCOPE_SEEDS), scalar), { maxLength: 3 }), value),
          rules: fc.oneof(
            fc.array(fc.record({ event: fc.oneof(fc.constantFrom('ioperm', 'iopl', 'io*', 'system'), scalar), filters: fc.oneof(fc.array(scalar, { maxLength: 3 }), value) }), { maxLength: 3 }),
            value,
          ),
        }),
        value,
      ),
    });
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), policy), (doc) =>
        onlyUsageErrors(() => {
          const policies = parsePolicyText(stringify(doc), 'fuzz.yaml');
          if (policies.length > 0) Policies.compile(policies).evaluate(ioperm(0x3f8, 8, 1));
        }),
      ),
      { numRuns: RUNS },
    );
  });

  it('Policy YAML, random text', () => {
    fc.assert(fc.property(anyText, (text) => onlyUsageErrors(() => parsePolicyText(text, 'fuzz.yaml'))), { numRuns: RUNS });
  });
});
