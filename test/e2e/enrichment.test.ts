import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readlinkSync, rmdirSync, writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { errnoName } from '../../src/enrich/errno.js';
import { trace, type SyscallEvent } from '../../src/trace.js';
import { collectAll } from '../support/collect.js';
import { startSyscaller, type ObservedCall, type Syscaller } from '../support/syscaller.js';

type Backend = 'tracefs' | 'ebpf';
const BACKENDS: Backend[] = ['tracefs', 'ebpf'];

/** cgroup v2 mount: /sys/fs/cgroup on pure v2 hosts, /sys/fs/cgroup/unified on hybrid ones (this VM). */
const CGROUP2 = existsSync('/sys/fs/cgroup/unified/cgroup.procs') ? '/sys/fs/cgroup/unified' : '/sys/fs/cgroup';

async function run(backend: Backend, sc: Syscaller, events: string[], pid = sc.pid): Promise<{ calls: ObservedCall[]; got: SyscallEvent[] }> {
  try {
    const t = trace({ backend, events, pids: [pid] });
    await t.ready;
    const calls = await sc.go();
    return { calls, got: await collectAll(t, 400) };
  } finally {
    await sc.end();
  }
}

const made: string[] = [];
after(() => {
  for (const dir of made.reverse()) {
    try {
      rmdirSync(dir);
    } catch {
      // a process still in it: it ends with the test run
    }
  }
});

/** Makes the nested cgroup path and moves the process into it. */
function moveInto(pid: number, path: string): void {
  let dir = CGROUP2;
  for (const part of path.split('/').filter(Boolean)) {
    dir += `/${part}`;
    if (!existsSync(dir)) {
      mkdirSync(dir);
      made.push(dir);
    }
  }
  writeFileSync(`${dir}/cgroup.procs`, String(pid));
}

function leave(pid: number): void {
  try {
    writeFileSync(`${CGROUP2}/cgroup.procs`, String(pid));
  } catch {
    // already exited
  }
}

for (const backend of BACKENDS) {
  describe(`enrichment on the real kernel (${backend})`, () => {
    it('names the port owners of a range that crosses two devices, the errno, and the ioctl request', async () => {
      const sc = await startSyscaller(['ioperm:0x60:0x12:1', 'ioctl:0:0x5413:0']);
      const { calls, got } = await run(backend, sc, ['ioperm', 'ioctl']);
      const ioperm = got.find((e) => e.eventName === 'ioperm')!;
      const owners = ioperm.ports!.map((r) => r.owner).join(' | ');
      assert.match(owners, /i8042/);
      assert.match(owners, /CMOS\/RTC/);
      assert.equal(ioperm.ports![0].first, 0x60);
      assert.equal(ioperm.ports![ioperm.ports!.length - 1].last, 0x71);
      assert.equal(ioperm.errno, errnoName(calls[0].ret));
      const ioctl = got.find((e) => e.eventName === 'ioctl' && e.args[0].value === 0)!;
      assert.equal(ioctl.decoded?.request, 'TIOCGWINSZ');
      assert.equal(ioctl.returnValue, calls[1].ret);
      assert.equal(ioctl.errno, errnoName(calls[1].ret)); // ENOTTY: stdin is a pipe
    });

    const shapes: Array<[string, (id: string, pod: string) => string, string, boolean]> = [
      ['docker', (id) => `/wp-e2e-${process.pid}/docker-${id}.scope`, 'docker', false],
      ['containerd (kubepods)', (id, pod) => `/wp-e2e-${process.pid}/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${pod.replace(/-/g, '_')}.slice/cri-containerd-${id}.scope`, 'containerd', true],
      ['CRI-O', (id) => `/wp-e2e-${process.pid}/crio-${id}.scope`, 'crio', false],
      ['podman', (id) => `/wp-e2e-${process.pid}/libpod-${id}.scope`, 'podman', false],
    ];
    for (const [label, pathOf, runtime, kube] of shapes) {
      it(`recognises a ${label} container from a real cgroup`, async () => {
        const id = randomBytes(32).toString('hex');
        const pod = '1c7a2e9b-55d1-4a7b-9f0e-3d2b8c6a1e44';
        const sc = await startSyscaller(['ioperm:0xcf8:8:1']);
        moveInto(sc.pid, pathOf(id, pod));
        try {
          const { got } = await run(backend, sc, ['ioperm']);
          assert.equal(got.length, 1);
          const e = got[0];
          assert.equal(e.containerId, id);
          assert.equal(e.container.id, id);
          assert.equal(e.containerRuntime, runtime);
          assert.equal(e.contextFlags.containerStarted, true);
          assert.equal(e.kubernetes.podUID, kube ? pod : '');
          assert.ok(e.cgroupId > 1, 'cgroup id of the container cgroup');
        } finally {
          leave(sc.pid);
        }
      });
    }

    it('gives pids as seen inside a PID namespace and from the host (unshare --pid --fork --mount-proc)', async () => {
      const sc = await startSyscaller(['ioperm:0x378:3:1', 'thread:ioperm:0x379:1:1'], { wrap: ['unshare', '--pid', '--fork', '--mount-proc'] });
      const children = readFileSync(`/proc/${sc.pid}/task/${sc.pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
      assert.equal(children.length, 1);
      const hostPid = children[0];
      const { calls, got } = await run(backend, sc, ['ioperm'], hostPid);
      assert.equal(got.length, 2);
      const myPidNs = Number(readlinkSync('/proc/self/ns/pid').replace(/\D/g, ''));
      for (const e of got) {
        const c = calls.find((x) => x.args[0] === Number(e.args[0].value))!;
        assert.equal(e.processId, 1, 'pid 1 inside its namespace');
        assert.equal(e.hostProcessId, hostPid);
        assert.equal(e.threadId, c.tid, 'tid as the caller saw it (gettid inside the namespace)');
        assert.notEqual(e.hostThreadId, e.threadId);
        assert.equal(e.parentProcessId, 0, 'its parent is outside the namespace');
        assert.equal(e.hostParentProcessId, sc.pid);
        assert.ok(e.pidNamespace > 0 && e.pidNamespace !== myPidNs, 'a PID namespace of its own');
        assert.equal(e.returnValue, c.ret);
      }
    });
  });
}

for (const backend of BACKENDS) {
  describe(`arguments as the kernel uses them (${backend})`, () => {
    it('reports the ioctl request the kernel acted on, not upper bits a caller added to hide it', async () => {
      const sc = await startSyscaller(['ioctl:0:0x100005413:0']);
      const { calls, got } = await run(backend, sc, ['ioctl']);
      const e = got.find((x) => x.args[0].value === 0)!;
      assert.equal(e.args[1].value, 0x5413n);
      assert.equal(e.decoded?.request, 'TIOCGWINSZ');
      assert.equal(e.returnValue, calls[0].ret);
    });
  });
}
