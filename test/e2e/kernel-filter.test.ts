import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { CLI } from '../support/cli.js';
import { where32 } from '../support/kernel-features.js';
import { traced } from '../support/traced.js';

/**
 * The kernel filter plan end to end: trace() plans the policies, the probe filters in the kernel, and the stats say
 * how many calls the kernel dropped (filteredInKernel, a part of filtered) — calls that never reached user space.
 */

const isRoot = process.getuid?.() === 0;

for (const backend of ['ebpf', 'tracefs'] as const) {
  describe(`kernel filter plan on the real kernel (${backend})`, { timeout: 120_000, skip: !isRoot && 'needs root to trace' }, () => {
    it('ioperm.data.from=0x64: only the 0x64 calls are delivered; the 0x80 ones are dropped in the kernel, and counted', async () => {
      // tracefs filters 64-bit callers' entry records only; 32-bit callers come through raw_syscalls, judged in user space.
      const commands = backend === 'ebpf' ? where32(['ioperm:0x80:1:0', 'ioperm:0x64:1:0', 'ioperm32:0x80:1:0', 'ioperm32:0x64:1:0', 'ioperm:0x80:2:0']) : ['ioperm:0x80:1:0', 'ioperm:0x64:1:0', 'ioperm:0x80:2:0'];
      const { calls, got, stats } = await traced({ backend, events: ['ioperm.data.from=0x64'] }, commands);
      const dropped = calls.filter((c) => c.args[0] !== 0x64);
      assert.deepEqual(got.map((e) => [e.args[0].value, e.contextFlags.isCompat]), calls.filter((c) => c.args[0] === 0x64).map((c) => [0x64n, c.abi === 'compat']));
      assert.equal(stats.delivered.ioperm, calls.length - dropped.length);
      assert.equal(stats.filteredInKernel?.ioperm, dropped.length, 'every other call was dropped in the kernel: none reached user space');
      assert.equal(stats.filtered.ioperm, dropped.length);
      assert.equal(stats.lostEvents, 0);
    });

    it('a call the kernel keeps but a condition it cannot check drops is filtered in user space, not in the kernel', async () => {
      // retval is known only at exit: the kernel keeps every 0x64 call, user space drops the failed ones (all, here: no ioperm).
      const { calls, got, stats } = await traced({ backend, events: ['ioperm.data.from=0x64', 'ioperm.retval=0'] }, ['ioperm:0x80:1:0', 'ioperm:0x64:1:0']);
      const ok = calls.filter((c) => c.args[0] === 0x64 && c.ret === 0);
      assert.equal(got.length, ok.length);
      assert.equal(stats.filteredInKernel?.ioperm, 1, 'the 0x80 call');
      assert.equal(stats.filtered.ioperm, 2 - ok.length);
    });
  });
}

describe('--explain shows the plan of both backends, and touches no kernel state', () => {
  it('prints the tracefs filter, the eBPF filter and where each condition runs', () => {
    const r = spawnSync(process.execPath, [CLI, 'trace', '-e', 'ioperm.data.from=0x64', '-e', 'ioperm.data.turn_on=0', '-e', 'ioperm.retval!=0', '--explain'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.deepEqual(lines.slice(0, 3), ['ioperm', '  tracefs filter: from == 100 && (turn_on == 0 || turn_on > 0xffffffff)', '  eBPF filter:    from == 100 && turn_on == 0']);
    assert.ok(lines.some((l) => /^ {2}kernel +kernel +cli: data\.from=0x64 {2}\(64-bit argument, compared exactly\)$/.test(l)), r.stdout);
    assert.ok(lines.some((l) => /^ {2}user +user +cli: retval!=0 {2}\(the return value exists only at syscall exit\)$/.test(l)), r.stdout);
    assert.ok(lines.includes('eBPF task pre-filter, every event: none'));
  });
});
