import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { containerFromCgroups, containerFromPath, parseCgroupFile } from '../../src/enrich/container.js';
import { ContainerResolver, type CgroupSource } from '../../src/enrich/containers.js';

const ID = 'a5f3c9e1b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a6';
const ID2 = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
const POD = '3f1b7c2e-9a4d-4e8f-b1c6-5d2a8e7f0c93';
const POD_ = POD.replaceAll('-', '_');

describe('containers from cgroup paths', { timeout: 10_000 }, () => {
  const cases: [string, string, Record<string, unknown> | undefined][] = [
    ['docker, systemd driver', `/system.slice/docker-${ID}.scope`, { id: ID, runtime: 'docker' }],
    ['docker, cgroupfs driver', `/docker/${ID}`, { id: ID, runtime: 'docker' }],
    ['docker-in-docker: the outer container', `/docker/${ID}/docker/${ID2}`, { id: ID, runtime: 'docker' }],
    [
      'containerd under Kubernetes, systemd driver',
      `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD_}.slice/cri-containerd-${ID}.scope`,
      { id: ID, runtime: 'containerd', podUID: POD },
    ],
    [
      'containerd, guaranteed QoS pod',
      `/kubepods.slice/kubepods-pod${POD_}.slice/cri-containerd-${ID}.scope`,
      { id: ID, runtime: 'containerd', podUID: POD },
    ],
    ['Kubernetes, cgroupfs driver', `/kubepods/burstable/pod${POD}/${ID}`, { id: ID, runtime: 'containerd', podUID: POD }],
    [
      'static pod (32-hex UID)',
      `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0cdc6b8b4e9df7e7c4f8d4e6f3e1c8aa.slice/cri-containerd-${ID}.scope`,
      { id: ID, runtime: 'containerd', podUID: '0cdc6b8b4e9df7e7c4f8d4e6f3e1c8aa' },
    ],
    [
      'CRI-O under Kubernetes',
      `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_}.slice/crio-${ID}.scope`,
      { id: ID, runtime: 'crio', podUID: POD },
    ],
    ['CRI-O, cgroupfs driver', `/kubepods/besteffort/pod${POD}/crio-${ID}`, { id: ID, runtime: 'crio', podUID: POD }],
    ['docker under Kubernetes (dockershim)', `/kubepods.slice/kubepods-pod${POD_}.slice/docker-${ID}.scope`, { id: ID, runtime: 'docker', podUID: POD }],
    ['nerdctl', `/system.slice/nerdctl-${ID}.scope`, { id: ID, runtime: 'containerd' }],
    ['podman, systemd driver', `/machine.slice/libpod-${ID}.scope`, { id: ID, runtime: 'podman' }],
    ['podman rootless, inner cgroup', `/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${ID}.scope/container`, { id: ID, runtime: 'podman' }],
    ['podman, cgroupfs driver', `/libpod_parent/libpod-${ID}`, { id: ID, runtime: 'podman' }],
    ['systemd-nspawn machine scope, escaped name', '/machine.slice/machine-debian\\x2dbookworm.scope', { id: 'debian-bookworm', runtime: 'systemd-nspawn' }],
    ['systemd-nspawn service', '/machine.slice/systemd-nspawn@web.service/payload', { id: 'web', runtime: 'systemd-nspawn' }],
    ['LXC v1', '/lxc/web01', { id: 'web01', runtime: 'lxc' }],
    ['LXC 4 / LXD payload', '/lxc.payload.web01/system.slice', { id: 'web01', runtime: 'lxc' }],
    ['unknown runtime with a bare id', `/actions_job/${ID}`, { id: ID, runtime: 'unknown' }],
    ['host root', '/', undefined],
    ['host service', '/system.slice/ssh.service', undefined],
    ['user session', '/user.slice/user-1000.slice/session-4.scope', undefined],
    ['the docker daemon itself', '/system.slice/docker.service', undefined],
    ['podman conmon is not the container', `/machine.slice/libpod-conmon-${ID}.scope`, undefined],
    ['CRI-O conmon is not the container', `/kubepods.slice/kubepods-pod${POD_}.slice/crio-conmon-${ID}.scope`, undefined],
    ['LXC monitor is not the container', '/lxc.monitor.web01', undefined],
    ['libvirt VM is not a container', '/machine.slice/machine-qemu\\x2d1\\x2dwin10.scope', undefined],
    ['pod slice without a container', `/kubepods.slice/kubepods-pod${POD_}.slice`, undefined],
    ['short hex is not an id', '/process_api/30f446b9b1c71b5be0ab91df7e764045', undefined],
    ['upper-case hex is not an id', `/docker/${ID.toUpperCase()}`, undefined],
  ];
  for (const [what, path, want] of cases) {
    it(`recognises ${what}`, () => {
      assert.deepEqual(containerFromPath(path), want === undefined ? undefined : { ...want, cgroupPath: path });
    });
  }
});

describe('containers from /proc/<pid>/cgroup files', { timeout: 10_000 }, () => {
  it('splits lines into hierarchy, controllers and path', () => {
    assert.deepEqual(parseCgroupFile('12:cpu,cpuacct:/a:b\n0::/x\n1:name=systemd:/\n\n'), [
      { hierarchy: 12, controllers: ['cpu', 'cpuacct'], path: '/a:b' },
      { hierarchy: 0, controllers: [], path: '/x' },
      { hierarchy: 1, controllers: ['name=systemd'], path: '/' },
    ]);
  });

  it('reads a cgroup v2 file', () => {
    assert.deepEqual(containerFromCgroups(`0::/system.slice/docker-${ID}.scope\n`), {
      id: ID,
      runtime: 'docker',
      cgroupPath: `/system.slice/docker-${ID}.scope`,
    });
  });

  it('reads a cgroup v1 file with a line per controller', () => {
    const file = [
      `12:pids:/docker/${ID}`,
      `11:memory:/docker/${ID}`,
      `10:cpu,cpuacct:/docker/${ID}`,
      `9:devices:/docker/${ID}`,
      `1:name=systemd:/docker/${ID}`,
      '',
    ].join('\n');
    assert.deepEqual(containerFromCgroups(file), { id: ID, runtime: 'docker', cgroupPath: `/docker/${ID}` });
  });

  it('finds the container on a v1 controller line when the v2 line is the root (hybrid host, cgroupfs driver)', () => {
    const file = `9:name=systemd:/\n4:memory:/process_api/30f446b9b1c71b5be0ab91df7e764045\n8:pids:/kubepods/burstable/pod${POD}/${ID}\n0::/\n`;
    assert.deepEqual(containerFromCgroups(file), { id: ID, runtime: 'containerd', podUID: POD, cgroupPath: `/kubepods/burstable/pod${POD}/${ID}` });
  });

  it('prefers the v2 line, then name=systemd, over v1 controllers', () => {
    const file = `3:cpu:/docker/${ID2}\n1:name=systemd:/system.slice/docker-${ID}.scope\n0::/system.slice/crio-${ID}.scope\n`;
    assert.equal(containerFromCgroups(file)?.runtime, 'crio');
    assert.equal(containerFromCgroups(file.split('\n').slice(0, 2).join('\n'))?.id, ID);
  });

  it('returns undefined on the host', () => {
    assert.equal(containerFromCgroups('9:name=systemd:/init.scope\n8:pids:/\n0::/init.scope\n'), undefined);
    assert.equal(containerFromCgroups(''), undefined);
  });
});

describe('ContainerResolver: once per process, and a cgroup2 id only where the v2 path decides', { timeout: 10_000 }, () => {
  /** A fake /proc: cgroup files by pid, cgroup2 ids by path, and a count of the reads. */
  function fakeSource(files: Record<number, string>, ids: Record<string, number>, options: { v1?: boolean; exiting?: number[] } = {}) {
    const reads: number[] = [];
    const source: CgroupSource = {
      cgroupFile: (pid) => (reads.push(pid), files[pid]),
      cgroupId: (path) => ids[path],
      hasV1: () => options.v1 ?? true,
      isExiting: (pid) => options.exiting?.includes(pid) ?? files[pid] === undefined,
    };
    return { source, reads };
  }
  const V1_ROOT = '9:name=systemd:/\n8:pids:/\n4:memory:/\n';

  it('tells a host process from a v1-only container although both sit in cgroup2 / (hybrid host, Docker cgroupfs driver)', () => {
    const { source, reads } = fakeSource(
      { 10: `${V1_ROOT}0::/\n`, 11: `9:name=systemd:/docker/${ID}\n8:pids:/docker/${ID}\n4:memory:/docker/${ID}\n0::/\n` },
      { '/': 1 },
    );
    const r = new ContainerResolver(source);
    for (let i = 0; i < 1000; i++) {
      assert.equal(r.resolve(10, 100, 1)?.container, undefined);
      assert.equal(r.resolve(11, 200, 1)?.container?.id, ID);
    }
    assert.deepEqual(reads, [10, 11], 'each process read once');
  });

  it('reads each process once when the kernel gives no cgroup id (tracefs backend)', () => {
    const { source, reads } = fakeSource({ 10: `${V1_ROOT}0::/\n`, 11: `8:pids:/kubepods/besteffort/pod${POD}/${ID}\n0::/\n` }, { '/': 1 });
    const r = new ContainerResolver(source);
    for (let i = 0; i < 1000; i++) {
      assert.equal(r.resolve(10, 100)?.container, undefined);
      assert.deepEqual(r.resolve(11, 200)?.container, { id: ID, runtime: 'containerd', podUID: POD, cgroupPath: `/kubepods/besteffort/pod${POD}/${ID}` });
    }
    assert.deepEqual(reads, [10, 11]);
  });

  it('finds a container on the name=systemd line alone (systemd driver, v1 controllers at /)', () => {
    const { source } = fakeSource({ 10: `${V1_ROOT}0::/\n`, 12: `9:name=systemd:/system.slice/docker-${ID}.scope\n8:pids:/\n0::/\n` }, { '/': 1 });
    const r = new ContainerResolver(source);
    r.resolve(10, 100, 1);
    assert.deepEqual(r.resolve(12, 300, 1), { cgroupId: 1, container: { id: ID, runtime: 'docker', cgroupPath: `/system.slice/docker-${ID}.scope` } });
  });

  it('lets a cgroup2 id that named a container stand for it: a new process in that cgroup costs no read', () => {
    const path = `/system.slice/docker-${ID}.scope`;
    const { source, reads } = fakeSource({ 20: `${V1_ROOT}0::${path}\n`, 21: `${V1_ROOT}0::${path}\n` }, { [path]: 77 });
    const r = new ContainerResolver(source);
    assert.equal(r.resolve(20, 1, 77)?.container?.id, ID);
    assert.equal(r.resolve(21, 1, 77)?.container?.id, ID);
    assert.deepEqual(reads, [20]);
  });

  it('on a hybrid host, a cgroup2 id shared by a host daemon and a v1 container decides nothing', () => {
    const svc = '/system.slice/containerd.service';
    const { source } = fakeSource({ 30: `${V1_ROOT}0::${svc}\n`, 31: `8:pids:/docker/${ID}\n0::${svc}\n` }, { [svc]: 9 });
    const r = new ContainerResolver(source);
    assert.equal(r.resolve(30, 1, 9)?.container, undefined);
    assert.equal(r.resolve(31, 1, 9)?.container?.id, ID);
  });

  it('on a pure cgroup v2 host, "host" by cgroup2 id is cached too', () => {
    const { source, reads } = fakeSource({ 40: '0::/user.slice/session-1.scope\n', 41: '0::/user.slice/session-1.scope\n' }, { '/user.slice/session-1.scope': 5 }, { v1: false });
    const r = new ContainerResolver(source);
    assert.equal(r.resolve(40, 1, 5)?.container, undefined);
    assert.equal(r.resolve(41, 1, 5)?.container, undefined);
    assert.deepEqual(reads, [40]);
  });

  it('leaves an exiting process (which v1 shows at /) to the caller instead of calling it a host process', () => {
    const { source, reads } = fakeSource({ 50: `${V1_ROOT}0::/\n` }, { '/': 1 }, { exiting: [50] });
    const r = new ContainerResolver(source);
    assert.equal(r.resolve(50, 1), undefined);
    assert.equal(r.resolve(50, 1, 1), undefined);
    assert.deepEqual(reads, [50, 50], 'not cached');
  });

  it('reads a process again when the kernel reports it in another cgroup (moved into a container after its first call)', () => {
    const files: Record<number, string> = { 60: `${V1_ROOT}0::/\n` };
    const path = `/system.slice/docker-${ID}.scope`;
    const { source, reads } = fakeSource(files, { '/': 1, [path]: 78 });
    const r = new ContainerResolver(source);
    assert.equal(r.resolve(60, 1, 1)?.container, undefined);
    files[60] = `${V1_ROOT}0::${path}\n`;
    assert.equal(r.resolve(60, 1, 78)?.container?.id, ID);
    assert.equal(r.resolve(60, 1, 78)?.container?.id, ID);
    assert.deepEqual(reads, [60, 60]);
  });
});
