import assert from 'node:assert/strict';
import { isEventItem } from '../../src/model/stream.js';
import { asTraceeEvents } from '../../src/detect/finding-event.js';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { builtinSignatures } from '../../src/detect/builtins.js';
import { Detector } from '../../src/detect/detector.js';
import type { SyscallEvent } from '../../src/model/event.js';
import { trace } from '../../src/trace.js';
import { startCli } from '../support/cli.js';
import { startSyscaller, type Syscaller } from '../support/syscaller.js';
import { cgroupMounts, TestCgroups, type CgroupMount } from '../support/cgroups.js';

/**
 * Containers known only through cgroup v1 hierarchies (hybrid and legacy hosts: Docker's cgroupfs driver, the systemd
 * driver's name=systemd scopes, kubepods) are containers for containerId, the container scopes and the detections, on
 * both backends, exactly as containers in cgroup2 are. The containers here are real cgroups holding a real process.
 */

const isRoot = process.getuid?.() === 0;

const MOUNTS = cgroupMounts();
const SYSTEMD_V1 = MOUNTS.v1.find((m) => m.options.includes('name=systemd'));
// cpuset is left out: a new cpuset cgroup has no CPUs until configured, and no runtime detection depends on it
const V1_ALL = MOUNTS.v1.filter((m) => !m.options.includes('cpuset'));
const BASE = `wp-v1-${process.pid}`;
/** 64-hex ids unique to this test run. */
const ID = (n: number) => (n.toString(16).padStart(8, '0') + process.pid.toString(16).padStart(8, '0')).repeat(4);
const POD = `${process.pid.toString(16).padStart(8, '0')}-52b4-4c9f-a8e6-0f1b2c3d4e5f`;
const POD_ = POD.replaceAll('-', '_');

interface Case {
  what: string;
  /** Where the process goes, under BASE: every v1 hierarchy but cpuset, name=systemd only, or cgroup2 only. */
  where: 'v1' | 'systemd' | 'v2';
  rel: string;
  want: { id: string; runtime: string; podUID?: string };
}

const CASES: Case[] = [
  { what: 'docker, cgroupfs driver', where: 'v1', rel: `docker/${ID(1)}`, want: { id: ID(1), runtime: 'docker' } },
  { what: 'docker, systemd driver', where: 'v1', rel: `system.slice/docker-${ID(2)}.scope`, want: { id: ID(2), runtime: 'docker' } },
  { what: 'docker, systemd driver, name=systemd only', where: 'systemd', rel: `system.slice/docker-${ID(3)}.scope`, want: { id: ID(3), runtime: 'docker' } },
  {
    what: 'kubepods burstable, cgroupfs driver (containerd)',
    where: 'v1',
    rel: `kubepods/burstable/pod${POD}/${ID(4)}`,
    want: { id: ID(4), runtime: 'containerd', podUID: POD },
  },
  { what: 'kubepods guaranteed, cgroupfs driver (CRI-O)', where: 'v1', rel: `kubepods/pod${POD}/crio-${ID(5)}`, want: { id: ID(5), runtime: 'crio', podUID: POD } },
  {
    what: 'kubepods burstable, systemd driver (containerd)',
    where: 'v1',
    rel: `kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_}.slice/cri-containerd-${ID(6)}.scope`,
    want: { id: ID(6), runtime: 'containerd', podUID: POD },
  },
  {
    what: 'kubepods besteffort, systemd driver (CRI-O)',
    where: 'v1',
    rel: `kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD_}.slice/crio-${ID(7)}.scope`,
    want: { id: ID(7), runtime: 'crio', podUID: POD },
  },
  { what: 'podman', where: 'v1', rel: `machine.slice/libpod-${ID(8)}.scope`, want: { id: ID(8), runtime: 'podman' } },
  { what: 'docker in cgroup2 (reference)', where: 'v2', rel: `system.slice/docker-${ID(9)}.scope`, want: { id: ID(9), runtime: 'docker' } },
];

const cgroups = new TestCgroups(BASE);
const helpers: Syscaller[] = [];

/** A task joins each hierarchy separately: one write to cgroup.procs per hierarchy. */
function place(pid: number, c: Case): void {
  const roots = c.where === 'v2' ? [MOUNTS.v2!] : c.where === 'systemd' ? [SYSTEMD_V1!.dir] : V1_ALL.map((m) => m.dir);
  for (const root of roots) writeFileSync(join(cgroups.make(root, c.rel), 'cgroup.procs'), String(pid));
}

async function removeAll(): Promise<void> {
  // Our helpers first (a cgroup with a live task cannot be removed), then the directories, deepest first.
  for (const h of helpers.splice(0)) {
    h.child.kill('SIGKILL');
    await h.end();
  }
  await cgroups.removeAll();
}

const POLICIES = {
  'in-container': 'container',
  'on-host': 'not-container',
  'this-container': `container=${ID(1)}`,
  'this-container-short': `container=${ID(4).slice(0, 12)}`,
  'new-container': 'container=new',
};

function policyDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wp-v1-policy-'));
  for (const [name, scope] of Object.entries(POLICIES)) {
    writeFileSync(
      join(dir, `${name}.yaml`),
      `apiVersion: tracee.aquasec.com/v1beta1
kind: Policy
metadata:
  name: ${name}
spec:
  scope:
    - ${scope}
  rules:
    - event: ioperm
    - event: iopl
    - event: perf_event_open
`,
    );
  }
  return dir;
}

const COMMANDS = ['ioperm:0x378:3:1', 'iopl:3', 'perf_event_open:0:0:-1:-1:0', 'spawn:ioperm:0x3f8:8:1'];

interface Run {
  host: number;
  pids: Map<Case, number>;
  events: SyscallEvent[];
}

/**
 * One trace over a host helper and one helper per case. The host helper calls first, so a resolver that lets the
 * shared cgroup2 root id stand for "host" has already cached that answer when the v1 containers call.
 */
async function runAll(backend: 'tracefs' | 'ebpf', cases: readonly Case[]): Promise<Run> {
  const policies = policyDir();
  try {
    const host = await startSyscaller(COMMANDS);
    helpers.push(host);
    const pids = new Map<Case, number>();
    const inCases: Syscaller[] = [];
    for (const c of cases) {
      const sc = await startSyscaller(COMMANDS);
      helpers.push(sc);
      place(sc.pid, c); // before go(): every call is made from inside the container
      pids.set(c, sc.pid);
      inCases.push(sc);
    }
    const t = trace({ backend, policyFiles: [policies], pids: [host.pid, ...pids.values()] });
    await t.ready;
    const collected = (async () => {
      const all: SyscallEvent[] = [];
      for await (const batch of t.batches()) all.push(...batch.filter(isEventItem)); // these policies kill nothing
      return all;
    })();
    await host.go();
    for (const sc of inCases) await sc.go();
    await new Promise((r) => setTimeout(r, 400));
    await t.stop();
    return { host: host.pid, pids, events: await collected };
  } finally {
    rmSync(policies, { recursive: true, force: true });
  }
}

const signatureIds = (fs: readonly SyscallEvent[]): string[] =>
  fs.map((f) => (f.metadata as { Properties: { signatureID: string } }).Properties.signatureID).sort();

/** The events of one helper and of the child it spawned. */
function eventsOf(run: Run, pid: number): SyscallEvent[] {
  return run.events.filter((e) => e.hostProcessId === pid || e.hostParentProcessId === pid);
}

const skipAll = !isRoot ? 'needs root (cgroups and tracing)' : MOUNTS.v1.length === 0 ? 'no cgroup v1 hierarchy mounted' : false;

async function ebpfMissing(): Promise<string | false> {
  const { ebpfSupport } = await import('../../src/probes/ebpf/probe.js');
  const s = ebpfSupport();
  return s.ok ? false : `eBPF backend unavailable: ${s.reason}`;
}

describe('containers on cgroup v1 and hybrid hosts', { skip: skipAll, timeout: 120_000 }, () => {
  const cases = CASES.filter((c) => (c.where === 'v2' ? MOUNTS.v2 !== undefined : c.where === 'systemd' ? SYSTEMD_V1 !== undefined : true));
  const skipped = CASES.filter((c) => !cases.includes(c)).map((c) => `${c.what} (${c.where === 'v2' ? 'no cgroup2 mount' : 'no name=systemd v1 hierarchy'})`);
  let noEbpf: string | false = false;

  before(async () => {
    noEbpf = await ebpfMissing();
    if (skipped.length) console.error(`not run here: ${skipped.join('; ')}`);
  });
  after(removeAll);

  for (const backend of ['tracefs', 'ebpf'] as const) {
    describe(`${backend} backend`, () => {
      let run: Run | undefined;
      before(async () => {
        if (backend === 'ebpf' && noEbpf) return;
        run = await runAll(backend, cases);
      });
      after(removeAll);

      const need = (t: { skip: (m: string) => void }): Run | undefined => {
        if (!run) t.skip(noEbpf || 'no run');
        return run;
      };

      it('reports every call, from the helpers and the children they spawned', (t) => {
        const r = need(t);
        if (!r) return;
        for (const pid of [r.host, ...r.pids.values()]) {
          const names = eventsOf(r, pid).map((e) => e.eventName).sort();
          assert.deepEqual(names, ['ioperm', 'ioperm', 'iopl', 'perf_event_open'], `pid ${pid}`);
        }
      });

      it('keeps a host process on the host, in the same cgroup2 root as the v1 containers', (t) => {
        const r = need(t);
        if (!r) return;
        const rootId = MOUNTS.v2 ? Number(statSync(MOUNTS.v2, { bigint: true }).ino) : undefined;
        for (const e of eventsOf(r, r.host)) {
          assert.equal(e.containerId, '');
          assert.deepEqual([...e.matchedPolicies].sort(), ['on-host']);
          if (rootId !== undefined) assert.equal(e.cgroupId, rootId, 'the host helper sits in the cgroup2 root');
        }
        assert.deepEqual(signatureIds(asTraceeEvents(new Detector(builtinSignatures()).process(eventsOf(r, r.host), () => false))).filter((id) => id === 'WP-002' || id === 'WP-007'), []);
      });

      for (const c of cases) {
        it(`recognises ${c.what} (${c.where === 'v2' ? 'cgroup2' : c.where === 'systemd' ? 'name=systemd' : 'cgroup v1'}), spawned children too`, (t) => {
          const r = need(t);
          if (!r) return;
          const pid = r.pids.get(c)!;
          const events = eventsOf(r, pid);
          assert.equal(events.length, 4);
          for (const e of events) {
            assert.equal(e.containerId, c.want.id, `${e.eventName} from ${e.hostProcessId}`);
            assert.equal(e.containerRuntime, c.want.runtime);
            assert.equal(e.kubernetes.podUID, c.want.podUID ?? '');
            if (c.where !== 'v2' && MOUNTS.v2) {
              assert.equal(e.cgroupId, Number(statSync(MOUNTS.v2, { bigint: true }).ino), 'cgroup2 stayed at the root: only v1 tells');
            }
          }
        });
      }

      it('applies container, not-container and container=ID exactly as in cgroup2 (container=new too)', (t) => {
        const r = need(t);
        if (!r) return;
        for (const c of cases) {
          const want = ['in-container'];
          if (c.want.id === ID(1)) want.push('this-container');
          if (c.want.id === ID(4)) want.push('this-container-short');
          for (const e of eventsOf(r, r.pids.get(c)!)) assert.deepEqual([...e.matchedPolicies].sort(), want.sort(), `${c.what}: ${e.eventName}`);
        }
        // container=new: the same answer for a v1 container as for the cgroup2 one, whatever that answer is
        const v2 = cases.find((c) => c.where === 'v2');
        if (v2) {
          const isNew = (c: Case) => eventsOf(r, r.pids.get(c)!).some((e) => e.matchedPolicies.includes('new-container'));
          for (const c of cases) assert.equal(isNew(c), isNew(v2), c.what);
        }
      });

      it('fires WP-002 (ioperm/iopl) and WP-007 (perf_event_open) from every container', (t) => {
        const r = need(t);
        if (!r) return;
        for (const c of cases) {
          const found = asTraceeEvents(new Detector(builtinSignatures()).process(eventsOf(r, r.pids.get(c)!), () => false));
          const ours = found.filter((f) => ['WP-002', 'WP-007'].includes(signatureIds([f])[0]));
          assert.deepEqual(signatureIds(ours), ['WP-002', 'WP-002', 'WP-002', 'WP-007'], c.what);
          for (const f of ours) assert.equal(f.containerId, c.want.id, c.what);
        }
      });
    });
  }
});

describe('containers on cgroup v1 through the CLI (--scope container / not-container, findings in JSON)', { skip: skipAll, timeout: 120_000 }, () => {
  const docker = CASES[0];
  after(removeAll);

  for (const backend of ['tracefs', 'ebpf'] as const) {
    it(`${backend}: a docker cgroupfs-driver container is in scope container, not in not-container, and raises WP-002`, async (t) => {
      const missing = backend === 'ebpf' && (await ebpfMissing());
      if (missing) return t.skip(missing);
      const host = await startSyscaller(['ioperm:0x378:3:1']);
      const inside = await startSyscaller(['ioperm:0x378:3:1']);
      helpers.push(host, inside);
      place(inside.pid, docker);
      const common = ['--backend', backend, '-e', 'ioperm', '-o', 'json'];
      const [container, notContainer] = await Promise.all([startCli([...common, '-s', 'container']), startCli([...common, '-s', 'not-container'])]);
      try {
        await host.go();
        await inside.go();
        await new Promise((r) => setTimeout(r, 500));
      } finally {
        await Promise.all([container.stop(), notContainer.stop()]);
      }
      const lines = (out: string) => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as SyscallEvent);
      const ours = (evs: SyscallEvent[], pid: number) => evs.filter((e) => e.hostProcessId === pid);
      const inScope = lines(container.stdout());
      const outOfScope = lines(notContainer.stdout());
      const calls = (evs: SyscallEvent[]) => evs.filter((e) => e.eventName === 'ioperm');
      const findings = (evs: SyscallEvent[]) => signatureIds(evs.filter((e) => (e.metadata as { Properties?: unknown }).Properties !== undefined));
      assert.deepEqual(calls(ours(inScope, inside.pid)).map((e) => e.containerId), [docker.want.id], container.stderr());
      assert.deepEqual(calls(ours(inScope, host.pid)), []);
      assert.deepEqual(calls(ours(outOfScope, host.pid)).map((e) => e.containerId), [''], notContainer.stderr());
      assert.deepEqual(calls(ours(outOfScope, inside.pid)), []);
      assert.ok(findings(ours(inScope, inside.pid)).includes('WP-002'), `WP-002 from the container: ${container.stdout()}`);
      assert.ok(!findings(ours(outOfScope, host.pid)).includes('WP-002'));
    });
  }
});

