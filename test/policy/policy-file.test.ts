import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { UsageError } from '../../src/model/errors.js';
import { loadPolicies, parsePolicyText } from '../../src/policy/policy-file.js';
import { brief, usage } from './brief.js';

function policy(name: string, rules = '    - event: ioperm\n', scope = '    - global\n'): string {
  return `apiVersion: tracee.aquasec.com/v1beta1\nkind: Policy\nmetadata:\n  name: ${name}\nspec:\n  scope:\n${scope}  rules:\n${rules}`;
}

function refused(text: string, message: RegExp): void {
  assert.throws(() => parsePolicyText(text, 'p.yaml'), (err: unknown) => {
    assert.ok(err instanceof UsageError, String(err));
    assert.match(err.message, message);
    assert.ok(!err.message.includes('\n'));
    return true;
  });
}

describe('Policy YAML', () => {
  it('reads scope, rules and their data, retval and scope filters', () => {
    const [p] = parsePolicyText(
      policy(
        'port-watch',
        '    - event: ioperm\n      filters:\n        - data.turn_on=1\n        - data.from>=0x3f8\n        - retval!=0\n        - uid=0\n        - scope.comm=port*\n      actions: [print]\n    - event: iopl\n',
        '    - comm=portprobe,bash\n    - uid>=1000\n    - follow\n',
      ),
      'p.yaml',
    );
    assert.equal(p.name, 'port-watch');
    assert.equal(p.origin, 'p.yaml');
    assert.deepEqual(p.scope.conditions.map(brief), ['field:processName = exact:portprobe,exact:bash', 'field:userId >= 1000']);
    assert.equal(p.scope.follow, true);
    assert.deepEqual(
      p.rules.map((r) => [r.event, r.conditions.map(brief), r.actions]),
      [
        ['ioperm', ['arg:turn_on = 1', 'arg:from >= 1016', 'retval != 0', 'field:userId = 0', 'field:processName = prefix:port'], ['print']],
        ['iopl', [], []],
      ],
    );
  });

  it('expands a set or a list with exclusions into one rule per event', () => {
    const [p] = parsePolicyText(policy('sets', '    - event: system,-perf_event_open\n      filters: [retval<0]\n'), 'p.yaml');
    const events = p.rules.map((r) => r.event);
    for (const e of ['ioperm', 'iopl', 'userfaultfd', 'reboot']) assert.ok(events.includes(e), e); // Tracee's system set
    assert.ok(!events.includes('perf_event_open'));
    for (const r of p.rules) assert.deepEqual(r.conditions.map(brief), ['retval < 0']);
  });

  it("reads Tracee's plain format too", () => {
    const [p] = parsePolicyText('type: policy\nname: plain-one\ndescription: d\nscope: [global]\nrules:\n  - event: iopl\n    filters: [data.level=3]\n', 'p.yaml');
    assert.equal(p.name, 'plain-one');
    assert.deepEqual(p.rules.map((r) => r.conditions.map(brief)), [['arg:level = 3']]);
  });

  it('reads several documents in one file', () => {
    assert.deepEqual(parsePolicyText(`${policy('one')}---\n${policy('two')}`, 'p.yaml').map((p) => p.name), ['one', 'two']);
  });

  const errors: [string, string, RegExp][] = [
    ['YAML syntax', 'apiVersion: [\n', /^p.yaml:2:1: .*; fix the YAML syntax there$/],
    ['not a map', '- a\n', /^p.yaml:1:1: a policy must be a YAML map; start with apiVersion/],
    ['wrong apiVersion', policy('x').replace('tracee.aquasec.com/v1beta1', 'aquasecurity.github.io/v1beta1'), /^p.yaml:1:13: apiVersion 'aquasecurity.github.io\/v1beta1' is not supported; write apiVersion: tracee.aquasec.com\/v1beta1$/],
    ['wrong kind', policy('x').replace('kind: Policy', 'kind: TraceePolicy'), /^p.yaml:2:7: kind 'TraceePolicy' is not supported; write kind: Policy$/],
    ['bad name', policy('My_Policy'), /^p.yaml:4:9: policy name 'My_Policy' is not a DNS-1123 subdomain; use lowercase/],
    ['missing name', policy('x').replace('  name: x\n', '  other: 1\n'), /metadata.name must be a non-empty string/],
    ['empty scope', policy('x', undefined, '    []\n').replace('  scope:\n    []', '  scope: []'), /spec.scope is empty; write \[global\]/],
    ['global with others', policy('x', undefined, '    - global\n    - uid=0\n'), /^p.yaml:7:7: global must be the only scope/],
    ['bad scope', policy('x', undefined, '    - uid=root\n'), /^p.yaml:7:11: uid value 'root' is not a number/],
    ['unknown event', policy('x', '    - event: ioprem\n'), /^p.yaml:9:14: unknown event 'ioprem'; did you mean ioperm\?/],
    ['duplicate event', policy('x', '    - event: ioperm\n    - event: io*\n'), /^p.yaml:10:14: policy 'x' already has a rule for ioperm \(spec.rules\[0\]\); merge the filters/],
    ['unknown data field', policy('x', '    - event: ioperm\n      filters:\n        - data.port=1\n'), /^p.yaml:11:16: ioperm has no data field 'port'/],
    ['data filter on a set', policy('x', '    - event: system\n      filters:\n        - data.from=1\n'), /data filter on 'system', which selects \d+ events; give data filters a rule with a single event/],
    ['bad retval', policy('x', '    - event: ioperm\n      filters:\n        - retval!=ok\n'), /^p.yaml:11:19: retval value 'ok' is not a number/],
    ['quoted filter positions count past the quote', policy('x', '    - event: ioperm\n      filters:\n        - "retval!=ok"\n'), /^p.yaml:11:20: /],
    ['block filter positions count from the text below the indicator', policy('x', '    - event: ioperm\n      filters:\n        - >\n          retval!=ok\n'), /^p.yaml:12:19: retval value 'ok/],
    ['filters not a list', policy('x', '    - event: ioperm\n      filters: data.from=1\n'), /spec.rules\[0\].filters must be a list/],
    ['unknown rule key', policy('x', '    - event: ioperm\n      filter: [data.from=1]\n'), /^p.yaml:10:7: unknown key 'filter' in spec.rules\[0\]; did you mean filters\?/],
    ['unknown spec key', policy('x').replace('  rules:', '  rulez: []\n  rules:'), /unknown key 'rulez' in spec; did you mean rules\?/],
    ['bad action', policy('x', '    - event: ioperm\n      actions: [alert]\n'), /action 'alert' is not supported; use log or print/],
    ['no rules', policy('x', '    []\n').replace('  rules:\n    []', '  rules: []'), /spec.rules must be a non-empty list/],
    ['duplicate key', policy('x').replace('kind: Policy', 'kind: Policy\nkind: Policy'), /p.yaml:3:1: Map keys must be unique/],
  ];
  for (const [what, text, message] of errors) it(`refuses ${what}`, () => refused(text, message));
});

describe('loading policy files and directories', () => {
  const dir = mkdtempSync(join(tmpdir(), 'watchpost-policy-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('loads every *.yaml and *.yml of a directory, in name order, and skips other files', () => {
    const d = join(dir, 'set1');
    mkdirSync(d);
    writeFileSync(join(d, 'b.yml'), policy('bee'));
    writeFileSync(join(d, 'a.yaml'), policy('ay'));
    writeFileSync(join(d, 'notes.txt'), 'not a policy');
    mkdirSync(join(d, 'sub.yaml'));
    assert.deepEqual(loadPolicies([d]).map((p) => [p.name, p.origin]), [['ay', join(d, 'a.yaml')], ['bee', join(d, 'b.yml')]]);
  });

  it('loads files and directories together', () => {
    const f = join(dir, 'single.yaml');
    writeFileSync(f, policy('single'));
    assert.deepEqual(loadPolicies([f, join(dir, 'set1')]).map((p) => p.name), ['single', 'ay', 'bee']);
  });

  it('refuses duplicate names, naming both files', () => {
    const d = join(dir, 'dups');
    mkdirSync(d);
    writeFileSync(join(d, '1.yaml'), policy('same'));
    writeFileSync(join(d, '2.yaml'), policy('same'));
    assert.throws(() => loadPolicies([d]), usage(new RegExp(`^${join(d, '2.yaml')}: policy name 'same' is already used in ${join(d, '1.yaml')}; give each policy its own metadata.name$`)));
  });

  it('refuses more than 64 policies', () => {
    const d = join(dir, 'many');
    mkdirSync(d);
    for (let i = 0; i < 65; i++) writeFileSync(join(d, `p${String(i).padStart(2, '0')}.yaml`), policy(`p${i}`));
    assert.throws(() => loadPolicies([d]), usage(/p64.yaml: more than 64 policies loaded; at most 64 can be active/));
  });

  it('refuses a missing path and an empty directory', () => {
    assert.throws(() => loadPolicies([join(dir, 'nope.yaml')]), usage(/^--policy '.*nope.yaml': no such file or directory; pass a policy file or a directory of \*.yaml files$/));
    const d = join(dir, 'empty');
    mkdirSync(d);
    assert.throws(() => loadPolicies([d]), usage(/the directory has no \*.yaml or \*.yml files/));
  });

  it('names the file and line of an error inside a directory', () => {
    const d = join(dir, 'bad');
    mkdirSync(d);
    writeFileSync(join(d, 'x.yaml'), policy('x', '    - event: ioperm\n      filters:\n        - data.turn_on=yes\n'));
    assert.throws(() => loadPolicies([d]), usage(new RegExp(`^${join(d, 'x.yaml')}:11:24: ioperm.data.turn_on value 'yes' is not a number`)));
  });
});
