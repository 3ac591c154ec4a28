import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isFindingItem, isEventItem, type StreamItem } from '../../src/model/stream.js';
import { trace } from '../../src/trace.js';
import { startSyscaller } from '../support/syscaller.js';

const dir = mkdtempSync(join(tmpdir(), 'wp-trace-api-'));
after(() => rmSync(dir, { recursive: true, force: true }));

for (const backend of ['ebpf', 'tracefs'] as const) {
  describe(`trace() runs the whole path, detections and outputs included (${backend})`, () => {
    it('iterated with detect: each finding right after its event, typed as a finding', async () => {
      const sc = await startSyscaller(['ioperm:0x64:1:1', 'iopl:0']);
      const t = trace({ backend, pids: [sc.pid], detect: true });
      const items: StreamItem[] = [];
      try {
        await t.ready;
        await sc.go();
        const reading = (async () => {
          for await (const item of t) items.push(item);
        })();
        await new Promise((r) => setTimeout(r, 300));
        await t.stop();
        await reading;
      } finally {
        await t.stop();
        await sc.end();
      }
      const events = items.filter(isEventItem);
      assert.deepEqual(events.map((e) => e.eventName), ['ioperm', 'iopl']);
      const findings = items.filter(isFindingItem);
      assert.ok(findings.length > 0, 'ioperm(0x64) is a critical port: some signature fires');
      for (const f of findings) {
        assert.equal(f.event.eventName, 'ioperm', `${f.signature.id} fired on the ioperm call`);
        assert.ok(items.indexOf(f) > items.indexOf(f.event), `${f.signature.id} comes after its event`);
      }
      assert.deepEqual(t.findingCounts()[findings[0].signature.id] > 0, true);
    });

    it('with outputs: writes events and findings (in Tracee shape) to the file by itself, and finished resolves after the flush', async () => {
      const file = join(dir, `out-${backend}.json`);
      const copy = join(dir, `copy-${backend}.json`);
      const sc = await startSyscaller(['ioperm:0x64:1:1']);
      const t = trace({ backend, pids: [sc.pid], detect: true, outputs: [`json:${file},${copy}`] }); // Tracee's json:/a,/b
      try {
        await t.ready;
        await sc.go();
        await new Promise((r) => setTimeout(r, 300));
      } finally {
        await t.stop();
        await sc.end();
      }
      await t.finished;
      const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { eventName: string; metadata?: { Properties?: { signatureID?: string } } });
      assert.equal(lines[0].eventName, 'ioperm');
      const ids = lines.slice(1).map((l) => l.metadata?.Properties?.signatureID);
      assert.ok(ids.length > 0 && ids.every((id) => typeof id === 'string' && id.startsWith('WP-')), JSON.stringify(ids));
      assert.deepEqual(t.outputStats().map((o) => [o.sent, o.dropped]), [[lines.length, 0], [lines.length, 0]]);
      assert.equal(readFileSync(copy, 'utf8'), readFileSync(file, 'utf8'), 'both files of one spec get the stream');
      await assert.rejects(async () => {
        for await (const _ of t) break;
      }, /writes to its outputs/);
    });

    it('with outputs, a stop hands the whole kernel backlog to the outputs in parts: every call written once, none lost', async () => {
      const file = join(dir, `backlog-${backend}.json`);
      const calls = 5000; // several queues' worth (DEFAULT_QUEUE_LIMIT each), all still in the kernel buffer at stop
      const sc = await startSyscaller([`iopermstorm:${calls}`]);
      const t = trace({ backend, pids: [sc.pid], pollMs: 600_000, outputs: [`json:${file}`] }); // no read before the stop
      try {
        await t.ready;
        await sc.go(); // resolves once every call was made
      } finally {
        await t.stop();
        await sc.end();
      }
      await t.finished;
      const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { eventName: string; hostProcessId: number });
      assert.equal(lines.length, calls);
      assert.ok(lines.every((l) => l.eventName === 'ioperm' && l.hostProcessId === sc.pid));
      const stats = t.stats();
      assert.equal(stats.delivered.ioperm, calls);
      assert.equal(stats.lostEvents, 0);
    });

    it('a stop whose backlog the filters drop entirely still ends (no read leaves the outputs a batch to wait for)', async () => {
      const file = join(dir, `filtered-${backend}.json`);
      const calls = 5000;
      const sc = await startSyscaller([`iopermstorm:${calls}`]);
      const t = trace({ backend, events: ['ioperm.retval=12345'], pids: [sc.pid], pollMs: 600_000, outputs: [`json:${file}`] }); // a return value no call has: filtered in user space
      let timer: NodeJS.Timeout | undefined;
      let ended = false;
      try {
        await t.ready;
        await sc.go();
      } finally {
        const stopped = t.stop().then(() => t.finished).then(() => true);
        ended = await Promise.race([stopped, new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), 20_000)))]);
        clearTimeout(timer);
        await sc.end();
      }
      assert.ok(ended, 'stopped and finished within 20 s');
      assert.equal(readFileSync(file, 'utf8'), '');
      assert.equal(t.stats().filtered.ioperm, calls);
    });
  });
}

describe('trace() that cannot start', () => {
  it('rejects ready and finished alike (nothing to wait for)', async () => {
    const t = trace({ events: ['no_such_event'] });
    await assert.rejects(t.ready, /unknown event|no_such_event/);
    await assert.rejects(t.finished, /unknown event|no_such_event/);
  });
});
