import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { trace, type TraceStats } from '../../src/trace.js';
import { collectAll } from '../support/collect.js';
import { startSyscaller } from '../support/syscaller.js';

type Backend = 'tracefs' | 'ebpf';

async function storm(backend: Backend, calls: number, bufferKb: number): Promise<{ delivered: number; lost: number; byReason: Record<string, number>; byKind: TraceStats['lostByKind'] }> {
  const sc = await startSyscaller([`iopermstorm:${calls}`]);
  try {
    const t = trace({ backend, events: ['ioperm'], pids: [sc.pid], bufferKb, backlogMb: 0 }); // the kernel buffer alone
    await t.ready;
    await sc.go();
    const got = await collectAll(t, 1500);
    const s = t.stats();
    assert.equal(s.delivered.ioperm, got.length);
    return { delivered: got.length, lost: s.lostEvents, byReason: s.lostByReason, byKind: s.lostByKind };
  } finally {
    await sc.end();
  }
}

describe('every syscall accounted for: delivered + counted lost == issued', () => {
  it('eBPF: exactly, with a ring buffer too small for the storm', async () => {
    const { delivered, lost, byReason, byKind } = await storm('ebpf', 200_000, 64);
    assert.ok(lost > 0, `the storm must overflow the buffer: ${JSON.stringify(byReason)}`);
    assert.ok((byKind['ringbuf-full'] ?? 0) > 0 && byReason['ebpf ringbuf full'] === byKind['ringbuf-full'], `the loss is of kind ringbuf-full, and said so in words: ${JSON.stringify(byKind)}`);
    assert.equal(delivered + lost, 200_000, JSON.stringify(byReason));
  });

  it('tracefs: the lost records become lost syscalls (two records each), within one record of exact', async () => {
    const { delivered, lost, byReason, byKind } = await storm('tracefs', 200_000, 64);
    assert.ok(lost > 0, `the storm must overflow the buffer: ${JSON.stringify(byReason)}`);
    assert.ok((byKind.overrun ?? 0) > 0 && byReason['tracefs ring buffer overrun'] === byKind.overrun, `the loss is of kind overrun, and said so in words: ${JSON.stringify(byKind)}`);
    assert.ok(Math.abs(delivered + lost - 200_000) <= 1, `${delivered} + ${lost} vs 200000: ${JSON.stringify(byReason)}`);
  });
});

/**
 * A burst the consumer does not read while it lasts (the library caller iterates only afterwards): 100,000 calls at
 * about 100 a millisecond, into a kernel buffer that holds a few thousand. The backlog holds what the buffer cannot.
 */
async function unreadBurst(backend: Backend, backlogMb: number): Promise<{ delivered: number; stats: TraceStats }> {
  const sc = await startSyscaller(['iopermpaced:100000:100']);
  try {
    const t = trace({ backend, events: ['ioperm'], pids: [sc.pid], bufferKb: 256, backlogMb });
    try {
      await t.ready;
      await sc.go(); // the whole burst, with nobody reading the trace
      const got = await collectAll(t, 1000);
      return { delivered: got.length, stats: t.stats() };
    } finally {
      await t.stop();
    }
  } finally {
    await sc.end();
  }
}

for (const backend of ['ebpf', 'tracefs'] as const) {
  describe(`${backend}: the backlog holds a burst the pipeline cannot take yet`, () => {
    it('every call delivered, none lost, and the backlog says what it held', async () => {
      const { delivered, stats } = await unreadBurst(backend, 64);
      const why = `delivered ${delivered}, lost ${stats.lostEvents}: ${JSON.stringify(stats.lostByKind)}`;
      assert.ok(!stats.lostByKind.overrun && !stats.lostByKind['ringbuf-full'], `no kernel buffer overflowed: ${why}`);
      // seen once in a full-suite run on tracefs: the last call counted in progress at stop (its exit not paired), not lost to a buffer
      const inProgress = stats.lostByKind['in-progress-at-stop'] ?? 0;
      assert.ok(inProgress <= 1, why);
      assert.equal(delivered + inProgress, 100_000, why);
      assert.equal(stats.lostEvents, inProgress, why);
      assert.ok(stats.backlog, 'stats carry the backlog');
      assert.ok(stats.backlog.peakBytes > 0 && stats.backlog.peakBytes <= 64 << 20, `peak ${stats.backlog.peakBytes}`);
      assert.equal(stats.backlog.bytes, 0, 'emptied once read');
      assert.equal(stats.backlog.limitBytes, 64 << 20);
    });

    it('without a backlog the same burst overflows the kernel buffer, and the loss is counted', async () => {
      const { delivered, stats } = await unreadBurst(backend, 0);
      assert.ok(stats.lostEvents > 0, 'the buffer alone cannot hold the burst');
      assert.equal(stats.backlog?.peakBytes, 0);
      const slack = backend === 'tracefs' ? 1 : 0; // tracefs: lost records become syscalls two at a time
      assert.ok(Math.abs(delivered + stats.lostEvents - 100_000) <= slack, `${delivered} + ${stats.lostEvents}`);
    });
  });
}
