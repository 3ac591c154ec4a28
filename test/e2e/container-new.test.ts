import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { trace } from '../../src/trace.js';
import { cgroupMounts, TestCgroups } from '../support/cgroups.js';
import { collectAll } from '../support/collect.js';
import { ownSyscaller, startSyscaller, type Syscaller } from '../support/syscaller.js';

/** `container=new` (Tracee): containers created after tracing began match; one already running does not. */

const MOUNTS = cgroupMounts();
// a docker-shaped cgroup where this host has one: the v1 pids hierarchy (cgroupfs driver) or cgroup2
const ROOT = MOUNTS.v1.find((m) => m.options.includes('pids'))?.dir ?? MOUNTS.v2;
const skip = process.getuid?.() !== 0 ? 'needs root to make cgroups and trace' : ROOT === undefined ? 'needs a cgroup hierarchy (no v1 pids and no cgroup2 mount)' : false;
const cgroups = new TestCgroups(`wp-new-${process.pid}`);
const { exe, comm: COMM } = ownSyscaller('wpnew'); // a comm of this run's own
// A `from` no other process asks for (past the 65536 ports: the call fails, and is traced all the same). Pushed
// into the kernel filter, it keeps every other process's ioperm calls out of user space on both backends.
const FROM = 0x10000 + process.pid;
const id = (n: number): string => `${process.pid.toString(16).padStart(8, '0')}${n}`.padEnd(64, 'e');

after(async () => {
  await cgroups.removeAll();
});

/** A helper whose calls run inside docker/<id>. */
async function inContainer(n: number): Promise<Syscaller> {
  const sc = await startSyscaller([`ioperm:${FROM}:1:1`], { exe });
  writeFileSync(join(cgroups.make(ROOT!, `docker/${id(n)}`), 'cgroup.procs'), String(sc.pid));
  return sc;
}

describe('container=new: only containers created after tracing began', { skip, timeout: 60_000 }, () => {
  for (const backend of ['tracefs', 'ebpf'] as const) {
    it(`reports the new container's call and not the one already running (${backend})`, async () => {
      const old = await inContainer(1);
      // compat off: 32-bit callers come through raw_syscalls, judged in user space; none of ours is one
      const t = trace({ backend, events: [`ioperm.data.from=${FROM}`], scope: ['container=new', `comm=${COMM}`], compat: 'off' });
      let fresh: Syscaller | undefined;
      try {
        await t.ready;
        fresh = await inContainer(2);
        await old.go();
        await fresh.go();
        const got = await collectAll(t, 400);
        assert.deepEqual(got.map((e) => [e.hostProcessId, e.containerId]), [[fresh.pid, id(2)]]);
        // Other processes' calls are dropped in the kernel meanwhile (FROM); the running container's, in user space.
        const stats = t.stats();
        const inUserSpace = stats.filtered.ioperm - (stats.filteredInKernel?.ioperm ?? 0);
        assert.equal(inUserSpace, 1, `the running container's call was filtered in user space, and counted: ${JSON.stringify(stats)}`);
      } finally {
        await t.stop();
        await old.end();
        await fresh?.end();
      }
    });
  }
});
