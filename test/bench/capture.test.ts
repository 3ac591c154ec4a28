import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CapturedPages, captureStorm, loadCapture } from '../../bench/capture.js';
import { topSelfTime } from '../../bench/cpu-profile.js';
import { drainRecords } from '../../src/probes/ebpf/drain.js';
import { ebpfSupport } from '../../src/probes/ebpf/probe.js';
import { RecordDecoder } from '../../src/probes/ebpf/record.js';
import { TracefsDecoder } from '../../src/probes/tracefs/decoder.js';
import type { CompletedSyscall } from '../../src/probes/types.js';
import { NO_32BIT, where32 } from '../support/kernel-features.js';
import { startSyscaller, type ObservedCall } from '../support/syscaller.js';
import { byName, expected, seen } from '../probes/ebpf/probe-helpers.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Decodes a capture with a fresh decoder of the backend, as the capacity replay does. */
function replay(dir: string): CompletedSyscall[] {
  const { meta, source } = loadCapture(dir);
  const events = meta.events.map(byName);
  const out: CompletedSyscall[] = [];
  const emit = (s: CompletedSyscall): void => void out.push(s);
  if (meta.backend === 'ebpf') {
    const decoder = new RecordDecoder(events);
    while (!source.done) drainRecords(source as Parameters<typeof drainRecords>[0], decoder, emit, () => {}, meta.lifecycle, 7);
  } else {
    const t = meta.tracefs!;
    const decoder = new TracefsDecoder(events, t.handlers, t.cpus.length, new Set(t.kernelFiltered));
    while (!source.done) decoder.drain(source as CapturedPages, emit, () => {}, 7);
    decoder.settleAll(emit);
  }
  return out;
}

describe('capacity benchmark captures', () => {
  for (const backend of ['ebpf', 'tracefs'] as const) {
    const skip = process.getuid?.() !== 0 ? 'needs root' : backend === 'ebpf' && !ebpfSupport().ok ? 'needs eBPF' : false;
    it(`replays a ${backend} capture to the calls the helper made, 32-bit ones included where the kernel runs them`, { skip }, async () => {
      const commands = where32(['ioperm:0x70:2:1', 'iopl:3', 'thread:ioperm:0x378:3:0', 'ioperm32:0x60:1:1', 'iopl32:0', 'ioperm:0x80:1:1']);
      const helper = await startSyscaller(commands);
      const dir = mkdtempSync(join(tmpdir(), 'watchpost-capture-test-'));
      dirs.push(dir);
      try {
        let calls: Promise<ObservedCall[]> = Promise.resolve([]);
        const run = {
          pid: helper.pid,
          go: () => void (calls = helper.go()),
          report: async () => ({ workload: 'syscaller', syscalls: (await calls).length, ns: 0 }),
        };
        const options = { events: [byName('ioperm'), byName('iopl')], compat: !NO_32BIT, excludePids: [process.pid], pids: [helper.pid], followForks: true, lifecycle: true };
        const meta = await captureStorm(dir, backend, options, run, 'ioperm');
        assert.equal(meta.issued, commands.length);
        assert.equal(meta.lost.events, 0);
        const made = (await calls).map(expected);
        const got = replay(dir).filter((s) => s.tid === helper.pid || made.some((m) => m.tid === s.tid)).map(seen);
        const key = (x: ReturnType<typeof seen>): string => JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
        assert.deepEqual(got.map(key).sort(), made.map(key).sort());
      } finally {
        await helper.end();
      }
    });
  }

  it('serves captured tracefs pages one read round at a time, CPU by CPU, as the live readers would', () => {
    // pages: round 1 on CPUs 0 and 1, round 2 on CPU 1 only; each page's first byte says which it is
    const pageSize = 32;
    const pages = [
      [1, 0, 0xa1],
      [1, 1, 0xb1],
      [1, 1, 0xb2],
      [2, 1, 0xb3],
    ];
    const data = Buffer.alloc(pages.length * (16 + pageSize));
    pages.forEach(([round, cpu, mark], i) => {
      const at = i * (16 + pageSize);
      data.writeUInt32LE(round, at);
      data.writeUInt32LE(cpu, at + 4);
      data.writeUInt32LE(pageSize, at + 8);
      data[at + 16] = mark;
    });
    const source = new CapturedPages(data, [0, 1], pageSize);
    const buf = Buffer.alloc(pageSize);
    const read = (i: number): number | undefined => (source.readPage(i, buf, 0) > 0 ? buf[0] : undefined);
    assert.deepEqual([read(0), read(0), read(1), read(1), read(1)], [0xa1, undefined, 0xb1, 0xb2, undefined]);
    assert.deepEqual([read(0), read(1), read(1)], [undefined, 0xb3, undefined]);
    assert.equal(source.done, true);
    source.rewind();
    assert.equal(read(0), 0xa1);
  });

  it('sums self time per function from a V8 profile, naming native code by its caller and leaving idle out', () => {
    const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber, columnNumber: 0 });
    const profile = {
      nodes: [
        { id: 1, callFrame: frame('(root)'), children: [2, 4, 5] },
        { id: 2, callFrame: frame('encode', 'file:///x/dist/src/sinks/json.js', 9), children: [3] },
        { id: 3, callFrame: frame('') },
        { id: 4, callFrame: frame('(idle)') },
        { id: 5, callFrame: frame('encode', 'file:///x/dist/src/sinks/json.js', 9) },
      ],
      // a sample's time is the next delta: 2 → 100 µs, 3 → 300, 4 → 600 (idle), 5 → 100 + the last sample's 0
      samples: [2, 3, 4, 5, 5],
      timeDeltas: [0, 100, 300, 600, 100],
    };
    const { totalMs, top } = topSelfTime(profile, 10);
    assert.equal(totalMs, 0.5);
    assert.deepEqual(
      top.map((t) => [t.fn, t.where, t.selfMs, t.pct]),
      [
        ['(native, called by encode)', '', 0.3, 60],
        ['encode', 'dist/src/sinks/json.js:10', 0.2, 40],
      ],
    );
  });
});
