import assert from 'node:assert/strict';
import { asTraceeEvents } from '../../src/detect/finding-event.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Detector } from '../../src/detect/detector.js';
import { loadRuleFiles } from '../../src/detect/rules/rule-file.js';
import type { SyscallEvent } from '../../src/model/event.js';
import { liveRun, record, removeTree, tempDir } from './live.js';
import { replayJson, runCliUnprivileged } from './replay-cli.js';

const isRoot = process.getuid?.() === 0;
const dir = tempDir('wp-rules-');
after(() => removeTree(dir));

function rulesFile(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text, { mode: 0o644 });
  return file;
}

const CMOS_RULE = `# user rules
- id: R-100
  name: CMOS port opened
  description: A program asked for the CMOS/RTC index port.
  severity: high
  mitre:
    tactic: TA0003 Persistence
    technique: "T1542.001 Pre-OS Boot: System Firmware"
  tags: [hardware, cmos]
  remediation: Check the BIOS settings.
  events: [ioperm]
  condition: >
    ev.args.turn_on == 1 &&
    ev.ports.exists(p, p.first <= 0x70 && p.last >= 0x70)
- id: R-101
  name: Any port granted
  severity: 1
  events: [io*]
  fires: success
  condition: ev.eventName == "iopl" || has(ev.args.turn_on) && ev.args.turn_on == 1
- id: R-102
  name: iopl three
  severity: 0
  events: [ioperm, iopl]
  condition: ev.args.level == 3
`;

const sigIds = (fs: readonly SyscallEvent[]): string[] => fs.map((f) => (f.metadata as { Properties: { signatureID: string } }).Properties.signatureID);

describe('YAML rules with CEL conditions', () => {
  it('a rule written here fires on the live event it describes and not on its neighbour', { skip: !isRoot && 'needs root to trace' }, async () => {
    const file = rulesFile('cmos.yaml', CMOS_RULE);
    const detector = new Detector(loadRuleFiles([file], new Set(['WP-001'])));
    const run = await liveRun(['ioperm:0x70:2:1', 'ioperm:0x378:3:1', 'ioperm:0x70:2:0', 'iopl:3']);
    assert.equal(run.events.length, 4);
    const found = asTraceeEvents(detector.process(run.events, () => false));
    assert.deepEqual(sigIds(found), ['R-100', 'R-102'], 'CMOS rule on the first call only; R-101 (fires: success) silent on -ENOSYS; R-102 on iopl(3)');
    const f = found[0];
    assert.equal(f.eventName, 'cmos_port_opened');
    assert.equal(f.eventId, '6100');
    const props = (f.metadata as { Properties: Record<string, unknown> }).Properties;
    assert.equal(props.Severity, 2);
    assert.equal(props.external_id, 'T1542.001');
    assert.equal(props.Category, 'persistence');
    assert.match(detector.problems()[0] ?? '', /rule R-102 \(.*cmos\.yaml:\d+:\d+\): condition failed on 3 events \(first: No such key: level\)/, 'ioperm events have no level: counted, not fatal');

    const rec = record(run.events, dir, 'cmos.jsonl');
    const r = await replayJson(rec, ['--rules', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.lines.filter((l) => /"signatureID":"R-/.test(l)).map((l) => JSON.parse(l).metadata.Properties.signatureID), ['R-100', 'R-102']);
    assert.match(r.stderr, /rule R-102 .* condition failed on 3 events/);
  });

  it('fires: success rules fire on a granted call', () => {
    const file = rulesFile('granted.yaml', CMOS_RULE);
    const detector = new Detector(loadRuleFiles([file], new Set()));
    const ev = JSON.parse(
      '{"processName":"x","eventName":"iopl","eventId":"172","returnValue":0,"args":[{"name":"level","type":"int32","value":3}],"executable":{"path":""},"container":{"id":"","name":"","image":"","imageDigest":""},"kubernetes":{"podName":"","podNamespace":"","podUID":"","podSandbox":false},"contextFlags":{"containerStarted":false,"isCompat":false},"metadata":{},"matchedPolicies":[],"stackAddresses":[],"containerId":"","userId":0,"timestamp":1,"threadStartTime":0}',
    ) as SyscallEvent;
    assert.deepEqual(sigIds(asTraceeEvents(detector.detect(ev))), ['R-101', 'R-102']);
    assert.deepEqual(sigIds(asTraceeEvents(detector.detect({ ...ev, returnValue: -1 }))), ['R-102']);
  });

  it('a rule may select any syscall of the catalog, not only the ioperm family', { skip: !isRoot && 'argument names come from tracefs format files' }, () => {
    const file = rulesFile('openat.yaml', '- id: R-200\n  name: shadow opened\n  severity: 2\n  events: [openat, ioperm]\n  condition: ev.eventName == "openat" && ev.args.flags == 0\n');
    const detector = new Detector(loadRuleFiles([file], new Set()));
    assert.deepEqual(detector.events(), ['openat', 'ioperm']);
  });

  const bad: [string, string, RegExp][] = [
    ['a CEL syntax error', '- id: R-1\n  name: x\n  severity: 1\n  events: [ioperm]\n  condition: ev.args.turn_on ==\n', /^bad\.yaml:5:32: rule R-1: condition: Unexpected token: EOF; write CEL over ev/],
    ['a field no selected event has, inside a block scalar', '- id: R-2\n  name: x\n  severity: 1\n  events: [ioperm]\n  condition: |\n    ev.eventName == "ioperm" &&\n      ev.args.tun_on == 1\n', /^bad\.yaml:7:15: rule R-2: condition: No such key: tun_on;/],
    ['a type error', '- id: R-3\n  name: x\n  severity: 1\n  events: [iopl]\n  condition: ev.returnValue == "0"\n', /^bad\.yaml:5:14: rule R-3: condition: no such overload: int == string;/],
    ['a condition that is not a bool', '- id: R-4\n  name: x\n  severity: 1\n  events: [iopl]\n  condition: ev.userId\n', /^bad\.yaml:5:14: rule R-4: condition: is a int, not a bool;/],
    ['a misspelt key', '- id: R-5\n  name: x\n  severty: 1\n  events: [iopl]\n  condition: "true"\n', /^bad\.yaml:3:3: rule #1: unknown key 'severty'; did you mean severity\?/],
    ['an unknown event', '- id: R-6\n  name: x\n  severity: 1\n  events: [iopem]\n  condition: "true"\n', /^bad\.yaml:4:12: rule R-6: unknown event 'iopem'; did you mean ioperm/],
    ['a severity out of range', '- id: R-7\n  name: x\n  severity: 5\n  events: [iopl]\n  condition: "true"\n', /^bad\.yaml:3:13: rule R-7: severity '5' is not one of 0-3;/],
    ['a built-in id', '- id: WP-003\n  name: x\n  severity: 1\n  events: [iopl]\n  condition: "true"\n', /^bad\.yaml:1:7: rule WP-003: id 'WP-003' is already used;/],
    ['a bad MITRE technique', '- id: R-8\n  name: x\n  severity: 1\n  mitre: {tactic: TA0005 Defense Evasion, technique: Rootkit}\n  events: [iopl]\n  condition: "true"\n', /^bad\.yaml:4:54: rule R-8: mitre.technique 'Rootkit' is not "ID Name";/],
    ['broken YAML', '- id: R-9\n  name: [x\n', /^bad\.yaml:\d+:\d+: .*; fix the YAML syntax there$/],
  ];
  for (const [what, text, want] of bad) {
    it(`rejects ${what} with one line naming file, rule and position, exit 2`, async () => {
      const file = rulesFile('bad.yaml', text);
      const r = await runCliUnprivileged(['replay', '--rules', file, '/dev/null'], [dir, file]);
      assert.equal(r.code, 2, r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0].replace(`watchpost: ${dir}/`, ''), want);
    });
  }

  it('rejects a bad rules file before the root check when tracing', async () => {
    const file = rulesFile('bad-trace.yaml', '- id: R-1\n  name: x\n  severity: 1\n  events: [ioperm]\n  condition: ev.nope\n');
    const r = await runCliUnprivileged(['trace', '--rules', file], [dir, file]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /bad-trace\.yaml:5:17: rule R-1: condition: No such key: nope;/);
  });

  it('says which rules file cannot be read', async () => {
    const r = await runCliUnprivileged(['replay', '--rules', join(dir, 'missing.yaml'), '/dev/null']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^watchpost: --rules '.*missing\.yaml': cannot read it \(ENOENT\); give the path of a YAML rules file\n$/);
  });
});
