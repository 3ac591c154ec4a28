import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble, Helper, type Instruction } from '../../src/probes/ebpf/asm.js';
import type { KernelLayout } from '../../src/probes/ebpf/kernel-layout.js';
import { type EnforceLayout, killCheck, PF_KTHREAD } from '../../src/probes/ebpf/kill-check.js';
import { EbpfProbe, ebpfSupport, openEbpfProbe } from '../../src/probes/ebpf/probe.js';
import { FLAG_KILLED } from '../../src/probes/ebpf/record.js';
import type { CompletedSyscall, ProbeEnforcement, TaskEvent } from '../../src/probes/types.js';
import { findEvent } from '../../src/catalog/events.js';
import { expectKilled, helperCopy, startCaller } from './caller.js';

after(() => rmSync(join(tmpdir(), `wp-enforce-${process.pid}`), { recursive: true, force: true })); // the helper copies

/** The kill check as instructions (exemptions in front of the signal), and the time the kernel takes to end a caller. */

const layout = {
  task: { threadInfoStatus: 0, realParent: 0, groupLeader: 0, tgid: 0, pid: 0, comm: 0, startTime: 0, nsproxy: 8, threadPid: 0 },
  nsproxyMntNs: 16,
  mntNsInum: 24,
  regsNative: [112, 104, 96, 56, 72, 64],
  regsCompat: [40, 88, 96, 104, 112, 32],
} as unknown as KernelLayout;
const enforceLayout: EnforceLayout = { taskFlags: 44, taskMm: 48, mmExeFile: 56, fileInode: 64, inodeIno: 72, inodeSb: 80, sbDev: 88 };
const rule = (armed: boolean, allow = false): ProbeEnforcement => ({
  armed,
  allowExecutables: allow ? [{ dev: (8 << 20) | 1, ino: 1234n }] : [],
  rules: [
    { nr: 173, conditions: [{ on: 'arg', index: 0, width: 64, signed: false, op: '=', values: [0x64n] }, { on: 'comm', op: '=', values: ['wpk'] }] },
    { nr: 172, compatNr: 110, conditions: [{ on: 'arg', index: 0, width: 32, signed: true, op: '>=', values: [3n] }, { on: 'uid', op: '!=', values: [0n] }] },
  ],
});
const isCall = (i: Instruction, helper: number): boolean => i.op === 0x85 && i.imm === helper;
const index = (code: Instruction[], pred: (i: Instruction) => boolean): number => code.findIndex(pred);

describe('killCheck: the instructions', { timeout: 10_000 }, () => {
  for (const hook of ['btf', 'raw', 'tracepoint'] as const) {
    it(`assembles on the ${hook} hook, with pid 1 and kernel threads sent around the signal`, () => {
      const code = killCheck(rule(true, true), hook, layout, enforceLayout, 'kill_done');
      assert.ok(assemble([...code, { op: -1, dst: 0, src: 0, off: 0, imm: 0, label: 'kill_done' }]).length > 0);
      const signal = index(code, (i) => isCall(i, Helper.sendSignal));
      assert.ok(signal > 0, 'no bpf_send_signal');
      assert.equal(code[signal - 1].imm, 9, 'the signal is not SIGKILL');
      // tgid (pid_tgid >> 32) == 1 jumps to the spare path, before the signal
      const pid1 = index(code, (i) => i.op === 0x15 && i.imm === 1 && i.target === 'kill_spare');
      assert.ok(pid1 > 0 && pid1 < signal, 'pid 1 is not exempt before the signal');
      assert.equal(code[pid1 - 1].op, 0x77, 'pid 1 check is not on the tgid (>> 32)');
      assert.equal(code[pid1 - 1].imm, 32);
      const kthread = index(code, (i) => i.op === 0x45 && i.imm === PF_KTHREAD && i.target === 'kill_spare');
      assert.ok(kthread > pid1 && kthread < signal, 'kernel threads are not exempt before the signal');
      const exe = index(code, (i) => i.op === 0x16 && i.imm === ((8 << 20) | 1) && i.target === 'kill_spare');
      assert.ok(exe > kthread && exe < signal, 'the allow-listed executable is not exempt before the signal');
      // the spare path clears the kill bits: an exempt call is recorded as a plain call
      const spare = index(code, (i) => i.label === 'kill_spare');
      assert.ok(spare > signal);
      assert.equal(code[spare + 1].op, 0x62); // st [r10 + KILL], 0
      assert.equal(code[spare + 1].imm, 0);
    });
  }

  it('stores the rule index + 1 and FLAG_KILLED when armed, the index alone in a dry run, and sends nothing then', () => {
    const armed = killCheck(rule(true), 'btf', layout, enforceLayout, 'kill_done');
    const dry = killCheck(rule(false), 'btf', layout, enforceLayout, 'kill_done');
    const bits = (code: Instruction[]) => code.filter((i) => i.op === 0xb7 && i.dst === 1 && i.imm >= 0x100).map((i) => i.imm);
    assert.deepEqual(bits(armed), [(1 << 8) | FLAG_KILLED, (2 << 8) | FLAG_KILLED]);
    assert.deepEqual(bits(dry), [1 << 8, 2 << 8]);
    assert.equal(index(dry, (i) => isCall(i, Helper.sendSignal)), -1);
  });

  it('leaves out the rules of other syscalls in a per-syscall program, and emits no dead code when none is left', () => {
    const onlyIopl = killCheck(rule(true), 'tracepoint', layout, enforceLayout, 'kill_done', 172);
    assert.equal(index(onlyIopl, (i) => i.op === 0x55 && i.imm === 173), -1);
    assert.deepEqual(killCheck(rule(true), 'tracepoint', layout, enforceLayout, 'kill_done', 16).length, 1);
  });
});

const support = ebpfSupport();
const skip = process.getuid?.() !== 0 ? 'needs root to load BPF programs' : support.ok ? false : `needs eBPF: ${support.reason}`;

describe('from the call to the death of the caller (eBPF, real kernel)', { skip, timeout: 120_000 }, () => {
  it('ends the caller within milliseconds of its syscall entry (sched_process_exit - sys_enter)', async () => {
    const K = `wpt${process.pid}`;
    const exe = helperCopy(`wp-enforce-${process.pid}`, K);
    const probe = openEbpfProbe({
      events: [findEvent('ioperm')!],
      compat: false,
      excludePids: [process.pid],
      lifecycle: true,
      enforce: { armed: true, allowExecutables: [], rules: [{ nr: 173, conditions: [{ on: 'comm', op: '=', values: [K] }] }] },
    });
    const calls: CompletedSyscall[] = [];
    const exits: TaskEvent[] = [];
    const deltas: number[] = [];
    try {
      for (let n = 0; n < 10; n++) {
        const pid = await expectKilled(['ioperm:0x64:1:1', 'ioperm:0x70:1:1'], { exe });
        await new Promise((r) => setTimeout(r, 20));
        probe.drain((s) => calls.push(s), (t) => exits.push(t));
        const call = calls.find((s) => s.context?.pid === pid);
        const exit = exits.find((t) => t.kind === 'exit' && t.tid === pid);
        assert.ok(call?.enforcement?.killed, 'no killed record');
        assert.ok(exit, 'no exit record');
        deltas.push((exit.monoNs - call.monoNs) / 1e3);
      }
    } finally {
      probe.close();
    }
    deltas.sort((a, b) => a - b);
    process.stderr.write(`# kill: syscall entry to sched_process_exit, 10 callers: min ${deltas[0].toFixed(1)} us, median ${deltas[5].toFixed(1)} us, max ${deltas[9].toFixed(1)} us\n`);
    assert.ok(deltas[0] > 0);
    assert.ok(deltas[5] < 50_000, 'the median caller lived on for 50 ms after its call');
  });
});

describe('kill rules on every hook (eBPF, real kernel)', { skip, timeout: 120_000 }, () => {
  for (const hook of ['btf', 'raw', 'tracepoint'] as const) {
    it(`kills on ${hook}: the argument and comm match, and only then`, async () => {
      const K = `wph${process.pid}`;
      const exe = helperCopy(`wp-enforce-${process.pid}`, K);
      const probe = new EbpfProbe(
        {
          events: [findEvent('ioperm')!, findEvent('iopl')!],
          compat: hook !== 'tracepoint',
          excludePids: [process.pid],
          enforce: {
            armed: true,
            allowExecutables: [],
            rules: [{ nr: 173, conditions: [{ on: 'arg', index: 0, width: 64, signed: false, op: '=', values: [0x64n] }, { on: 'arg', index: 2, width: 32, signed: true, op: '>', values: [0n] }, { on: 'comm', op: '=', values: [K] }] }],
          },
        },
        hook,
      );
      try {
        assert.equal(probe.hook, hook);
        for (const [cmds, killed] of [[['ioperm:0x70:1:1', 'iopl:3'], false], [['ioperm:0x64:1:0'], false], [['ioperm:0x64:1:1', 'iopl:3'], true]] as const) {
          const c = await startCaller([...cmds], { exe });
          try {
            const end = await c.go();
            assert.equal(end.signal, killed ? 'SIGKILL' : null, cmds.join(' '));
            assert.equal(end.lines.length, killed ? 0 : cmds.length, cmds.join(' '));
          } finally {
            c.stop();
          }
        }
      } finally {
        probe.close();
      }
    });
  }
});
