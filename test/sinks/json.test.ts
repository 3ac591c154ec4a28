import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findEvent } from '../../src/catalog/events.js';
import { EpochClock } from '../../src/pipeline/clock.js';
import { EventBuilder } from '../../src/pipeline/to-event.js';
import { eventToJson } from '../../src/sinks/json.js';
import { eventToRow } from '../../src/sinks/table.js';

const TRACEE_FIELDS = [
  'timestamp', 'threadStartTime', 'processorId', 'processId', 'cgroupId', 'threadId', 'parentProcessId', 'hostProcessId',
  'hostThreadId', 'hostParentProcessId', 'userId', 'mountNamespace', 'pidNamespace', 'processName', 'executable', 'hostName',
  'containerId', 'container', 'kubernetes', 'eventId', 'eventName', 'matchedPolicies', 'argsNum', 'returnValue', 'syscall',
  'stackAddresses', 'contextFlags', 'threadEntityId', 'processEntityId', 'parentEntityId', 'args', 'metadata',
];

function sample() {
  const builder = new EventBuilder(new EpochClock(), () => ({
    tid: 11,
    pid: 10, ppid: 1, uid: 0, comm: 'x"q', exePath: '/bin/x', startTime: 5, mntns: 4026531841, pidns: 4026531836, nsPid: 10, nsTid: 11, nsPpid: 1,
  }));
  return builder.build({ event: findEvent('ioperm')!, monoNs: 1e9, cpu: 1, tid: 11, compat: true, args: [0xffff_ffff_ffff_fff0n, 8n, 1], ret: -38 });
}

describe('JSON output', () => {
  it('has every Tracee field, in order, with eventId as a string and args as {name,type,value}', () => {
    const obj = JSON.parse(eventToJson(sample())) as Record<string, unknown>;
    assert.deepEqual(Object.keys(obj).slice(0, TRACEE_FIELDS.length), TRACEE_FIELDS);
    assert.deepEqual(Object.keys(obj).slice(TRACEE_FIELDS.length), ['errno', 'ports'], 'Watchpost additions come after');
    assert.equal(obj.errno, 'ENOSYS');
    assert.equal(obj.eventId, '173');
    assert.equal(obj.returnValue, -38);
    assert.deepEqual(obj.contextFlags, { containerStarted: false, isCompat: true });
    assert.deepEqual((obj.args as Array<{ name: string; type: string }>).map((a) => [a.name, a.type]), [['from', 'uint64'], ['num', 'uint64'], ['turn_on', 'int32']]);
    assert.equal(obj.processName, 'x"q');
  });

  it('prints uint64 values exactly, beyond 2^53', () => {
    assert.match(eventToJson(sample()), /"name":"from","type":"uint64","value":18446744073709551600\}/);
  });

  it('table row shows a 32-bit call and hex ports', () => {
    const row = eventToRow(sample());
    assert.match(row, /ioperm\(32\)\s+from: 0xfffffffffffffff0, num: 8, turn_on: 1 \[no ports\]$/);
    assert.match(row, /-38 ENOSYS/);
  });
});
