import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import koffi from 'koffi';
import { allEventNames, EVENTS, findEvent } from '../../../src/catalog/events.js';
import type { EventDefinition } from '../../../src/catalog/types.js';
import { cpuCount } from '../../../src/probes/ebpf/maps.js';
import { EbpfProbe, ebpfSupport, openEbpfProbe } from '../../../src/probes/ebpf/probe.js';
import { loadedPrograms } from '../../../src/probes/ebpf/programs.js';
import type { CompletedSyscall, Probe, TaskEvent } from '../../../src/probes/types.js';

const CLONE_THREAD = 0x10000;
import { type ObservedCall, startSyscaller, syscallerPath } from '../../support/syscaller.js';
import { byName, collect, expected, nsInode, seen } from './probe-helpers.js';
import { NO_32BIT, where32 } from '../../support/kernel-features.js';

const CALLS = where32([
  'ioperm:0x378:3:1',
  'ioperm32:0x378:3:1',
  'iopl:3',
  'iopl32:3',
  'thread:ioperm:0x80:1:0',
  'thread:ioperm32:0x80:1:0',
  'thread:iopl32:0',
  'ioctl:0:0x5413:0', // TIOCGWINSZ on stdin (a pipe): -ENOTTY
  'ioctl32:0:0x5413:0',
  'userfaultfd:0',
  'perf_event_open:0:0:-1:-1:0', // attr NULL: -EFAULT
  'ptrace:99:0:0:0', // 101 natively: the number of ioperm for int $0x80, must not be taken for it
  'getppid:3', // 110 natively: iopl's compat number
]);

/** Calls the helper makes that the probe must not report. */
const NOT_WATCHED = new Set(['ptrace', 'getppid']);


function cgroupId(pid: number): number {
  const path = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::'))!.slice(3);
  return statSync(`/sys/fs/cgroup${path}`).ino;
}

/** Thread start time from /proc (clock ticks since boot) in ns. */
function procStartNs(pid: number, tid: number): number {
  const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[19]) * (1e9 / 100);
}

/** Lines of a stream in flowing mode, awaited one at a time. */
function lineReader(stream: Readable): { next(): Promise<string> } {
  const ready: string[] = [];
  const waiting: Array<(l: string) => void> = [];
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    for (const l of parts) {
      const w = waiting.shift();
      if (w) w(l);
      else ready.push(l);
    }
  });
  stream.on('end', () => {
    for (const w of waiting.splice(0)) w('<end of output>');
  });
  return {
    next: () => new Promise<string>((resolve) => {
      const l = ready.shift();
      if (l !== undefined) resolve(l);
      else waiting.push(resolve);
    }),
  };
}

function assertContext(s: CompletedSyscall, pid: number, [t0, t1]: [number, number]): void {
  const c = s.context!;
  assert.ok(s.monoNs >= t0 && s.monoNs <= t1, `monoNs ${s.monoNs} within the run [${t0}, ${t1}]`);
  assert.ok(s.cpu >= 0 && s.cpu < cpuCount());
  assert.equal(c.pid, pid);
  assert.equal(c.comm, basename(syscallerPath()).slice(0, 15));
  assert.equal(c.ppid, process.pid);
  assert.equal(c.uid, process.getuid!());
  assert.equal(c.gid, process.getgid!());
  assert.equal(c.mntns, nsInode(pid, 'mnt'));
  assert.equal(c.pidns, nsInode(pid, 'pid'));
  assert.equal(c.cgroupId, cgroupId(pid));
  // In the initial PID namespace the namespaced ids are the host ids.
  assert.equal(c.nsPid, pid);
  assert.equal(c.nsTid, s.tid);
  assert.equal(c.nsPpid, process.pid);
  assert.ok(Math.abs(c.startTime - procStartNs(pid, s.tid)) <= 20e6, `start time ${c.startTime} vs /proc`);
}

const opened: Probe[] = [];
after(() => {
  for (const p of opened) p.close();
});

function track(p: EbpfProbe): EbpfProbe {
  opened.push(p);
  return p;
}

function open(options: Parameters<typeof openEbpfProbe>[0]): EbpfProbe {
  return track(openEbpfProbe(options) as EbpfProbe);
}

describe('ebpf probe on the real kernel', () => {
  it('reports BPF and BTF as available here', () => {
    assert.deepEqual(ebpfSupport(), { ok: true });
  });

  it('says BPF is not usable, and why, for an unprivileged user', () => {
    const module = new URL('../../../src/probes/ebpf/probe.js', import.meta.url).href;
    const out = execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--input-type=module', '-e',
      `import(${JSON.stringify(module)}).then((m) => console.log(JSON.stringify(m.ebpfSupport())))`], { encoding: 'utf8' });
    assert.deepEqual(JSON.parse(out), { ok: false, reason: 'loading a BPF program failed: not permitted (run as root, or with CAP_BPF and CAP_PERFMON)' });
  });

  for (const hook of ['btf', 'raw'] as const) {
  it(`reports each ioperm/iopl/ioctl/userfaultfd/perf_event_open call of a watched process, native and int $0x80, from several threads, with the args and return value the caller saw (${hook === 'btf' ? 'tp_btf, the default' : 'raw_tp'})`, async (t) => {
    const helper = await startSyscaller(CALLS);
    const probe = hook === 'btf'
      ? open({ events: [...EVENTS], compat: true, excludePids: [process.pid], pids: [helper.pid], followForks: true })
      : track(new EbpfProbe({ events: [...EVENTS], compat: true, excludePids: [process.pid], pids: [helper.pid], followForks: true }, 'raw'));
    assert.equal(probe.hook, hook);
    assert.equal(probe.hookFallback, undefined);
    assert.equal(probe.inflightKind, hook === 'btf' ? 'task' : 'hash');
    const t0 = Number(process.hrtime.bigint());
    const calls = await helper.go();
    const t1 = Number(process.hrtime.bigint());
    const got = await collect(probe, (s) => s.context?.pid === helper.pid, (n) => n >= calls.length - NOT_WATCHED.size);
    assert.equal(calls.length, CALLS.length);
    const watched = calls.filter((c) => !NOT_WATCHED.has(c.call));
    t.diagnostic(`returns seen by the helper: ${calls.map((c) => `${c.call}=${c.ret}`).join(' ')}`);
    assert.deepEqual(got.map(seen), watched.map(expected));

    const threads = new Set(calls.map((c) => c.tid));
    assert.equal(threads.size, 1 + CALLS.filter((c) => c.startsWith('thread:')).length, 'the main thread and one per thread: command');
    for (const s of got) assertContext(s, helper.pid, [t0, t1]);
    assert.deepEqual(probe.losses(), { losses: [], byEvent: {} });
    probe.close();
    await helper.end();
  });
  }

  it('with every syscall selected, filters by an id map and still tells 64-bit ptrace from 32-bit ioperm', async () => {
    const all = allEventNames().map((n) => findEvent(n)).filter((e): e is EventDefinition => e !== undefined);
    assert.ok(all.length > 300);
    const commands = CALLS.filter((c) => !c.startsWith('getppid'));
    const helper = await startSyscaller(commands);
    const probe = open({ events: all, compat: true, excludePids: [process.pid], pids: [helper.pid] });
    const calls = await helper.go();
    const names = new Set(calls.map((c) => c.call.replace(/32$/, '')));
    const mine = await collect(probe, (s) => s.context?.pid === helper.pid, () => false);
    const got = mine.filter((s) => names.has(s.event.name));
    // ptrace (not in the family table) has its args typed from the kernel's format file.
    assert.deepEqual(got.map(seen), calls.map(expected));
    // The helper's other syscalls are there too: one write(1, ...) per line it printed, at least.
    assert.ok(mine.filter((s) => s.event.name === 'write' && s.args[0] === 1).length >= calls.length);
    probe.close();
    await helper.end();
  });

  it('with compat off and many events, uses the raw hooks for 64-bit ids only instead of hundreds of slow-to-detach tracepoints', async () => {
    const many = ['getpid', 'getuid', 'getgid', 'geteuid', 'getegid', 'gettid', 'getpgrp', 'getsid'].map((n) => findEvent(n)!);
    const helper = await startSyscaller(where32(['ioperm:0x378:1:0', 'ioperm32:0x378:1:0']));
    const probe = open({ events: [byName('ioperm'), ...many], compat: false, excludePids: [process.pid], pids: [helper.pid] });
    assert.equal(probe.hook, 'btf');
    const calls = await helper.go();
    const got = await collect(probe, (s) => s.event.name === 'ioperm', (n) => n >= 1);
    assert.deepEqual(got.map(seen), calls.filter((c) => c.abi === 'native').map(expected));
    const t0 = performance.now();
    probe.close();
    assert.ok(performance.now() - t0 < 100, 'close is quick');
    await helper.end();
  });

  it('attaches to a syscall whose tracepoint has another name (stat is sys_enter_newstat) with compat off', () => {
    const stat = findEvent('stat')!;
    assert.equal(stat.tracepoint, 'newstat');
    open({ events: [stat], compat: false, excludePids: [process.pid] }).close();
  });

  it('with compat off, uses the per-syscall tracepoints and reports the native calls only', async () => {
    const helper = await startSyscaller(CALLS);
    const probe = open({ events: [...EVENTS], compat: false, excludePids: [process.pid], pids: [helper.pid] });
    assert.equal(probe.hook, 'tracepoint');
    assert.equal(probe.inflightKind, 'task');
    const t0 = Number(process.hrtime.bigint());
    const calls = await helper.go();
    const t1 = Number(process.hrtime.bigint());
    const native = calls.filter((c) => c.abi === 'native' && !NOT_WATCHED.has(c.call));
    assert.ok(native.length >= 6);
    const got = await collect(probe, (s) => s.context?.pid === helper.pid, (n) => n >= native.length);
    assert.deepEqual(got.map(seen), native.map(expected));
    for (const s of got) assertContext(s, helper.pid, [t0, t1]);
    probe.close();
    await helper.end();
  });

  it('follows processes forked after it started (followForks) and leaves out excluded and unlisted ones', async () => {
    // sh waits for a line, then runs the helper as its child: the fork happens while the probe runs.
    const exe = syscallerPath();
    const sh = spawn('sh', ['-c', 'read go; "$0" "$@"; true', exe, 'ioperm:0x60:1:1', NO_32BIT ? 'thread:iopl:3' : 'thread:iopl32:3'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const shExited = new Promise((r) => sh.once('exit', r));
    const lines = lineReader(sh.stdout);
    const other = await startSyscaller(['ioperm:0x60:1:1']); // not listed: must not appear
    const probe = open({ events: [byName('ioperm'), byName('iopl')], compat: true, excludePids: [process.pid], pids: [sh.pid!], followForks: true });
    sh.stdin.write('go\n');
    const ready = await lines.next();
    const childPid = Number(/^ready (\d+)$/.exec(ready)![1]);
    assert.notEqual(childPid, sh.pid);
    sh.stdin.write('go\n');
    const calls: ObservedCall[] = [];
    for (;;) {
      const l = await lines.next();
      if (l === 'done' || l === '<end of output>') break;
      calls.push(JSON.parse(l) as ObservedCall);
    }
    await other.go();
    const got = await collect(probe, () => true, (n) => n >= 2);
    assert.deepEqual(got.map(seen), calls.map(expected));
    assert.ok(got.every((s) => s.context!.pid === childPid && s.context!.ppid === sh.pid));
    assert.deepEqual(probe.trackedPids(), [sh.pid!, childPid].sort((a, b) => a - b));
    sh.stdin.end();
    await other.end();
    await shExited;
    // Gone processes leave the kernel's set, so a reused pid is not traced by mistake.
    assert.deepEqual(probe.trackedPids(), []);
    probe.close();
  });

  for (const hook of ['btf', 'raw', 'tracepoint'] as const) {
  it(`reports pid and tid as seen inside a new PID namespace, and a parent outside it as 0 (${hook})`, async () => {
    // unshare forks the helper as pid 1 of a new namespace before the probe starts: found through /proc (followForks).
    const helper = await startSyscaller(['--pid', '--fork', syscallerPath(), 'ioperm:0x3f8:8:1', 'thread:ioperm:0x2f8:8:0'], { exe: 'unshare' });
    const options = { events: [byName('ioperm')], compat: hook !== 'tracepoint', excludePids: [process.pid], pids: [helper.pid], followForks: true };
    const probe = track(new EbpfProbe(options, hook));
    const calls = await helper.go();
    assert.equal(calls.length, 2);
    const got = await collect(probe, () => true, (n) => n >= 2);
    // The helper prints the tid it sees inside its namespace.
    assert.deepEqual(got.map((s) => ({ ...seen(s), tid: s.context!.nsTid })), calls.map(expected));
    const hostPid = got[0].context!.pid;
    assert.notEqual(hostPid, 1);
    const nsIds = (tid: number): number[] => /NSpid:\s+([\d\s]+)/.exec(readFileSync(`/proc/${hostPid}/task/${tid}/status`, 'utf8'))![1].trim().split(/\s+/).map(Number);
    for (const [i, s] of got.entries()) {
      const c = s.context!;
      assert.equal(c.nsPid, 1);
      assert.equal(c.nsTid, calls[i].tid, 'the tid the helper saw from inside');
      assert.deepEqual(nsIds(s.tid), [s.tid, calls[i].tid]);
      assert.equal(c.nsPpid, 0);
      assert.equal(c.ppid, helper.pid);
      assert.equal(c.pidns, nsInode(hostPid, 'pid'));
      assert.notEqual(c.pidns, nsInode(process.pid, 'pid'));
    }
    probe.close();
    await helper.end();
  });
  }

  for (const others of [0, 10]) {
  it(`drops Watchpost's own calls in the kernel (excludePids) while tracing everyone else (${others ? 'long list: hash map' : 'short list: inline compares'})`, async () => {
    const excluded = await startSyscaller(['ioperm:0x70:2:1']);
    const watched = await startSyscaller(['ioperm:0x71:1:1']);
    const unused = Array.from({ length: others }, (_, i) => 4_000_000 + i); // never a live tgid here
    const probe = open({ events: [byName('ioperm')], compat: true, excludePids: [process.pid, ...unused, excluded.pid] });
    await excluded.go();
    const calls = await watched.go();
    const got = await collect(probe, (s) => s.context!.pid === watched.pid || s.context!.pid === excluded.pid, (n) => n >= 1);
    assert.deepEqual(got.map(seen), calls.map(expected));
    probe.close();
    await excluded.end();
    await watched.end();
  });
  }

  it('counts ring-buffer reservation failures so that delivered + lost equals what was generated', async () => {
    // getppid as a stand-in event: the helper can loop it, and a 4 KiB ring buffer (25 records) overflows.
    const getppid: EventDefinition = { name: 'getppid', nr: 110, compatNr: 64, sets: [], args: [], arches: ['x86_64'], description: '', related: [] };
    const helper = await startSyscaller(['getppid:500']);
    const probe = open({ events: [getppid], compat: true, excludePids: [process.pid], pids: [helper.pid], bufferKb: 1 });
    await helper.go();
    const got = await collect(probe, () => true, () => false);
    const ringbufFull = (): number | undefined => probe.losses().losses.find((l) => l.kind === 'ringbuf-full')?.count;
    const lost = ringbufFull() ?? 0;
    assert.ok(got.length > 0 && lost > 0, `delivered ${got.length}, lost ${lost}`);
    assert.equal(got.length + lost, 500);
    probe.close();
    assert.equal(ringbufFull(), lost, 'losses() still answers after close');
    await helper.end();
  });

  it('reports fork, exec and exit of tasks (lifecycle) in time order with the syscalls', async () => {
    const probe = open({ events: [byName('iopl')], compat: true, excludePids: [process.pid], lifecycle: true });
    const helper = await startSyscaller(['iopl:3', NO_32BIT ? 'thread:iopl:0' : 'thread:iopl32:0']);
    const calls = await helper.go();
    await helper.end();
    const seq: Array<CompletedSyscall | TaskEvent> = [];
    const tids = new Set([helper.pid, ...calls.map((c) => c.tid)]);
    const mine = (x: CompletedSyscall | TaskEvent): boolean =>
      'event' in x ? x.context!.pid === helper.pid : x.kind === 'fork' ? tids.has(x.childTid) : tids.has(x.tid);
    let idle = 0;
    while (idle < 20 && !seq.some((x) => !('event' in x) && x.kind === 'exit' && x.groupDead)) {
      const n = probe.drain((s) => mine(s) && seq.push(s), (t) => mine(t) && seq.push(t));
      idle = n === 0 ? idle + 1 : 0;
      await new Promise((r) => setTimeout(r, 10));
    }
    const kinds = seq.map((x) => ('event' in x ? `${x.event.name}@${x.tid}` : `${x.kind}@${x.kind === 'fork' ? x.childTid : x.tid}`));
    const thread = calls[1].tid;
    const at = (k: string): number => {
      const i = kinds.indexOf(k);
      assert.ok(i >= 0, `${k} in ${kinds.join(' ')}`);
      return i;
    };
    assert.ok(at(`fork@${helper.pid}`) < at(`exec@${helper.pid}`));
    assert.ok(at(`exec@${helper.pid}`) < at(`iopl@${helper.pid}`));
    assert.ok(at(`fork@${thread}`) < at(`iopl@${thread}`));
    assert.ok(kinds.includes(`exit@${helper.pid}`) && kinds.includes(`exit@${thread}`));
    const fork = seq.find((x): x is Extract<TaskEvent, { kind: 'fork' }> => !('event' in x) && x.kind === 'fork' && x.childTid === helper.pid)!;
    assert.ok(existsSync(`/proc/self/task/${fork.parentTid}`), 'forked by a thread of this process');
    assert.equal(fork.cloneFlags & CLONE_THREAD, 0);
    assert.equal(fork.comm, readFileSync(`/proc/self/task/${fork.parentTid}/comm`, 'utf8').trim());
    const threadFork = seq.find((x): x is Extract<TaskEvent, { kind: 'fork' }> => !('event' in x) && x.kind === 'fork' && x.childTid === thread)!;
    assert.equal(threadFork.parentTid, helper.pid);
    assert.notEqual(threadFork.cloneFlags & CLONE_THREAD, 0);
    const exec = seq.find((x): x is Extract<TaskEvent, { kind: 'exec' }> => !('event' in x) && x.kind === 'exec')!;
    assert.deepEqual({ tid: exec.tid, oldTid: exec.oldTid, filename: exec.filename }, { tid: helper.pid, oldTid: helper.pid, filename: syscallerPath() });
    assert.equal(seq.filter((x) => !('event' in x) && x.kind === 'exit' && x.groupDead).length, 1);
    const times = seq.map((x) => x.monoNs);
    assert.deepEqual(times, [...times].sort((a, b) => a - b));
    assert.equal(seq.filter((x) => 'event' in x).length, 2);
    probe.close();
  });

  it('finish() hands over what is buffered and counts the syscalls still in progress', async () => {
    const read: EventDefinition = {
      name: 'read', nr: 0, compatNr: 3, sets: [], arches: ['x86_64'], description: '', related: [],
      args: [
        { name: 'fd', kernelType: 'unsigned int', type: 'int32', tags: ['K'], description: '' },
        { name: 'buf', kernelType: 'char *', type: 'pointer', tags: ['U'], description: '' },
        { name: 'count', kernelType: 'size_t', type: 'uint64', tags: ['K'], description: '' },
      ],
    };
    const helper = await startSyscaller(['ioperm:0x378:1:0']);
    const probe = open({ events: [byName('ioperm'), read], compat: true, excludePids: [process.pid], pids: [helper.pid] });
    const calls = await helper.go();
    // After "done" the helper blocks in read(2) on its stdin: wait until the kernel says so.
    const inRead = (): boolean => readFileSync(`/proc/${helper.pid}/syscall`, 'utf8').startsWith('0 ');
    for (let i = 0; i < 200 && !inRead(); i++) await new Promise((r) => setTimeout(r, 5));
    assert.ok(inRead());
    const got: CompletedSyscall[] = [];
    probe.finish((s) => got.push(s));
    assert.deepEqual(got.filter((s) => s.event.name === 'ioperm').map(seen), calls.map(expected));
    // The read that got "go" may have started before or after the probe: if seen, it is complete and exact.
    const reads = got.filter((s) => s.event.name === 'read');
    assert.ok(reads.length <= 1 && reads.every((s) => s.args[0] === 0 && s.ret === 3 && s.tid === helper.pid));
    assert.deepEqual(probe.losses(), { losses: [{ kind: 'in-progress-at-stop', event: 'read', count: 1 }], byEvent: {} });
    assert.equal(probe.drain(() => assert.fail('closed')), 0);
    await helper.end();
  });

  it('releases everything it had opened when opening fails half way, and says why', () => {
    const fds = (): number => readdirSync('/proc/self/fd').length;
    const before = fds();
    const nosuch: EventDefinition = { ...byName('iopl'), name: 'no_such_syscall', nr: 9999 };
    assert.throws(
      () => openEbpfProbe({ events: [byName('ioperm'), nosuch], compat: false, excludePids: [process.pid] }),
      /no tracepoint syscalls\/sys_enter_no_such_syscall/,
    );
    assert.equal(fds(), before);
  });

  it('reads records that wrap around the end of a small ring buffer, in order and intact', () => {
    // This process calls getppid itself: 20 records per round through a 4 KiB ring (25 records) wrap it every round.
    const getppid: EventDefinition = { name: 'getppid', nr: 110, compatNr: 64, sets: [], args: [], arches: ['x86_64'], description: '', related: [] };
    const libc = koffi.load('libc.so.6');
    const syscall = libc.func('long syscall(long, ...)');
    const ppid = process.ppid; // (itself a getppid call: read it before tracing)
    const probe = open({ events: [getppid], compat: true, excludePids: [], pids: [process.pid], bufferKb: 1 });
    let last = 0;
    for (let round = 0; round < 12; round++) {
      for (let i = 0; i < 20; i++) assert.equal(Number(syscall(110)), ppid);
      const got: CompletedSyscall[] = [];
      probe.drain((s) => got.push(s));
      assert.equal(got.length, 20, `round ${round}`);
      for (const s of got) {
        assert.equal(s.event, getppid);
        assert.equal(s.ret, ppid);
        assert.equal(s.context!.pid, process.pid);
        assert.ok(s.monoNs > last);
        last = s.monoNs;
      }
    }
    assert.deepEqual(probe.losses(), { losses: [], byEvent: {} });
    probe.close();
  });

  it('leaves nothing loaded after close, even when closed twice', async (t) => {
    for (const hook of ['btf', 'raw', 'tracepoint'] as const) {
      const compat = hook !== 'tracepoint';
      const probe = track(new EbpfProbe({ events: [...EVENTS], compat, excludePids: [process.pid], pids: [1], followForks: true }, hook));
      const mine = probe.loadedPrograms();
      assert.ok(mine.length >= 3, `programs loaded: ${mine.map((p) => p.name).join(', ')}`);
      const live = new Set(loadedPrograms().map((p) => p.id));
      assert.ok(mine.every((p) => live.has(p.id)));
      probe.close();
      probe.close();
      // The kernel frees a detached program after an RCU grace period: give it up to two seconds.
      const t0 = performance.now();
      let after = loadedPrograms();
      while (after.some((p) => mine.some((m) => m.id === p.id)) && performance.now() - t0 < 2000) {
        await new Promise((r) => setTimeout(r, 10));
        after = loadedPrograms();
      }
      t.diagnostic(`${hook}: ${mine.length} programs gone ${(performance.now() - t0).toFixed(0)} ms after close()`);
      assert.deepEqual(after.filter((p) => mine.some((m) => m.id === p.id)), []);
      // By id: names are shared with other probes (earlier tests, other processes) still being freed.
      assert.ok(mine.every((m) => m.name.startsWith('wp_')));
      const bpftool = JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' })) as Array<{ id: number; name?: string }>;
      assert.ok(Array.isArray(bpftool));
      assert.deepEqual(bpftool.filter((p) => mine.some((m) => m.id === p.id)), []);
    }
  });
});
