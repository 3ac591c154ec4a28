import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SyscallEvent } from '../../src/model/event.js';
import { falcoJson, toFalco } from '../../src/sinks/falco-format.js';

/** Falco's field meanings (libsinsp): evt.res is text ("SUCCESS" or the errno name), evt.rawres the number, evt.rawtime ns since the epoch. */

const ev = (over: Partial<SyscallEvent>): SyscallEvent =>
  ({
    timestamp: 1732457712345678848, processName: 'probe', hostProcessId: 48211, hostThreadId: 48211, hostParentProcessId: 1, userId: 0,
    executable: { path: '/opt/probe' }, containerId: '', container: { id: '', name: '', image: '', imageDigest: '' },
    kubernetes: { podName: '', podNamespace: '', podUID: '', podSandbox: false }, eventName: 'ioperm', returnValue: 0, hostName: 'h',
    contextFlags: { containerStarted: false, isCompat: false }, metadata: {},
    args: [{ name: 'from', type: 'uint64', value: 0x70n }, { name: 'num', type: 'uint64', value: 2n }, { name: 'turn_on', type: 'int32', value: 1 }],
    ...over,
  }) as SyscallEvent;

describe('Falco payload as Falco writes it', { timeout: 10_000 }, () => {
  it('evt.res is SUCCESS for a call that worked and the errno name for one that failed; evt.rawres is the number', () => {
    const ok = toFalco(ev({ returnValue: 0 })).output_fields;
    assert.equal(ok['evt.res'], 'SUCCESS');
    assert.equal(ok['evt.rawres'], 0);
    const fd = toFalco(ev({ eventName: 'openat', returnValue: 3 })).output_fields;
    assert.deepEqual([fd['evt.res'], fd['evt.rawres']], ['SUCCESS', 3]);
    const denied = toFalco(ev({ returnValue: -1 })).output_fields;
    assert.deepEqual([denied['evt.res'], denied['evt.rawres']], ['EPERM', -1]);
    const nosys = toFalco(ev({ returnValue: -38 })).output_fields;
    assert.deepEqual([nosys['evt.res'], nosys['evt.rawres']], ['ENOSYS', -38]);
  });
  it('time, evt.time and evt.rawtime name the same nanosecond, to the last digit of the kernel\'s time', () => {
    for (const exact of ['1732457712345678901', '1732457712000000000', '1732457712999999999', '1700000000000000001']) {
      const p = toFalco(ev({ timestamp: Number(exact), exactTimestamp: exact }));
      const json = falcoJson(p);
      assert.match(json, new RegExp(`"evt.time":${exact},`), 'printed as Falco prints it: an integer, every digit');
      assert.match(json, new RegExp(`"evt.rawtime":${exact},`));
      assert.equal(p.time.slice(20, 29), exact.slice(-9), `${exact}: the fraction`);
      assert.equal(Date.parse(p.time.slice(0, 19) + 'Z') / 1000, Number(exact.slice(0, -9)), `${exact}: seconds`);
      assert.equal(JSON.parse(json).time, p.time);
    }
    // an event without the exact digits (an older recording): the double's own digits, consistently
    const p = toFalco(ev({ timestamp: 1732457712345678848 }));
    assert.equal(p.output_fields['evt.time'], 1732457712345678848n);
    assert.equal(p.time.slice(20, 29), '345678848');
  });
  it('every evt.arg.* is text, whatever the width of the argument; an unread one is null', () => {
    const f = toFalco(ev({ args: [{ name: 'from', type: 'uint64', value: 0xffffffffffffffffn }, { name: 'num', type: 'uint64', value: 2n }, { name: 'turn_on', type: 'int32', value: 1 }, { name: 'x', type: 'pointer', value: null }] })).output_fields;
    assert.deepEqual([f['evt.arg.from'], f['evt.arg.num'], f['evt.arg.turn_on'], f['evt.arg.x']], ['18446744073709551615', '2', '1', null]);
  });
});
