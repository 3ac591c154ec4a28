import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { trace } from '../../src/trace.js';
import { cgroupMounts, TestCgroups } from '../support/cgroups.js';
import { collectAll } from '../support/collect.js';
import { startSyscaller, syscallerPath, type Syscaller } from '../support/syscaller.js';

/** `container=new` (Tracee): containers created after tracing began match; one already running does not. */

const MOUNTS = cgroupMounts();
// a docker-shaped cgroup where this host has one: the v1 pids hierarchy (cgroupfs driver) or cgroup2
const ROOT = MOUNTS.v1.find((m) => m.options.includes('pids'))?.dir ?? MOUNTS.v2;
const skip = process.getuid?.() !== 0 ? 'needs root to make cgroups and trace' : ROOT === undefined ? 'needs a cgroup hierarchy (no v1 pids and no cgroup2 mount)' : false;
const cgroups = new TestCgroups(`wp-new-${process.pid}`);
const dir = mkdtempSync(join(tmpdir(), 'wp-new-'));
const COMM = `wpnew${process.pid % 100000}`;
const exe = join(dir, COMM);
const id = (n: number): string => `${process.pid.toString(16).padStart(8, '0')}${n}`.padEnd(64, 'e');

after(async () => {
  await cgroups.removeAll();
  rmSync(dir, { recursive: true, force: true });
});

/** A helper whose calls run inside docker/<id>. */
async function inContainer(n: number): Promise<Syscaller> {
  const sc = await startSyscaller(['ioperm:0x378:1:1'], { exe });
  writeFileSync(join(cgroups.make(ROOT!, `docker/${id(n)}`), 'cgroup.procs'), String(sc.pid));
  return sc;
}

describe('container=new: only containers created after tracing began', { skip, timeout: 60_000 }, () => {
  for (const backend of ['tracefs', 'ebpf'] as const) {
    it(`reports the new container's call and not the one already running (${backend})`, async () => {
      copyFileSync(syscallerPath(), exe);
      chmodSync(exe, 0o755);
      const old = await inContainer(1);
      const t = trace({ backend, events: ['ioperm'], scope: ['container=new', `comm=${COMM}`] });
      let fresh: Syscaller | undefined;
      try {
        await t.ready;
        fresh = await inContainer(2);
        await old.go();
        await fresh.go();
        const got = await collectAll(t, 400);
        assert.deepEqual(got.map((e) => [e.hostProcessId, e.containerId]), [[fresh.pid, id(2)]]);
        // Other processes' calls (comm) may be dropped in the kernel meanwhile: the running container's is dropped in user
        // space. On tracefs, other processes' 32-bit ioperm calls come through raw_syscalls, whose filter knows no comm,
        // and are dropped in user space too: there, at least the running container's.
        const stats = t.stats();
        const inUserSpace = stats.filtered.ioperm - (stats.filteredInKernel?.ioperm ?? 0);
        assert.ok(backend === 'ebpf' ? inUserSpace === 1 : inUserSpace >= 1, `the running container's call was filtered, and counted: ${JSON.stringify(stats)}`);
      } finally {
        await t.stop();
        await old.end();
        await fresh?.end();
      }
    });
  }
});
