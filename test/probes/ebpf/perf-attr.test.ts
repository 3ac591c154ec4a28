import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FLAG_ENTRY_READ, Rec, RecordDecoder } from '../../../src/probes/ebpf/record.js';
import type { CompletedSyscall } from '../../../src/probes/types.js';
import { EbpfProbe, ebpfSupport } from '../../../src/probes/ebpf/probe.js';
import type { HookKind } from '../../../src/probes/ebpf/syscall-programs.js';
import { type SyscallEvent, trace } from '../../../src/trace.js';
import { startSyscaller } from '../../support/syscaller.js';
import { byName, collect } from './probe-helpers.js';
import { NO_32BIT, where32 } from '../../support/kernel-features.js';

const support = ebpfSupport();

/** type and config of the perf_event_attr bytes the probe read at entry (the catalog entry's entryRead). */
function attrOf(s: CompletedSyscall): { type: number; config: bigint } | null | undefined {
  if (!s.entryStruct) return s.entryStruct;
  const d = new DataView(s.entryStruct.buffer, s.entryStruct.byteOffset, s.entryStruct.byteLength);
  return { type: d.getUint32(0, true), config: d.getBigUint64(8, true) };
}

/** Runs the helper's commands under an eBPF trace of perf_event_open; returns what it saw of that helper. */
async function tracePerf(commands: string[]): Promise<{ events: SyscallEvent[]; rets: number[] }> {
  const helper = await startSyscaller(commands);
  const t = trace({ backend: 'ebpf', events: ['perf_event_open'], pids: [helper.pid] });
  const events: SyscallEvent[] = [];
  try {
    await t.ready;
    const reading = (async () => {
      for await (const ev of t) events.push(ev);
    })();
    const calls = await helper.go();
    for (let i = 0; i < 100 && events.length < calls.length; i++) await new Promise((r) => setTimeout(r, 10));
    await t.stop();
    await reading;
    return { events, rets: calls.map((c) => c.ret) };
  } finally {
    await helper.end();
  }
}

describe('perf_event_open attr read from user memory (eBPF)', { skip: support.ok ? false : support.reason }, () => {
  it('reports the type and config the caller passed, native and 32-bit, and "unread" for a NULL attr', async () => {
    const { events, rets } = await tracePerf(where32(['perfattr:1:0', 'perfattr:0:1', 'perfattr32:1:2', 'perf_event_open:0:0:-1:-1:0']));
    assert.deepEqual(
      events.map((e) => ({ compat: e.contextFlags.isCompat, ret: e.returnValue, attr: e.decoded?.attr })),
      [
        { compat: false, ret: rets[0], attr: 'type=PERF_TYPE_SOFTWARE config=PERF_COUNT_SW_CPU_CLOCK' },
        { compat: false, ret: rets[1], attr: 'type=PERF_TYPE_HARDWARE config=PERF_COUNT_HW_INSTRUCTIONS' },
        ...(NO_32BIT ? [] : [{ compat: true, ret: rets[2], attr: 'type=PERF_TYPE_SOFTWARE config=PERF_COUNT_SW_PAGE_FAULTS' }]),
        { compat: false, ret: -14, attr: 'unread' },
      ],
    );
  });
});

describe('perf_event_open attr on every hook', { skip: support.ok ? false : support.reason }, () => {
  for (const hook of ['btf', 'raw', 'tracepoint'] as HookKind[]) {
    it(`reads it on ${hook}, and other syscalls' records carry no attr`, async () => {
      const compat = hook !== 'tracepoint';
      const call32 = compat && !NO_32BIT;
      const commands = ['perfattr:1:0', 'ioperm:0x80:1:0', ...(call32 ? ['perfattr32:1:2'] : []), 'perf_event_open:0:0:-1:-1:0'];
      const helper = await startSyscaller(commands);
      const probe = new EbpfProbe({ events: [byName('perf_event_open'), byName('ioperm')], compat, excludePids: [process.pid], pids: [helper.pid] }, hook);
      try {
        const calls = await helper.go();
        const got = await collect(probe, () => true, (n) => n >= calls.length);
        assert.deepEqual(
          got.map((s) => ({ event: s.event.name, compat: s.compat, perfAttr: attrOf(s) })),
          [
            { event: 'perf_event_open', compat: false, perfAttr: { type: 1, config: 0n } },
            { event: 'ioperm', compat: false, perfAttr: undefined },
            ...(call32 ? [{ event: 'perf_event_open', compat: true, perfAttr: { type: 1, config: 2n } }] : []),
            { event: 'perf_event_open', compat: false, perfAttr: null },
          ],
        );
      } finally {
        probe.close();
        await helper.end();
      }
    });
  }
});

describe('perf_event_open attr in the ring-buffer record', () => {
  const perf = byName('perf_event_open');
  const record = (flags: number): DataView => {
    const d = new DataView(new ArrayBuffer(Rec.entryReadSize));
    d.setUint32(Rec.id, perf.nr, true);
    d.setUint32(Rec.flags, flags, true);
    d.setUint32(Rec.entryRead, 4, true); // PERF_TYPE_RAW
    d.setBigUint64(Rec.entryRead + 8, 0x1_0000_00c0n, true);
    return d;
  };

  it('copies the bytes the entry asks for (type and config, all 64 bits) when the flag says they were read', () => {
    const s = new RecordDecoder([perf]).decode(record(FLAG_ENTRY_READ), 0)!;
    assert.equal(s.entryStruct?.length, perf.entryRead?.bytes);
    assert.deepEqual(attrOf(s), { type: 4, config: 0x1_0000_00c0n });
  });

  it('gives null without the flag, and no field at all for other events', () => {
    assert.equal(new RecordDecoder([perf]).decode(record(0), 0)?.entryStruct, null);
    const ioperm = byName('ioperm');
    const d = new DataView(new ArrayBuffer(Rec.entryReadSize));
    d.setUint32(Rec.id, ioperm.nr, true);
    assert.equal('entryStruct' in new RecordDecoder([perf, ioperm]).decode(d, 0)!, false);
  });
});
