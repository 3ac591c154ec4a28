import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { builtinSignatures } from '../../src/detect/builtins.js';
import { findingToEvent } from '../../src/detect/finding-event.js';
import { findingsOf } from '../../src/detect/signature.js';
import type { SyscallEvent } from '../../src/model/event.js';
import { toFalco } from '../../src/sinks/falco-format.js';
import { formatSyslog } from '../../src/sinks/syslog-output.js';
import { iopermEvent } from './support/events.js';

/** What the built-in signatures make of one call, as the events the outputs receive. */
function findingsFor(ev: SyscallEvent): SyscallEvent[] {
  return builtinSignatures()
    .filter((s) => s.events.includes(ev.eventName))
    .flatMap((s) => findingsOf(s, ev))
    .map(findingToEvent);
}

describe('findings through the outputs (built-in signatures, not hand-made metadata)', () => {
  const findings = findingsFor(iopermEvent(0x64, { returnValue: 0, processName: 'kbdreset', executable: { path: '/tmp/kbdreset' } }));

  it('a granted ioperm on the keyboard controller makes findings of several severities', () => {
    const severities = new Set(findings.map((f) => (f.metadata as { Properties: { Severity: number } }).Properties.Severity));
    assert.ok(findings.length >= 2 && severities.size >= 2, `findings ${findings.map((f) => f.eventName).join(', ')}`);
  });

  it('syslog: each finding carries its severity in PRI (low..critical -> notice..critical) and its event name as MSGID', () => {
    for (const f of findings) {
      const sev = (f.metadata as { Properties: { Severity: number } }).Properties.Severity;
      const m = /^<(\d+)>1 \S+ \S+ watchpost \d+ (\S+) - /.exec(formatSyslog(f, 4))!;
      assert.equal(Number(m[1]), 4 * 8 + [5, 4, 3, 2][sev], `${f.eventName} severity ${sev}`);
      assert.equal(m[2], f.eventName);
    }
  });

  it('falco: rule is the signature name, priority from the severity, MITRE tags kept', () => {
    for (const f of findings) {
      const meta = f.metadata as { Tags: string[]; Properties: { Severity: number; signatureName: string } };
      const p = toFalco(f);
      assert.equal(p.rule, meta.Properties.signatureName);
      assert.equal(p.priority, ['Notice', 'Warning', 'Error', 'Critical'][meta.Properties.Severity]);
      for (const t of meta.Tags) assert.ok(p.tags.includes(t));
      assert.equal(p.output_fields['proc.name'], 'kbdreset');
    }
  });
});
