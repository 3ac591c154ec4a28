import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as turn } from 'node:timers/promises';
import { ProcessTree } from '../../src/enrich/process-tree.js';
import { listProcesses, readProcInfo } from '../../src/enrich/proc.js';

describe('process tree seeding', () => {
  it('scans /proc after start-up returns, and leaves out a process whose exit the probes reported first', async () => {
    const reads: number[] = [];
    const tree = new ProcessTree((tid) => {
      reads.push(tid);
      return readProcInfo(tid);
    });
    const live = listProcesses().length;
    tree.seed();
    assert.equal(reads.length, 0, 'seed() returned before reading any process');
    // the probes report our own process gone before the scan reaches it (a zombie would still be in /proc)
    tree.onTask({ kind: 'exit', monoNs: 1, tid: process.pid, groupDead: true });
    for (let i = 0; i < live && reads.length < live - 5; i++) await turn();
    for (let i = 0; i < 20; i++) await turn();
    assert.ok(reads.length >= live - 5, `read ${reads.length} of about ${live} processes`);
    assert.ok(reads.includes(1), 'pid 1 was read');
    assert.ok(!reads.includes(process.pid), 'the exited process was not read');
  });
});
