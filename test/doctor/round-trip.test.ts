import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findEvent } from '../../src/catalog/events.js';
import { ia32Emulation, parseKernelConfig } from '../../src/doctor/kernel-config.js';
import { compareCalls, roundTrip } from '../../src/doctor/round-trip.js';
import type { TriggerCall, TriggerResult } from '../../src/doctor/trigger-child.js';
import type { SyscallEvent } from '../../src/model/event.js';
import { NO_32BIT } from '../support/kernel-features.js';

const ioperm = findEvent('ioperm')!;
const call: TriggerCall = { name: 'ioperm', abi: 'native', nr: 173, args: [0x378, 3, 1], close: false };
const result: TriggerResult = { name: 'ioperm', abi: 'native', tid: 42, ret: -38 };

function reported(over: { args?: SyscallEvent['args']; returnValue?: number; isCompat?: boolean; tid?: number } = {}): SyscallEvent {
  return {
    eventName: 'ioperm',
    hostThreadId: over.tid ?? 42,
    returnValue: over.returnValue ?? -38,
    contextFlags: { containerStarted: false, isCompat: over.isCompat ?? false },
    args: over.args ?? [
      { name: 'from', type: 'uint64', value: 0x378n },
      { name: 'num', type: 'uint64', value: 3n },
      { name: 'turn_on', type: 'int32', value: 1 },
    ],
  } as SyscallEvent;
}

describe("doctor's round trip", () => {
  it('accepts one event with the args, thread, ABI and return value of the call', () => {
    assert.deepEqual(compareCalls([ioperm], [call], [result], [reported()]), { problems: [], seen: [{ event: 'ioperm', abi: 'native', ret: -38 }] });
  });

  it('fails on a missing event, a wrong arg, a wrong return value, a wrong ABI, and a duplicate', () => {
    const problems = (got: SyscallEvent[]): string[] => compareCalls([ioperm], [call], [result], got).problems;
    assert.deepEqual(problems([]), ['ioperm(888, 3, 1) = -38 ENOSYS not seen']);
    assert.deepEqual(problems([reported({ args: [{ name: 'from', type: 'uint64', value: 0x379n }, { name: 'num', type: 'uint64', value: 3n }, { name: 'turn_on', type: 'int32', value: 1 }] })]), [
      'ioperm(888, 3, 1) = -38 ENOSYS not seen; saw ioperm(889, 3, 1)',
    ]);
    assert.deepEqual(problems([reported({ returnValue: -1 })]), ['ioperm(888, 3, 1): the child got -38 ENOSYS, Watchpost reported -1 EPERM']);
    assert.deepEqual(problems([reported({ isCompat: true })]), ['ioperm(888, 3, 1) = -38 ENOSYS not seen']);
    assert.deepEqual(problems([reported({ tid: 43 })]), ['ioperm(888, 3, 1) = -38 ENOSYS not seen']);
    assert.deepEqual(problems([reported(), reported()]), ['ioperm(888, 3, 1) reported 2 times']);
  });

  it('knows when 64-bit processes can make int $0x80 calls', () => {
    const on = parseKernelConfig('CONFIG_IA32_EMULATION=y\n', 'x');
    const off = parseKernelConfig('# CONFIG_IA32_EMULATION is not set\n', 'x');
    const defaultOff = parseKernelConfig('CONFIG_IA32_EMULATION=y\nCONFIG_IA32_EMULATION_DEFAULT_DISABLED=y\n', 'x');
    assert.equal(ia32Emulation(on, ''), process.arch === 'x64');
    assert.equal(ia32Emulation(on, 'quiet ia32_emulation=0'), false);
    assert.equal(ia32Emulation(off, ''), false);
    assert.equal(ia32Emulation(defaultOff, ''), false);
    assert.equal(ia32Emulation(defaultOff, 'ia32_emulation=1'), process.arch === 'x64');
  });

  for (const backend of ['tracefs', 'ebpf'] as const) {
    it(`sees a live child's native and (where the kernel runs them) 32-bit calls on the ${backend} backend`, async () => {
      const r = await roundTrip(backend, [ioperm, findEvent('userfaultfd')!], { compat: !NO_32BIT });
      assert.equal(r.result.status, 'ok', r.result.detail);
      assert.deepEqual(
        r.seen.map((s) => [s.event, s.abi]),
        [['ioperm', 'native'], ['userfaultfd', 'native'], ...(NO_32BIT ? [] : [['ioperm', 'compat'], ['userfaultfd', 'compat']])],
      );
      const ioperms = r.seen.filter((s) => s.event === 'ioperm').map((s) => s.ret);
      assert.ok(ioperms.every((ret) => ret === ioperms[0] && ret <= 0), `the same answer for each ABI: ${ioperms.join(', ')}`);
      assert.ok(r.seen.filter((s) => s.event === 'userfaultfd').every((s) => s.ret >= 0), 'userfaultfd gave an fd (root)');
    });
  }
});
