import assert from 'node:assert/strict';
import { asTraceeEvents } from '../../src/detect/finding-event.js';
import { describe, it } from 'node:test';
import { builtinSignatures } from '../../src/detect/builtins.js';
import { Detector } from '../../src/detect/detector.js';
import { isFinding } from '../../src/detect/finding-event.js';
import { parseRecordedLine } from '../../src/detect/recording.js';
import { setupPolicies } from '../../src/pipeline/policy-stage.js';
import { DEFAULT_EVENTS } from '../../src/catalog/events.js';
import { parseEventsFlags } from '../../src/policy/events-grammar.js';
import { tableView } from '../../src/detect/table-view.js';
import type { SyscallEvent } from '../../src/model/event.js';
import { eventToJson } from '../../src/sinks/json.js';

/** A recorded event (our JSON): ioperm(0x64, 1, 1) refused with -ENOSYS, from a process in a container. */
function event(over: Partial<SyscallEvent> = {}): SyscallEvent {
  const line =
    '{"timestamp":1795544402231179800,"threadStartTime":1795544402000000000,"processorId":2,"processId":1,"cgroupId":9,"threadId":1,"parentProcessId":0,"hostProcessId":8456,"hostThreadId":8456,"hostParentProcessId":8373,"userId":0,"mountNamespace":4026532700,"pidNamespace":4026532703,"processName":"reset","executable":{"path":"/reset"},"hostName":"vm","containerId":"abc","container":{"id":"abc","name":"","image":"","imageDigest":""},"kubernetes":{"podName":"","podNamespace":"","podUID":"","podSandbox":false},"eventId":"173","eventName":"ioperm","matchedPolicies":["cli"],"argsNum":3,"returnValue":-38,"syscall":"ioperm","stackAddresses":[],"contextFlags":{"containerStarted":true,"isCompat":true},"threadEntityId":1,"processEntityId":1,"parentEntityId":2,"args":[{"name":"from","type":"uint64","value":100},{"name":"num","type":"uint64","value":1},{"name":"turn_on","type":"int32","value":1}],"metadata":{},"errno":"ENOSYS"}';
  const r = parseRecordedLine(line);
  assert.equal(r.kind, 'event');
  return { ...(r as { event: SyscallEvent }).event, ...over };
}

describe('findings as events of the stream (Tracee shape)', () => {
  const detector = new Detector(builtinSignatures());
  const out = asTraceeEvents(detector.process([event()]));

  it('puts the findings right after their event, in signature order', () => {
    assert.deepEqual(out.map((e) => e.eventName), ['ioperm', 'io_port_container', 'io_port_critical', 'io_port_unknown_tool']);
    assert.deepEqual(detector.counts(), { 'WP-001': 0, 'WP-002': 1, 'WP-003': 1, 'WP-004': 0, 'WP-005': 1, 'WP-006': 0, 'WP-007': 0 });
  });

  it("keeps the trigger's context, takes the signature's event id and name, its data as args, its metadata as Tracee does", () => {
    const f = out[2];
    const e = out[0];
    for (const k of ['timestamp', 'hostProcessId', 'processId', 'userId', 'processName', 'containerId', 'returnValue', 'syscall', 'matchedPolicies', 'errno'] as const) assert.deepEqual(f[k], e[k], k);
    assert.equal(f.eventId, '6003');
    assert.deepEqual(f.args.map((a) => [a.name, a.type]), [['critical', 'const char *'], ['outcome', 'const char *']]);
    assert.equal(f.argsNum, 2);
    assert.equal(f.ports, undefined, 'the ports were the call args, they are in triggeredBy');
    const m = f.metadata as { Version: string; Description: string; Tags: string[]; Properties: Record<string, unknown>; triggeredBy: Record<string, unknown> };
    assert.equal(m.Version, '1');
    assert.ok(m.Description.length > 40);
    assert.ok(m.Tags.includes('hardware'));
    assert.deepEqual(
      { ...m.Properties, Remediation: undefined },
      { Severity: 3, signatureID: 'WP-003', signatureName: 'Critical I/O ports requested', Fires: 'attempt', Remediation: undefined, Category: 'persistence', Technique: 'Pre-OS Boot: System Firmware', external_id: 'T1542.001', tactic_id: 'TA0003', 'MITRE ATT&CK': 'Persistence: Pre-OS Boot: System Firmware' },
    );
    assert.deepEqual(m.triggeredBy, { id: 173, name: 'ioperm', args: [{ name: 'from', type: 'uint64', value: 100 }, { name: 'num', type: 'uint64', value: 1 }, { name: 'turn_on', type: 'int32', value: 1 }], returnValue: -38 });
    assert.ok(isFinding(f) && !isFinding(e));
  });

  it('serializes through the JSON sink as valid JSON that replays as a finding, not as an event', () => {
    const line = eventToJson(out[2]);
    assert.equal((JSON.parse(line) as { metadata: { Properties: { Severity: number } } }).metadata.Properties.Severity, 3);
    assert.deepEqual(parseRecordedLine(line), { kind: 'finding' });
    assert.deepEqual(asTraceeEvents(detector.detect(out[2])), [], 'findings are not examined again');
  });

  it('every built-in has a description, remediation, a MITRE ATT&CK mapping, and says whether it fires on the attempt or on success', () => {
    const sigs = builtinSignatures();
    assert.equal(new Set(sigs.map((s) => s.metadata.id)).size, 7);
    for (const s of sigs) {
      const m = s.metadata;
      assert.ok(m.description.length > 40 && m.remediation.length > 40, m.id);
      assert.match(m.mitre?.tactic.id ?? '', /^TA\d{4}$/, m.id);
      assert.match(m.mitre?.technique.id ?? '', /^T\d{4}(\.\d{3})?$/, m.id);
      assert.ok(m.fires === 'attempt' || m.fires === 'success');
    }
    assert.deepEqual(sigs.filter((s) => s.metadata.fires === 'success').map((s) => s.metadata.id), ['WP-001'], 'only the "granted" signature needs the kernel to say yes');
  });

  it('shows the table a marker and the severity, coloured only when asked (a terminal)', () => {
    const [container, finding] = tableView(out.slice(1, 3), false);
    assert.match(container.eventName, /^!high io_port_container $/);
    assert.match(finding.eventName, /^!critical io_port_critical $/);
    assert.deepEqual(finding.args.slice(0, 2).map((a) => `${a.name}: ${String(a.value)}`), ['WP-003: Critical I/O ports requested', 'call: ioperm(from=0x64, num=1, turn_on=1) = -38 (32-bit caller)']);
    assert.equal(tableView([out[0]], true)[0], out[0], 'plain events pass unchanged');
    assert.match(tableView([out[2]], true)[0].eventName, /^\x1b\[1;31m!critical io_port_critical\x1b\[0m $/);
  });
});

describe('what a live run traces and shows', () => {
  const detector = new Detector(builtinSignatures());
  const setup = (events: string[] | undefined, extra: { policyFiles?: string[] } = {}) =>
    setupPolicies({ events, detectEvents: detector.events(), ...extra }, DEFAULT_EVENTS, {});
  const names = (s: ReturnType<typeof setup>) => s.events.map((e) => e.name).sort();

  it('adds the events signatures need to the ones asked for, and hides those not asked for', () => {
    const plain = setup(undefined);
    assert.deepEqual(names(plain), ['ioperm', 'iopl', 'perf_event_open', 'userfaultfd']);
    assert.deepEqual([...plain.hidden].sort(), ['perf_event_open', 'userfaultfd']);
    const filtered = setup(['ioperm.data.turn_on=1']);
    assert.deepEqual([...filtered.hidden].sort(), ['iopl', 'perf_event_open', 'userfaultfd']);
    const rule = filtered.specs[0].rules.find((r) => r.event === 'ioperm');
    assert.equal(rule?.conditions.length, 1, 'the filter stays on the asked-for event (not widened by the signatures)');
    const excluding = setup(['-iopl', '-userfaultfd']);
    assert.deepEqual(names(excluding), ['ioperm', 'perf_event_open'], 'the defaults minus the exclusions, plus what signatures need and were not excluded');
  });
});
