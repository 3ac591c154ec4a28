import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findEvent } from '../../../src/catalog/events.js';
import { SyscallPairer } from '../../../src/probes/tracefs/pairing.js';
import type { CompletedSyscall } from '../../../src/probes/types.js';

const ioperm = findEvent('ioperm')!;
const iopl = findEvent('iopl')!;

function pairer(): { p: SyscallPairer; out: CompletedSyscall[] } {
  const out: CompletedSyscall[] = [];
  return { p: new SyscallPairer([ioperm, iopl], (s) => out.push(s)), out };
}

describe('enter/exit pairing', () => {
  it('emits one event at exit with the enter args and the exit return value', () => {
    const { p, out } = pairer();
    p.enter(7, 100, 1, ioperm, [0x378n, 3n, 1], 1);
    assert.equal(out.length, 0);
    p.exit(7, 150, ioperm, -38, 1);
    assert.deepEqual(out, [{ event: ioperm, monoNs: 100, cpu: 1, tid: 7, compat: false, args: [0x378n, 3n, 1], ret: -38 }]);
  });

  it('pairs an exit read before its enter (thread migrated to a CPU read earlier)', () => {
    const { p, out } = pairer();
    p.exit(7, 150, ioperm, -1, 1);
    p.enter(7, 100, 0, ioperm, [1n, 1n, 0], 2);
    p.settle(3);
    assert.equal(out.length, 1);
    assert.equal(out[0].ret, -1);
    assert.deepEqual(p.counters.lostByEvent, {});
  });

  it('counts an exit whose enter never came as lost, once a complete drain has passed', () => {
    const { p, out } = pairer();
    p.exit(7, 150, iopl, 0, 1);
    p.settle(1);
    assert.deepEqual(p.counters.lostByEvent, {}, 'not final in the drain that read it');
    p.settle(2);
    assert.equal(out.length, 0);
    assert.deepEqual(p.counters.lostByEvent, { iopl: 1 });
  });

  it('counts an enter whose exit was lost when the same thread enters again', () => {
    const { p, out } = pairer();
    p.enter(7, 100, 0, ioperm, [1n, 1n, 1], 1);
    p.enter(7, 200, 0, ioperm, [2n, 1n, 1], 1);
    p.exit(7, 250, ioperm, 0, 1);
    p.settle(2);
    assert.equal(out.length, 1);
    assert.equal(out[0].args[0], 2n);
    assert.deepEqual(p.counters.lostByEvent, { ioperm: 1 });
  });

  it('reports a raw pair without a native marker as a 32-bit call, after a complete drain', () => {
    const { p, out } = pairer();
    p.rawEnter(9, 100, 0, ioperm, [0x3f8n, 8n, 1], 1);
    p.rawExit(9, 120, 101, -38, 1);
    p.settle(1);
    assert.equal(out.length, 0, 'waits one complete drain for a marker from another CPU');
    p.settle(2);
    assert.equal(out.length, 1);
    assert.equal(out[0].compat, true);
    assert.equal(out[0].ret, -38);
  });

  it('drops a raw pair that has a native marker (64-bit ptrace/getppid share the numbers), whichever comes first', () => {
    const { p, out } = pairer();
    p.rawEnter(9, 100, 0, iopl, [0], 1);
    p.marker(9, 101, 110);
    p.rawExit(9, 120, 110, 4242, 1);
    p.marker(9, 200, 110); // probe order reversed: marker before raw enter
    p.rawEnter(9, 201, 0, iopl, [0], 1);
    p.rawExit(9, 220, 110, 4242, 1);
    p.rawEnter(9, 300, 0, iopl, [3], 2); // a real int $0x80 iopl(3)
    p.rawExit(9, 320, 110, -38, 2);
    p.marker(9, 105 /* late read from another CPU */, 101);
    p.settle(3);
    assert.deepEqual(out.map((s) => [s.event.name, s.args, s.compat, s.ret]), [['iopl', [3], true, -38]]);
  });

  it('finds a marker read in a later drain than the exit', () => {
    const { p, out } = pairer();
    p.rawEnter(9, 100, 1, ioperm, [99n, 0n, 0], 1);
    p.rawExit(9, 130, 101, -3, 1);
    p.settle(1);
    p.marker(9, 100, 101);
    p.settle(2);
    assert.equal(out.length, 0);
  });

  it('at stop, counts syscalls still in progress but does not call them lost events', () => {
    const { p } = pairer();
    p.enter(5, 1, 0, ioperm, [0n, 0n, 0], 1);
    p.settle(2, true);
    assert.deepEqual(p.counters.lostByEvent, {});
    assert.deepEqual(p.counters.losses.entries(), [{ kind: 'in-progress-at-stop', event: 'ioperm', count: 1 }]);
  });
});

describe('32-bit detection when records were lost', () => {
  it('does not call a raw pair 32-bit when markers may have been lost in the same window; it counts it instead', () => {
    const out: CompletedSyscall[] = [];
    const p = new SyscallPairer([iopl], (s) => out.push(s));
    p.noteLoss(5);
    p.rawEnter(9, 100, 0, iopl, [1967949865], 5);
    p.rawExit(9, 120, 110, 23176, 5);
    p.settle(6);
    assert.equal(out.length, 0);
    assert.deepEqual(p.counters.losses.entries(), [{ kind: 'abi-unknown', event: 'iopl', count: 1 }]);
  });

  it('does not call a raw pair 32-bit when records were lost after its enter was read, however many drains its exit took', () => {
    const out: CompletedSyscall[] = [];
    const p = new SyscallPairer([iopl], (s) => out.push(s));
    p.rawEnter(9, 100, 0, iopl, [1967949865], 5); // read in drain 5; its marker may be in a page the kernel overwrote
    p.noteLoss(6);
    p.rawExit(9, 120, 110, 23176, 9); // the backlog delivered the exit four drains later
    p.settle(10);
    assert.equal(out.length, 0, 'a lost getppid marker must not become a false iopl(32)');
    assert.deepEqual(p.counters.losses.entries(), [{ kind: 'abi-unknown', event: 'iopl', count: 1 }]);
  });

  it('settles a getppid-heavy thread in linear time: 200,000 markers, each consumed by its raw pair', () => {
    const out: CompletedSyscall[] = [];
    const p = new SyscallPairer([iopl], (s) => out.push(s));
    const n = 200_000;
    for (let i = 0; i < n; i++) {
      p.marker(9, i * 10 + 1, 110);
      p.rawEnter(9, i * 10, 0, iopl, [0], 1);
      p.rawExit(9, i * 10 + 5, 110, 4242, 1);
    }
    const t0 = performance.now();
    p.settle(2);
    const ms = performance.now() - t0;
    assert.equal(out.length, 0, 'every one was a native getppid');
    assert.ok(ms < 2000, `settled in ${ms.toFixed(0)} ms (quadratic shifting took minutes)`);
  });

  it('still reports 32-bit calls well after a loss', () => {
    const out: CompletedSyscall[] = [];
    const p = new SyscallPairer([iopl], (s) => out.push(s));
    p.noteLoss(1);
    p.rawEnter(9, 100, 0, iopl, [3], 5);
    p.rawExit(9, 120, 110, -38, 5);
    p.settle(6);
    assert.equal(out.length, 1);
  });
});
