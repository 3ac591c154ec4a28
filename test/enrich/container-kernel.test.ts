import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cgroupIdOf, readContainer, readUnifiedCgroupPath } from '../../src/enrich/container.js';
import { ContainerResolver } from '../../src/enrich/containers.js';
import { hasCompiler } from './c-oracle.js';
import { startSleeper, stopChild } from './children.js';
import { cgroupMounts, TestCgroups } from '../support/cgroups.js';

const ID = (n: number) => n.toString(16).padStart(2, '0').repeat(32);
const POD = '7d3c1e0a-52b4-4c9f-a8e6-0f1b2c3d4e5f';
const POD_ = POD.replaceAll('-', '_');

const MOUNTS = cgroupMounts();
const UNIFIED = MOUNTS.v2;
const PIDS_V1 = MOUNTS.v1.find((m) => m.options.includes('pids'))?.dir;
const BASE = `wp-test-${process.pid}`;

const children: ChildProcess[] = [];
const cgroups = new TestCgroups(BASE);

/** A sleeping child placed in the cgroup root/BASE/rel. */
function childIn(root: string, rel: string): { pid: number; dir: string } {
  const dir = cgroups.make(root, rel);
  const child = startSleeper();
  children.push(child);
  writeFileSync(join(dir, 'cgroup.procs'), String(child.pid));
  return { pid: child.pid, dir };
}

after(async () => {
  // Children first (a cgroup with a live task cannot be removed), then the directories, deepest first.
  for (const child of children) await stopChild(child);
  await cgroups.removeAll();
});

describe('containers recognised in real cgroups', { skip: UNIFIED === undefined && 'no cgroup2 mount', timeout: 60_000 }, () => {
  const root = UNIFIED ?? '';
  const cases: [string, string, { id: string; runtime: string; podUID?: string }][] = [
    ['docker (systemd driver)', `system.slice/docker-${ID(1)}.scope`, { id: ID(1), runtime: 'docker' }],
    [
      'containerd in a Kubernetes besteffort pod',
      `kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD_}.slice/cri-containerd-${ID(2)}.scope`,
      { id: ID(2), runtime: 'containerd', podUID: POD },
    ],
    [
      'CRI-O in a Kubernetes burstable pod',
      `kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_}.slice/crio-${ID(3)}.scope`,
      { id: ID(3), runtime: 'crio', podUID: POD },
    ],
    ['podman', `machine.slice/libpod-${ID(4)}.scope`, { id: ID(4), runtime: 'podman' }],
    ['systemd-nspawn', 'machine.slice/machine-wp\\x2dmachine.scope', { id: 'wp-machine', runtime: 'systemd-nspawn' }],
    ['LXC', 'lxc.payload.wp-web', { id: 'wp-web', runtime: 'lxc' }],
  ];

  for (const [what, rel, want] of cases) {
    it(`recognises a process moved into a ${what} cgroup`, () => {
      const { pid, dir } = childIn(root, rel);
      const got = readContainer(pid);
      assert.deepEqual(got, { ...want, cgroupPath: `/${BASE}/${rel}` });
      assert.equal(readUnifiedCgroupPath(pid), `/${BASE}/${rel}`);
      assert.equal(cgroupIdOf(got?.cgroupPath ?? '/nope'), statSync(dir).ino);
    });
  }

  it('reports nothing for a process on the host', () => {
    const child = startSleeper();
    children.push(child);
    assert.equal(readContainer(child.pid as number), undefined);
  });

  it('reports nothing for a process that is gone', async () => {
    const child = startSleeper();
    const pid = child.pid as number;
    await stopChild(child);
    assert.equal(readContainer(pid), undefined);
    assert.equal(readUnifiedCgroupPath(pid), undefined);
  });

  it('gives each cgroup the id the kernel uses in file handles and BPF', { skip: !hasCompiler() && 'no C compiler' }, () => {
    const { pid } = childIn(root, `system.slice/docker-${ID(5)}.scope`);
    const path = readUnifiedCgroupPath(pid) ?? '/nope';
    // name_to_handle_at on a cgroup2 directory returns the 8-byte kernfs id: the id bpf_get_current_cgroup_id() reports.
    const dir = mkdtempSync(join(tmpdir(), 'wp-fh-'));
    try {
      writeFileSync(
        join(dir, 'fh.c'),
        `#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
int main(int argc, char **argv) {
  struct { struct file_handle h; unsigned char b[64]; } f; int mount_id; uint64_t id;
  f.h.handle_bytes = 64;
  if (name_to_handle_at(AT_FDCWD, argv[1], &f.h, &mount_id, 0) != 0 || f.h.handle_bytes != 8) return 1;
  memcpy(&id, f.h.f_handle, 8); printf("%llu\\n", (unsigned long long)id); return 0;
}
`,
      );
      execFileSync('gcc', ['-o', join(dir, 'fh'), join(dir, 'fh.c')]);
      const kernelId = Number(execFileSync(join(dir, 'fh'), [root + path], { encoding: 'utf8' }).trim());
      assert.ok(kernelId > 1, `kernel id ${kernelId}`);
      assert.equal(cgroupIdOf(path), kernelId);
      assert.equal(cgroupIdOf('/'), 1); // the root cgroup's id
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('containers recognised on a cgroup v1 hierarchy', { skip: PIDS_V1 === undefined && 'no cgroup v1 pids hierarchy on this host', timeout: 60_000 }, () => {
  it('finds a Kubernetes cgroupfs-driver container from the v1 pids line', () => {
    const rel = `kubepods/burstable/pod${POD}/${ID(6)}`;
    const { pid } = childIn(PIDS_V1 ?? '', rel);
    const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    assert.match(lines, new RegExp(`:pids:/${BASE}/${rel}\\n`));
    assert.deepEqual(readContainer(pid), { id: ID(6), runtime: 'containerd', podUID: POD, cgroupPath: `/${BASE}/${rel}` });
  });

  it('finds a docker cgroupfs-driver container from the v1 pids line', () => {
    const rel = `docker/${ID(7)}`;
    const { pid } = childIn(PIDS_V1 ?? '', rel);
    assert.deepEqual(readContainer(pid), { id: ID(7), runtime: 'docker', cgroupPath: `/${BASE}/${rel}` });
  });

  it('shows an exiting task at / on v1, so the resolver leaves it to its parent instead of calling it a host process', async () => {
    // sh forks a child that exits at once, then becomes `sleep`, which never reaps it: a zombie kept in the container
    const dir = cgroups.make(PIDS_V1 ?? '', `docker/${ID(8)}`);
    const sh = spawn('sh', ['-c', 'read x; true & exec sleep 1000'], { stdio: ['pipe', 'ignore', 'ignore'] });
    children.push(sh);
    writeFileSync(join(dir, 'cgroup.procs'), String(sh.pid));
    sh.stdin!.write('go\n');
    let zombie: number | undefined;
    for (let i = 0; i < 200 && zombie === undefined; i++) {
      const kids = readFileSync(`/proc/${sh.pid}/task/${sh.pid}/children`, 'utf8').trim();
      const pid = kids ? Number(kids.split(' ')[0]) : undefined;
      if (pid && readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z')) zombie = pid;
      else await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(zombie, 'a zombie child of the container process');
    assert.match(readFileSync(`/proc/${zombie}/cgroup`, 'utf8'), /:pids:\/\n/, 'the kernel shows a zombie at the v1 root');
    const resolver = new ContainerResolver();
    assert.equal(resolver.resolve(zombie, 1), undefined);
    assert.equal(resolver.resolve(sh.pid!, 1)?.container?.id, ID(8));
  });
});
