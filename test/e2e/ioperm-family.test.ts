import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { describe, it } from 'node:test';
import { trace, type SyscallEvent } from '../../src/trace.js';
import { syscallerPath, type ObservedCall } from '../support/syscaller.js';
import { traced as tracedRun } from '../support/traced.js';
import { NO_32BIT, where32 } from '../support/kernel-features.js';

/** The helper's calls under a trace of `events` on `backend` (see support/traced.ts). */
const traced = (backend: Backend, events: string[], commands: string[]) => tracedRun({ backend, events }, commands);

type Backend = 'tracefs' | 'ebpf';
const BACKENDS: Backend[] = ['tracefs', 'ebpf'];

const eventName = (call: string): string => call.replace(/32$/, '');

function argNumbers(ev: SyscallEvent): number[] {
  return ev.args.map((a) => Number(a.value));
}

/** Pairs each observed call with exactly one reported event; fails on a missing or an extra event. */
function match(calls: ObservedCall[], got: SyscallEvent[]): Array<[ObservedCall, SyscallEvent]> {
  const left = [...got];
  const pairs: Array<[ObservedCall, SyscallEvent]> = [];
  for (const c of calls) {
    const i = left.findIndex(
      (e) =>
        e.hostThreadId === c.tid &&
        e.eventName === eventName(c.call) &&
        e.contextFlags.isCompat === (c.abi === 'compat') &&
        argNumbers(e).every((v, k) => v === c.args[k]),
    );
    assert.ok(i >= 0, `no event for ${JSON.stringify(c)}; got ${JSON.stringify(got.map((e) => [e.eventName, e.hostThreadId, argNumbers(e), e.contextFlags]))}`);
    pairs.push([c, left.splice(i, 1)[0]]);
  }
  assert.deepEqual(left.map((e) => [e.eventName, argNumbers(e)]), [], 'events nobody made');
  return pairs;
}

for (const backend of BACKENDS) {
describe(`ioperm family on the real kernel (${backend})`, { timeout: 120_000 }, () => {
  it('reports ioperm and iopl, native and 32-bit, main thread and a second thread, with the args and return value the caller saw', async () => {
    const before = Date.now() * 1e6;
    const commands = where32(['ioperm:0x378:3:1', 'ioperm32:0x3f8:8:1', 'thread:ioperm:0x60:5:0', 'thread:ioperm32:0xcf8:8:1', 'iopl:3', 'iopl32:2']);
    const { calls, got, pid } = await traced(backend, ['ioperm', 'iopl'], commands);
    const after = Date.now() * 1e6;
    assert.equal(calls.length, commands.length);
    const threads = new Set(calls.map((c) => c.tid));
    assert.equal(threads.size, NO_32BIT ? 2 : 3, 'extra threads made calls');
    for (const [c, e] of match(calls, got)) {
      assert.equal(e.returnValue, c.ret, `returnValue of ${c.call}`);
      assert.equal(e.processId, pid);
      assert.equal(e.hostProcessId, pid);
      assert.equal(e.threadId, c.tid);
      assert.equal(e.parentProcessId, process.pid);
      assert.equal(e.processName, 'watchpost-sysca'); // comm: the file name cut to 15 bytes
      assert.equal(e.executable.path, syscallerPath());
      assert.equal(e.userId, process.getuid!());
      assert.equal(e.hostName, hostname());
      assert.equal(e.eventId, e.eventName === 'ioperm' ? '173' : '172');
      assert.equal(e.syscall, e.eventName);
      assert.equal(e.argsNum, e.args.length);
      assert.ok(e.timestamp >= before - 5e6 && e.timestamp <= after + 5e6, `timestamp ${e.timestamp} within the run`);
      assert.ok(e.processorId >= 0);
    }
    const ioperm = got.find((e) => e.eventName === 'ioperm')!;
    assert.deepEqual(
      ioperm.args.map((a) => [a.name, a.type]),
      [['from', 'uint64'], ['num', 'uint64'], ['turn_on', 'int32']],
    );
    assert.equal(typeof ioperm.args[0].value, 'bigint');
    assert.equal(typeof ioperm.args[2].value, 'number');
  });

  it('does not mistake 64-bit ptrace (101) and getppid (110) for 32-bit ioperm and iopl', async () => {
    const commands = where32(['ptrace:99:0:0:0', 'getppid:50', 'ioperm32:0x70:2:1', 'getppid:5']);
    const { calls, got } = await traced(backend, ['ioperm', 'iopl'], commands);
    assert.equal(calls.length, commands.length);
    const compat = calls.filter((c) => c.abi === 'compat');
    match(compat, got);
  });

  it('reports ioctl, userfaultfd and perf_event_open with their arguments', async () => {
    const { calls, got } = await traced(backend, 
      ['ioctl', 'userfaultfd', 'perf_event_open'],
      where32(['ioctl:0:0x5413:0', 'ioctl32:0:0x541b:0', 'userfaultfd:0x800', 'perf_event_open:0:-1:0:-1:8']),
    );
    for (const [c, e] of match(calls, got)) assert.equal(e.returnValue, c.ret, c.call);
    const perf = got.find((e) => e.eventName === 'perf_event_open')!;
    assert.deepEqual(perf.args.map((a) => a.value), ['0x0', -1, 0, -1, 8n]);
  });

  it('rejects an unknown event name, naming the closest ones', async () => {
    const t = trace({ backend, events: ['iopem'] });
    await assert.rejects(t.ready, /unknown event 'iopem'; did you mean ioperm/);
  });
});

describe(`who made the call, even when it is already gone (${backend})`, { timeout: 120_000 }, () => {
  it('names the process of a thread that exited before the event was read', async () => {
    const { calls, got, pid } = await traced(backend, ['ioperm'], ['shortthread:ioperm:0x2f8:8:1']);
    const [[c, e]] = match(calls, got);
    assert.notEqual(c.tid, pid);
    assert.equal(e.processId, pid);
    assert.equal(e.hostThreadId, c.tid);
    assert.equal(e.parentProcessId, process.pid);
    assert.equal(e.processName, 'watchpost-sysca');
    assert.equal(e.executable.path, syscallerPath());
    assert.notEqual(e.threadEntityId, 0);
    assert.notEqual(e.processEntityId, e.threadEntityId);
  });

  it('gives the exe, parent and start time of a process that exec\'d, called ioperm and exited at once', async () => {
    const before = Date.now() * 1e6;
    const { calls, got, pid } = await traced(backend, ['ioperm'], ['spawn:ioperm:0xcf8:8:1']);
    const [[c, e]] = match(calls, got);
    assert.notEqual(c.tid, pid, 'the call came from the spawned child');
    assert.equal(e.processId, c.tid);
    assert.equal(e.parentProcessId, pid);
    assert.equal(e.executable.path, syscallerPath());
    assert.equal(e.processName, 'watchpost-sysca');
    assert.ok(e.threadStartTime >= before - 20e6 && e.threadStartTime <= e.timestamp, `start ${e.threadStartTime} before the call ${e.timestamp}`);
    assert.equal(e.returnValue, c.ret);
  });
});
}

for (const backend of BACKENDS) {
  describe(`any syscall by name (${backend})`, { timeout: 120_000 }, () => {
    // eBPF reads the path's text at entry; tracefs has only its address
    const text = backend === 'ebpf';
    it(`-e openat reports the file the test opened: dirfd, path ${text ? 'text' : 'address'}, flags and the fd it got`, async () => {
      const { calls, got } = await traced(backend, ['openat'], ['openat:/etc/hostname:0x80000', 'openat:/nonexistent-wp:0']);
      assert.equal(calls.length, 2);
      for (const c of calls) {
        const path = text ? (c as unknown as { path: string }).path : `0x${c.args[1].toString(16)}`;
        const e = got.find((x) => x.eventName === 'openat' && x.args[1].value === path && x.args[2].value === c.args[2]);
        assert.ok(e, `openat event for ${JSON.stringify(c)} among ${got.length}`);
        assert.deepEqual(e.args.map((a) => [a.name, a.type]), [['dirfd', 'int32'], ['pathname', text ? 'string' : 'pointer'], ['flags', 'int32'], ['mode', 'uint32']]);
        assert.equal(e.args[0].value, -100);
        assert.equal(e.args[2].value, c.args[2]);
        assert.equal(e.returnValue, c.ret);
        assert.equal(e.eventId, '257');
      }
      assert.ok(calls[0].ret >= 0 && calls[1].ret === -2, 'one opened, one ENOENT');
      assert.equal(got.find((x) => x.returnValue === -2)?.errno, 'ENOENT');
    });
  });
}

for (const backend of BACKENDS) {
  describe(`the set "syscalls" (${backend})`, { timeout: 120_000 }, () => {
    it('selects every syscall: the family and the rest, 64-bit getppid included, while 32-bit iopl stays iopl', async () => {
      const { calls, got } = await traced(backend, ['syscalls'], where32(['ioperm:0x378:1:1', 'getppid:3', 'iopl32:3', 'openat:/etc/hostname:0']));
      const tid = calls[0].tid;
      const names = got.filter((e) => e.hostThreadId === tid).map((e) => e.eventName + (e.contextFlags.isCompat ? '32' : ''));
      assert.ok(names.includes('ioperm'));
      assert.equal(names.filter((n) => n === 'getppid').length, 3);
      if (!NO_32BIT) assert.ok(names.includes('iopl32'), '110 from int $0x80 is iopl, not getppid');
      assert.ok(!names.includes('iopl'), 'no native iopl was made');
      assert.ok(names.includes('openat'));
      assert.ok(names.includes('write'), 'the helper printing its results');
    });
  });
}
