import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { findEvent } from '../../../src/catalog/events.js';
import type { EventDefinition } from '../../../src/catalog/types.js';
import { UsageError } from '../../../src/model/errors.js';
import { MAX_INLINE_VALUES, scopeKey } from '../../../src/probes/ebpf/kernel-scope.js';
import { currentKernelLayout, EbpfProbe } from '../../../src/probes/ebpf/probe.js';
import { enterProgram, type HookKind } from '../../../src/probes/ebpf/syscall-programs.js';
import type { CompletedSyscall, ProbeOptions } from '../../../src/probes/types.js';
import { type ObservedCall, startSyscaller, type Syscaller, syscallerPath } from '../../support/syscaller.js';
import { byName, collect, expected, nsInode, seen } from './probe-helpers.js';
import { NO_32BIT, where32 } from '../../support/kernel-features.js';

const HOOKS = ['btf', 'raw', 'tracepoint'] as const;
/** Native and int $0x80 calls, from the main thread and another one. */
const CALLS = where32(['ioperm:0x378:1:0', 'iopl32:0', 'thread:ioperm32:0x80:1:0']);
const AS_NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
const NOBODY = 65534;
type Scope = NonNullable<ProbeOptions['kernelScope']>;
/** Values no process here has: added to a kind, they take it past MAX_INLINE_VALUES, into a hash map. */
const FILLER: Required<Scope> = {
  uids: Array.from({ length: MAX_INLINE_VALUES }, (_, i) => 3_000_000 + i),
  comms: Array.from({ length: MAX_INLINE_VALUES }, (_, i) => `wp-none-${i}`),
  cgroupIds: Array.from({ length: MAX_INLINE_VALUES }, (_, i) => 2 ** 40 + i),
  mntns: Array.from({ length: MAX_INLINE_VALUES }, (_, i) => 4_026_000_000 + i),
};

const work = mkdtempSync(join(tmpdir(), 'wp-scope-'));
/** The helper under another file name: its comm is that name cut to 15 bytes. */
const LONG_NAME = 'wp-scope-helper-with-a-long-name';
const renamed = join(work, LONG_NAME);
copyFileSync(syscallerPath(), renamed);

const cgroups: string[] = [];
const probes: EbpfProbe[] = [];
const helpers: Syscaller[] = [];
after(async () => {
  for (const p of probes) p.close();
  for (const h of helpers) await h.end();
  for (const dir of cgroups) await removeCgroup(dir);
  rmSync(work, { recursive: true, force: true });
});

async function helper(commands: string[], options: Parameters<typeof startSyscaller>[1] = {}): Promise<Syscaller> {
  const h = await startSyscaller(commands, options);
  helpers.push(h);
  return h;
}

const inRead = (pid: number): boolean => readFileSync(`/proc/${pid}/syscall`, 'utf8').startsWith('0 ');

/** Waits until the process blocks in read(2) on its stdin (the helper before "go" and after "done"). */
async function untilInRead(pid: number): Promise<void> {
  for (let i = 0; i < 400 && !inRead(pid); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(inRead(pid), `pid ${pid} blocked in read`);
}

/** A fresh cgroup v2 directory (hybrid host: the v2 tree is at /sys/fs/cgroup/unified); its inode is the cgroup id. */
function makeCgroup(): { dir: string; id: number } {
  const dir = `/sys/fs/cgroup/unified/wp-scope-${process.pid}-${cgroups.length}`;
  mkdirSync(dir);
  cgroups.push(dir);
  return { dir, id: statSync(dir).ino };
}

async function removeCgroup(dir: string): Promise<void> {
  // The last member is reaped just after it exits: rmdir says EBUSY until then.
  for (let i = 0; ; i++) {
    try {
      rmdirSync(dir);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      if (i >= 100) throw e;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

/**
 * Traces the helpers (all listed in `pids`, so only the scope tells them apart) for ioperm, iopl and read; lets each make
 * its calls, waits until each blocks in read again, then finish(). In-scope helpers' calls must all arrive and nothing
 * of the others: not in the ring buffer (every record is handed over) and not even saved at entry (finish() finds no
 * read of theirs in progress).
 */
async function traceScoped(
  hook: HookKind,
  kernelScope: Scope,
  inScope: Syscaller[],
  outOfScope: Syscaller[],
  values: 'inline' | 'hash' = 'inline',
): Promise<CompletedSyscall[]> {
  if (values === 'hash') {
    kernelScope = Object.fromEntries(Object.entries(kernelScope).map(([k, v]) => [k, [...FILLER[k as keyof Scope], ...v]]));
  }
  const all = [...inScope, ...outOfScope];
  for (const h of all) await untilInRead(h.pid); // so the read that gets "go" started before the probe
  const compat = hook !== 'tracepoint';
  const options = { events: [byName('ioperm'), byName('iopl'), findEvent('read')!], compat, excludePids: [process.pid], pids: all.map((h) => h.pid), kernelScope };
  const probe = new EbpfProbe(options, hook);
  probes.push(probe);
  const order = ['uids', 'cgroupIds', 'mntns', 'comms'].filter((k) => k in kernelScope);
  assert.deepEqual(probe.scopeChecks(), order.map((kind) => ({ kind, values })));
  const calls = new Map<Syscaller, ObservedCall[]>();
  for (const h of all) calls.set(h, await h.go());
  for (const h of all) await untilInRead(h.pid);
  const got: CompletedSyscall[] = [];
  probe.finish((s) => got.push(s));
  const want = inScope.flatMap((h) => calls.get(h)!).filter((c) => compat || c.abi === 'native');
  assert.ok(want.length >= (compat && !NO_32BIT ? 3 : 1));
  const outPids = new Set(outOfScope.map((h) => h.pid));
  assert.deepEqual(got.filter((s) => outPids.has(s.context!.pid)).map(seen), [], 'nothing from out-of-scope processes');
  assert.deepEqual(got.map(seen), want.map(expected));
  const losses = probe.losses();
  assert.deepEqual({ losses: losses.losses, byEvent: losses.byEvent }, { losses: [{ kind: 'in-progress-at-stop', event: 'read', count: inScope.length }], byEvent: {} });
  // What the scope dropped is counted as filtered in the kernel (read too, which the helpers make a racy number of).
  const dropped = outOfScope.flatMap((h) => calls.get(h)!).filter((c) => compat || c.abi === 'native').map((c) => expected(c).event);
  for (const name of ['ioperm', 'iopl']) assert.equal(losses.filteredByEvent?.[name] ?? 0, dropped.filter((e) => e === name).length, `${name} filtered`);
  return got;
}

describe('ebpf kernelScope: uid, comm, cgroup and mount namespace filters in the kernel', () => {
  for (const [hook, values] of HOOKS.flatMap((h) => [[h, 'inline'], [h, 'hash']] as const)) {
    it(`keeps only calls of the listed uids (${hook}, ${values})`, async () => {
      const nobody = await helper(CALLS, { wrap: AS_NOBODY });
      const root = await helper(CALLS);
      const got = await traceScoped(hook, { uids: [NOBODY] }, [nobody], [root], values);
      assert.ok(got.every((s) => s.context!.uid === NOBODY));
    });

    it(`keeps only calls of the listed comms, a long name cut to 15 bytes as the kernel does (${hook}, ${values})`, async () => {
      const named = await helper(CALLS, { exe: renamed });
      const plain = await helper(CALLS);
      const got = await traceScoped(hook, { comms: ['no-such-comm', LONG_NAME] }, [named], [plain], values);
      assert.ok(got.every((s) => s.context!.comm === LONG_NAME.slice(0, 15)));
    });

    it(`keeps only calls from the listed cgroups (${hook}, ${values})`, async () => {
      const cg = makeCgroup();
      const inside = await helper(CALLS);
      writeFileSync(join(cg.dir, 'cgroup.procs'), String(inside.pid));
      const outside = await helper(CALLS);
      const got = await traceScoped(hook, { cgroupIds: [cg.id] }, [inside], [outside], values);
      assert.ok(got.every((s) => s.context!.cgroupId === cg.id));
    });

    it(`keeps only calls from the listed mount namespaces (${hook}, ${values})`, async () => {
      // unshare execs the helper in a new mount namespace (no fork: same pid).
      const unshared = await helper(['--mount', syscallerPath(), ...CALLS], { exe: 'unshare' });
      const host = await helper(CALLS);
      const mntns = nsInode(unshared.pid, 'mnt');
      assert.notEqual(mntns, nsInode(host.pid, 'mnt'));
      const got = await traceScoped(hook, { mntns: [mntns] }, [unshared], [host], values);
      assert.ok(got.every((s) => s.context!.mntns === mntns));
    });
  }

  it('ANDs the kinds given and ORs the values of one kind', async () => {
    const both = await helper(CALLS, { exe: renamed, wrap: AS_NOBODY });
    const rootNamed = await helper(CALLS, { exe: renamed });
    const wrongComm = await helper(CALLS, { wrap: AS_NOBODY });
    const host = nsInode(process.pid, 'mnt');
    await traceScoped('btf', { uids: [0, NOBODY], comms: [LONG_NAME], mntns: [host] }, [both, rootNamed], [wrongComm]);
  });

  it('keeps an execve that gives the caller a listed comm: records carry the comm at exit, which the scope judges', async () => {
    // sh (comm "sh") waits for a line, then execs the renamed helper: execve enters as "sh" and returns as the helper.
    const sh = spawn('sh', ['-c', 'read go; exec "$0" "$@"', renamed, 'ioperm:0x378:1:0'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const exited = new Promise((r) => sh.once('exit', r));
    try {
      await untilInRead(sh.pid!);
      const probe = new EbpfProbe({ events: [findEvent('execve')!, byName('ioperm')], compat: true, excludePids: [process.pid], pids: [sh.pid!], kernelScope: { comms: [LONG_NAME] } }, 'btf');
      probes.push(probe);
      sh.stdin.write('go\n');
      const got = await collect(probe, () => true, (n) => n >= 1);
      assert.deepEqual(got.map((s) => [s.event.name, s.ret, s.context!.comm]), [['execve', 0, LONG_NAME.slice(0, 15)]]);
      // The helper itself (now in scope) is traced as usual.
      sh.stdin.write('go\n');
      const more = await collect(probe, () => true, (n) => n >= 1);
      assert.deepEqual(more.map((s) => [s.event.name, s.context!.pid]), [['ioperm', sh.pid]]);
      probe.close();
    } finally {
      sh.stdin.end();
      await exited;
    }
  });

  it('filters nothing for an absent or empty kind, and emits no code for it', () => {
    const layout = currentKernelLayout();
    const maps = { inflight: 3, inflightKind: 'task' as const, ringbuf: 4, losses: 5, eventLosses: 6 };
    const plain = enterProgram({ hook: 'btf', nativeIds: [173], compatIds: [101], layout, maps });
    const empty = enterProgram({ hook: 'btf', nativeIds: [173], compatIds: [101], layout, maps, scope: [] });
    assert.deepEqual(empty, plain);
    const probe = new EbpfProbe({ events: [byName('ioperm')], compat: true, excludePids: [], kernelScope: { uids: [], comms: [] } });
    probes.push(probe);
    assert.ok(probe.loadedPrograms().length > 0);
    assert.deepEqual(probe.scopeChecks(), []);
    probe.close();
  });

  it('refuses a value that can never be a uid, comm, cgroup id or namespace, naming it', () => {
    assert.throws(() => scopeKey('uids', -1), (e: unknown) => e instanceof UsageError && /kernelScope\.uids: -1 is not a uid/.test(e.message));
    assert.throws(() => scopeKey('mntns', 2 ** 32), /kernelScope\.mntns: 4294967296 is not a mount namespace/);
    assert.throws(() => scopeKey('cgroupIds', 1.5), /kernelScope\.cgroupIds: 1\.5 is not a cgroup id/);
    assert.throws(() => scopeKey('comms', ''), /kernelScope\.comms: "" is not a process name/);
  });

  it('builds keys as the kernel lays the values out (synthetic)', () => {
    assert.deepEqual([...scopeKey('uids', 65534)], [0xfe, 0xff, 0, 0]);
    assert.deepEqual([...scopeKey('mntns', 4026531841)], [0x01, 0x00, 0x00, 0xf0]);
    assert.deepEqual([...scopeKey('cgroupIds', 2 ** 40 + 1)], [1, 0, 0, 0, 0, 1, 0, 0]);
    const comm = (s: string): string => Buffer.from(scopeKey('comms', s)).toString('latin1');
    assert.equal(comm('bash'), 'bash' + '\0'.repeat(12));
    assert.equal(comm(LONG_NAME), LONG_NAME.slice(0, 15) + '\0');
    // UTF-8 bytes, cut at 15 bytes like the kernel cuts the file name.
    assert.deepEqual([...scopeKey('comms', 'é'.repeat(8))], [...Buffer.from('é'.repeat(8)).subarray(0, 15), 0]);
  });
});

describe('ebpf per-event losses', () => {
  // getppid as a stand-in event the helper can loop; ioperm and iopl (int $0x80) after it, when the ring is full.
  const getppid: EventDefinition = { name: 'getppid', nr: 110, compatNr: 64, sets: [], args: [], arches: ['x86_64'], description: '', related: [] };
  const issued = { getppid: 400, ioperm: 40, iopl: 30 };
  const commands = [`getppid:${issued.getppid}`, ...Array<string>(issued.ioperm).fill('ioperm:0x378:1:0'), ...Array<string>(issued.iopl).fill(NO_32BIT ? 'iopl:0' : 'iopl32:0')]; // 32-bit where the kernel runs it

  for (const hook of ['btf', 'raw'] as const) {
    it(`counts ring-buffer losses by event, so that delivered + lost equals issued for each (${hook})`, async () => {
      const h = await helper(commands);
      const probe = new EbpfProbe({ events: [getppid, byName('ioperm'), byName('iopl')], compat: true, excludePids: [process.pid], pids: [h.pid], bufferKb: 1 }, hook);
      probes.push(probe);
      await h.go(); // nothing is drained meanwhile: a 4 KiB ring (25 records) overflows
      const got = await collect(probe, () => true, () => false);
      const { losses, byEvent } = probe.losses();
      const delivered: Record<string, number> = {};
      for (const s of got) delivered[s.event.name] = (delivered[s.event.name] ?? 0) + 1;
      for (const [name, n] of Object.entries(issued)) {
        assert.equal((delivered[name] ?? 0) + (byEvent[name] ?? 0), n, `${name}: delivered ${delivered[name]}, lost ${byEvent[name]}`);
      }
      assert.ok((byEvent.ioperm ?? 0) > 0 && (byEvent.iopl ?? 0) > 0, `lost by event: ${JSON.stringify(byEvent)}`);
      assert.deepEqual(losses.map((l) => l.kind), ['ringbuf-full']);
      assert.equal(losses[0].count, Object.values(byEvent).reduce((a, b) => a + b, 0));
      probe.close();
      assert.deepEqual(probe.losses().byEvent, byEvent, 'losses() still answers after close');
    });
  }
});
