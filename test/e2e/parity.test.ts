import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { trace, type SyscallEvent } from '../../src/trace.js';
import { collectAll } from '../support/collect.js';
import { startSyscaller } from '../support/syscaller.js';
import { where32 } from '../support/kernel-features.js';

/** Fields that come from different clocks or reading points on the two backends, and how close they must be. */
const NEAR: Record<string, number> = {
  timestamp: 1e6, // both CLOCK_MONOTONIC at entry, read by different hooks: within 1 ms
  exactTimestamp: 1e6, // the same instant as digits
  threadStartTime: 20e6, // /proc start time has 10 ms ticks; the kernel's is in ns
};

const key = (e: SyscallEvent): string =>
  `${e.hostThreadId}/${e.eventName}/${e.contextFlags.isCompat}/${e.args.map((a) => String(a.value)).join(',')}`;

describe('backend parity: one workload traced by tracefs and eBPF at once gives the same events', () => {
  it('compares every field of every event', async () => {
    const sc = await startSyscaller(where32([
      'ioperm:0x378:3:1',
      'ioperm32:0x64:1:1',
      'thread:iopl:3',
      'thread:iopl32:0',
      'ioctl:0:0x5413:0',
      'userfaultfd:0x800',
      'perf_event_open:0:-1:0:-1:8',
      'shortthread:ioperm:0x3f8:8:0',
    ]));
    const events = ['ioperm', 'iopl', 'ioctl', 'userfaultfd', 'perf_event_open'];
    const a = trace({ backend: 'tracefs', events, pids: [sc.pid] });
    const b = trace({ backend: 'ebpf', events, pids: [sc.pid] });
    try {
      await Promise.all([a.ready, b.ready]);
      const calls = await sc.go();
      const [fromTracefs, fromEbpf] = await Promise.all([collectAll(a, 500), collectAll(b, 500)]);
      assert.equal(fromTracefs.length, calls.length, 'tracefs saw every call');
      assert.equal(fromEbpf.length, calls.length, 'eBPF saw every call');
      const byKey = new Map(fromEbpf.map((e) => [key(e), e]));
      for (const t of fromTracefs) {
        const e = byKey.get(key(t));
        assert.ok(e, `eBPF has no event like ${key(t)}`);
        // eBPF reads perf_event_attr from user memory at entry; tracefs cannot (a documented difference)
        if (e.decoded?.attr !== undefined) {
          const { attr: _attr, ...rest } = e.decoded;
          e.decoded = Object.keys(rest).length ? rest : undefined;
          if (!e.decoded) delete e.decoded;
        }
        assert.deepEqual(Object.keys(e).sort(), Object.keys(t).sort(), `${key(t)}: the same fields`);
        for (const field of Object.keys(t) as Array<keyof SyscallEvent>) {
          const near = NEAR[field];
          if (near !== undefined) {
            assert.ok(Math.abs((t[field] as number) - (e[field] as number)) <= near, `${key(t)}: ${field} ${t[field]} vs ${e[field]}`);
          } else {
            assert.deepEqual(e[field], t[field], `${key(t)}: ${field}`);
          }
        }
      }
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await sc.end();
    }
  });
});
