import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findEvent } from '../../src/catalog/events.js';
import { ProcessTree } from '../../src/enrich/process-tree.js';
import { readProcInfo } from '../../src/enrich/proc.js';
import { EpochClock } from '../../src/pipeline/clock.js';
import { EventBuilder } from '../../src/pipeline/to-event.js';

describe('steady state reads no /proc file per event', () => {
  it('asks /proc once per thread, however many events it makes, and again only after exec', () => {
    const reads: number[] = [];
    const tree = new ProcessTree((tid) => {
      reads.push(tid);
      return readProcInfo(tid);
    });
    const builder = new EventBuilder(new EpochClock(), (tid) => tree.lookup(tid));
    const ioctl = findEvent('ioctl')!;
    for (let i = 0; i < 1000; i++) {
      const ev = builder.build({ event: ioctl, monoNs: 1e9 + i, cpu: 0, tid: process.pid, compat: false, args: [0, 0x5413n, 0n], ret: -25 });
      assert.equal(ev.processName, 'node');
    }
    assert.deepEqual(reads, [process.pid, process.ppid], 'the thread, then its parent (for parentEntityId), once each');
    tree.onTask({ kind: 'exec', monoNs: 2e9, tid: process.pid, oldTid: process.pid, filename: '/usr/bin/node' });
    const after = builder.build({ event: ioctl, monoNs: 3e9, cpu: 0, tid: process.pid, compat: false, args: [0, 0x5413n, 0n], ret: -25 });
    assert.equal(after.executable.path, process.execPath);
    assert.ok(reads.length <= 3, `reads after exec: ${reads.length}`);
  });
});
