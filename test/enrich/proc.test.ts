import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync } from 'node:child_process';
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { listProcesses, listThreads, ProcCache, readProcInfo, type ProcInfo } from '../../src/enrich/proc.js';
import { startSleeper, stopChild } from './children.js';

const children: ChildProcess[] = [];
after(async () => {
  for (const child of children.reverse()) await stopChild(child);
});

const uptimeNs = () => Number(readFileSync('/proc/uptime', 'latin1').split(' ')[0]) * 1e9;
const nsIno = (pid: number, ns: string) => statSync(`/proc/${pid}/ns/${ns}`).ino;
const SLEEP = realpathSync(execFileSync('sh', ['-c', 'command -v sleep'], { encoding: 'utf8' }).trim());

async function until<T>(what: string, probe: () => T | undefined): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = probe();
    if (v !== undefined) return v;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('process info from /proc', () => {
  it('describes a child it did not start: comm, parent, uid, exe, start time, namespaces', () => {
    const before = uptimeNs();
    const child = startSleeper();
    children.push(child);
    const info = readProcInfo(child.pid);
    assert.ok(info);
    assert.equal(info.tid, child.pid);
    assert.equal(info.pid, child.pid);
    assert.equal(info.ppid, process.pid);
    assert.equal(info.uid, process.getuid?.());
    assert.equal(info.comm, 'sleep');
    assert.equal(info.exePath, SLEEP);
    // Clock ticks are 10 ms; /proc/uptime has the same resolution.
    assert.ok(Math.abs(info.startTime - before) < 1e9, `start ${info.startTime} vs uptime ${before}`);
    assert.equal(info.mntns, nsIno(child.pid, 'mnt'));
    assert.equal(info.pidns, nsIno(child.pid, 'pid'));
    assert.ok(info.mntns > 0 && info.pidns > 0);
    assert.deepEqual([info.nsPid, info.nsTid, info.nsPpid], [child.pid, child.pid, process.pid]);
  });

  it('describes each thread of a process with the process as its pid', () => {
    const tids = listThreads(process.pid);
    assert.ok(tids.length > 1, `node should have helper threads, saw ${tids}`);
    assert.ok(tids.includes(process.pid));
    const leader = readProcInfo(process.pid);
    for (const tid of tids.filter((t) => t !== process.pid)) {
      const info = readProcInfo(tid);
      if (info === undefined) continue; // a helper thread may end while we look
      assert.equal(info.tid, tid);
      assert.equal(info.pid, process.pid);
      assert.equal(info.nsTid, tid);
      assert.equal(info.nsPid, process.pid);
      assert.equal(info.exePath, leader?.exePath);
      assert.ok(info.startTime >= (leader?.startTime ?? Infinity));
    }
  });

  it('lists live processes, this one included', () => {
    const pids = listProcesses();
    assert.ok(pids.includes(process.pid) && pids.includes(1));
    assert.ok(pids.every((p) => Number.isInteger(p) && p > 0));
  });

  it('returns undefined quietly for a process that is gone', async () => {
    const child = startSleeper();
    const pid = child.pid;
    await stopChild(child);
    assert.equal(readProcInfo(pid), undefined);
    assert.equal(new ProcCache().get(pid), undefined);
    assert.deepEqual(listThreads(pid), []);
  });

  it('sees pids inside a new PID namespace and from the host', async () => {
    const outer = startSleeper('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', 'sh', '-c', 'sleep 1000 & wait']);
    children.push(outer);
    const childrenOf = (ppid: number) => listProcesses().map(readProcInfo).filter((i): i is ProcInfo => i?.ppid === ppid);
    const sh = await until('the namespace init', () => childrenOf(outer.pid).find((i) => i.comm === 'sh'));
    const sl = await until('the sleep in the namespace', () => childrenOf(sh.pid).find((i) => i.comm === 'sleep'));
    try {
      const host = readProcInfo(process.pid);
      assert.ok(host);
      assert.deepEqual([sh.nsPid, sh.nsTid, sh.nsPpid], [1, 1, 0], 'init of the namespace; its parent is outside');
      assert.deepEqual([sl.nsPid, sl.nsTid, sl.nsPpid], [2, 2, 1]);
      assert.deepEqual([sl.pid, sl.tid, sl.ppid], [sl.pid, sl.pid, sh.pid]);
      assert.ok(sl.pid !== 2 && sh.pid !== 1);
      assert.equal(sl.pidns, sh.pidns);
      assert.notEqual(sl.pidns, host.pidns);
      assert.notEqual(sl.mntns, host.mntns, '--mount-proc gives a new mount namespace');
      assert.equal(sl.exePath, SLEEP);
    } finally {
      // Killing the namespace's init takes the whole namespace down; all of these are our descendants.
      process.kill(sh.pid, 'SIGKILL');
    }
  });
});

describe('the process info cache', () => {
  it('serves cached info until invalidated, e.g. across an exec', async () => {
    const child = startSleeper('sh', ['-c', 'read line; exec sleep 1000']);
    children.push(child);
    const cache = new ProcCache();
    assert.equal(cache.get(child.pid)?.comm, 'sh');
    child.stdin?.write('go\n');
    await until('the exec', () => (readFileSync(`/proc/${child.pid}/comm`, 'utf8') === 'sleep\n' ? true : undefined));
    assert.equal(cache.get(child.pid)?.comm, 'sh', 'still the cached entry');
    cache.invalidate(child.pid);
    const fresh = cache.get(child.pid);
    assert.equal(fresh?.comm, 'sleep');
    assert.equal(fresh?.exePath, SLEEP);
  });

  it('keeps answering for a process after it exited, once cached', async () => {
    const child = startSleeper();
    const cache = new ProcCache();
    const before = cache.get(child.pid);
    await stopChild(child);
    assert.equal(readProcInfo(child.pid), undefined);
    assert.deepEqual(cache.get(child.pid), before);
    cache.forgetProcess(child.pid);
    assert.equal(cache.get(child.pid), undefined);
  });

  it('forgets every thread of a process at once', () => {
    const cache = new ProcCache();
    const child = startSleeper();
    children.push(child);
    const tids = listThreads(process.pid);
    for (const tid of tids) cache.get(tid);
    cache.get(child.pid);
    const mine = tids.filter((t) => cache.get(t) !== undefined).length;
    assert.ok(mine > 1);
    assert.equal(cache.size, mine + 1);
    cache.forgetProcess(process.pid);
    assert.equal(cache.size, 1);
    assert.equal(cache.get(child.pid)?.comm, 'sleep');
  });

  it('stays within its bound, dropping the oldest entries', () => {
    const cache = new ProcCache(2);
    const a = startSleeper();
    const b = startSleeper();
    const c = startSleeper();
    children.push(a, b, c);
    for (const p of [a, b, c]) assert.ok(cache.get(p.pid));
    assert.equal(cache.size, 2);
  });
});
