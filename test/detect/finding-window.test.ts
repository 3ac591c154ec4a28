import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { builtinSignatures } from '../../src/detect/builtins.js';
import { Detector } from '../../src/detect/detector.js';
import { asTraceeEvents, isFinding, repeatsOf } from '../../src/detect/finding-event.js';
import { FindingWindow } from '../../src/detect/finding-window.js';
import { parseRecordedLine } from '../../src/detect/recording.js';
import type { Finding } from '../../src/model/finding.js';
import type { StreamItem } from '../../src/model/stream.js';
import { tableView } from '../../src/detect/table-view.js';
import type { SyscallEvent } from '../../src/model/event.js';
import { eventToJson } from '../../src/sinks/json.js';
import { ioperm } from '../support/synthetic-event.js';

/** Repeats of a finding inside a window: the first at once, the rest one summary with the exact count. */

const S = 1e9;
const T0 = 1_700_000_000_000_000_000;
const WINDOW = 10 * S;

/** Only WP-005 (port access by an unknown tool): ioperm(0x378, 3, 1) refused with ENOSYS fires nothing else. */
const wp005 = (): Detector => new Detector(builtinSignatures().filter((s) => s.metadata.id === 'WP-005'), { windowNs: WINDOW });

/** ioperm(0x378, 3, 1) = -ENOSYS by pid 4242 at T0 + ms milliseconds, with the exact digits as traced live. */
const call = (ms: number, over: Partial<SyscallEvent> = {}): SyscallEvent =>
  ioperm(0x378, 3, 1, { timestamp: T0 + ms * 1e6, exactTimestamp: String(BigInt(T0) + BigInt(ms) * 1_000_000n), returnValue: -38, ...over });

/** The detector's stream as outputs print it (findings in Tracee's shape). */
const run = (d: Detector, evs: SyscallEvent[]): SyscallEvent[] => asTraceeEvents(d.process(evs));
const flush = (d: Detector): SyscallEvent[] => asTraceeEvents(d.flush());
const tick = (d: Detector, now: number): SyscallEvent[] => {
  const out: StreamItem[] = [];
  d.advance(now, out);
  return asTraceeEvents(out);
};

const findings = (out: readonly SyscallEvent[]): SyscallEvent[] => out.filter(isFinding);
const summaries = (out: readonly SyscallEvent[]): { count: number; spanNs: bigint }[] => out.map(repeatsOf).filter((r) => r !== undefined);

describe('the finding window', () => {
  it('emits the first finding at once, holds its repeats back, and summarises them with the exact count at flush', () => {
    const d = wp005();
    const first = run(d, [call(0)]);
    assert.deepEqual(first.map((e) => e.eventName), ['ioperm', 'io_port_unknown_tool'], 'the first finding right after its event');
    const rest = run(d, Array.from({ length: 999 }, (_, i) => call(i + 1)));
    assert.equal(findings(rest).length, 0, 'repeats held back');
    assert.equal(rest.length, 999, 'the events themselves still flow');
    assert.deepEqual(d.windowStats(), { windowSeconds: 10, findingsSuppressed: 999, summaries: 0, openWindows: 1 });
    const end = flush(d);
    assert.equal(end.length, 1);
    assert.deepEqual(summaries(end), [{ count: 999, spanNs: 999_000_000n }]);
    assert.equal(end[0].timestamp, T0 + 999e6, "the summary is the last repeat's finding");
    assert.deepEqual(d.counts()['WP-005'], 1000, 'counts() keeps the true number of findings');
    assert.deepEqual(d.windowStats(), { windowSeconds: 10, findingsSuppressed: 999, summaries: 1, openWindows: 0 });
    assert.deepEqual(flush(d), [], 'nothing left after a flush');
  });

  it('closes a window when the events’ time passes its end: the summary comes before the event that crossed it, then a new window opens', () => {
    const d = wp005();
    run(d, [call(0), call(3000), call(9000)]);
    const later = run(d, [call(10_001)]);
    assert.equal(later.length, 3);
    assert.deepEqual(summaries([later[0]]), [{ count: 2, spanNs: 9_000_000_000n }], 'the summary first: its window ended before this event');
    assert.equal(later[1].eventName, 'ioperm');
    assert.equal(later[2].eventName, 'io_port_unknown_tool', 'a repeat after the window is news again: shown at once');
    assert.equal(repeatsOf(later[2]), undefined);
    assert.deepEqual(flush(d), [], 'the new window has no repeats: nothing to summarise');
  });

  it('a window with no repeats closes silently (the finding shown at once said it all)', () => {
    const d = wp005();
    run(d, [call(0)]);
    assert.deepEqual(tick(d, T0 + 11 * S), []);
    assert.deepEqual(d.windowStats(), { windowSeconds: 10, findingsSuppressed: 0, summaries: 0, openWindows: 0 });
  });

  it('tick(now) closes windows without an event coming, on the events’ clock', () => {
    const d = wp005();
    run(d, [call(0), call(1)]);
    assert.deepEqual(tick(d, T0 + 9 * S), [], 'not yet');
    assert.deepEqual(summaries(tick(d, T0 + 10 * S)), [{ count: 1, spanNs: 1_000_000n }]);
  });

  it('does not merge other arguments, another result, another process or another start of the same pid', () => {
    const d = wp005();
    const out = run(d, [
      call(0),
      call(1, { args: ioperm(0x379, 3, 1).args }),
      call(2, { returnValue: -1 }),
      call(3, { hostProcessId: 4243, processEntityId: 2 }),
      call(4, { processEntityId: 3 }), // the pid reused by a new process
      call(5, { contextFlags: { containerStarted: false, isCompat: true } }),
      call(6), // the only repeat
    ]);
    assert.equal(findings(out).length, 6);
    assert.deepEqual(summaries(flush(d)), [{ count: 1, spanNs: 6_000_000n }]);
  });

  it('keeps at most the cap of windows open: past it the oldest closes early, with its summary', () => {
    const w = new FindingWindow(WINDOW, 2);
    const sig = builtinSignatures().find((s) => s.metadata.id === 'WP-005')!;
    const finding = (ms: number, pid: number): Finding => ({ signature: sig.metadata, event: call(ms, { hostProcessId: pid }), data: {} });
    const items: StreamItem[] = [];
    const out = { get length() { return items.length; } };
    const at = (i: number): SyscallEvent => asTraceeEvents([items[i]])[0];
    w.add(finding(0, 1), items);
    w.add(finding(1, 1), items);
    w.add(finding(2, 2), items);
    assert.equal(out.length, 2);
    w.add(finding(3, 3), items); // a third key: pid 1's window gives way
    assert.equal(out.length, 4);
    assert.equal(at(2).hostProcessId, 1);
    assert.deepEqual(repeatsOf(at(2)), { count: 1, spanNs: 1_000_000n });
    assert.equal(at(3).hostProcessId, 3);
    assert.deepEqual(w.stats(), { windowSeconds: 10, findingsSuppressed: 1, summaries: 1, openWindows: 2 });
  });

  it('off (no window): every finding is emitted', () => {
    const d = new Detector(builtinSignatures().filter((s) => s.metadata.id === 'WP-005'));
    assert.equal(findings(run(d, Array.from({ length: 100 }, (_, i) => call(i)))).length, 100);
    assert.deepEqual(flush(d), []);
    assert.equal(d.windowStats(), undefined);
  });

  it('a summary is a finding in Tracee shape: its data, then repeats and the first and last timestamps to the nanosecond', () => {
    const d = wp005();
    run(d, [call(0, { exactTimestamp: '1700000000000000001' }), call(5, { exactTimestamp: '1700000000005000003' })]);
    const [summary] = flush(d);
    const json = JSON.parse(eventToJson(summary)) as { eventName: string; timestamp: number; args: { name: string; type: string; value: unknown }[]; metadata: { Properties: { signatureID: string } } };
    assert.equal(json.eventName, 'io_port_unknown_tool');
    assert.equal(json.metadata.Properties.signatureID, 'WP-005');
    assert.deepEqual(json.args.slice(-3), [
      { name: 'repeats', type: 'int', value: 1 },
      { name: 'first_timestamp', type: 'unsigned long', value: 1700000000000000000 },
      { name: 'last_timestamp', type: 'unsigned long', value: 1700000000005000000 },
    ]);
    assert.match(eventToJson(summary), /"first_timestamp","type":"unsigned long","value":1700000000000000001\}.*"value":1700000000005000003\}/, 'exact digits in the JSON text');
    assert.deepEqual(parseRecordedLine(eventToJson(summary)), { kind: 'finding' }, 'a recording holding it replays it as a finding, not an event');
  });

  it('the table shows a summary as one line ending with the count and the span', () => {
    const d = wp005();
    run(d, Array.from({ length: 200 }, (_, i) => call(i * 2)));
    const [row] = tableView(flush(d), false);
    const args = row.args.map((a) => `${a.name}: ${String(a.value)}`);
    assert.match(row.eventName, /^!high io_port_unknown_tool/);
    assert.equal(args[1], 'call: ioperm(from=0x378, num=3, turn_on=1) = -38');
    assert.equal(args.at(-1), 'repeated: ×199 more in 398 ms');
    assert.ok(!args.some((a) => a.startsWith('first_timestamp')), 'the raw span args are folded into that one');
  });
});
