import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { trace, type TraceStats } from '../../src/trace.js';
import { collectAll } from '../support/collect.js';
import { startSyscaller } from '../support/syscaller.js';

type Backend = 'tracefs' | 'ebpf';

async function storm(backend: Backend, calls: number, bufferKb: number): Promise<{ delivered: number; lost: number; byReason: Record<string, number>; byKind: TraceStats['lostByKind'] }> {
  const sc = await startSyscaller([`iopermstorm:${calls}`]);
  try {
    const t = trace({ backend, events: ['ioperm'], pids: [sc.pid], bufferKb });
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
