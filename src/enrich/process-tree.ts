import { basename } from 'node:path';
import { readlinkSync } from 'node:fs';
import type { TaskEvent } from '../probes/types.js';
import { listProcesses, listThreads, readProcInfo, type ProcInfo } from './proc.js';

const CLONE_PARENT = 0x8000;
const CLONE_THREAD = 0x10000;
const CLONE_NEWNS = 0x20000;
const CLONE_NEWPID = 0x20000000;
/** How long a dead task's entry stays: events still in flight (compat calls settle a drain later) must find it. */
const RETAIN_DEAD_NS = 5_000_000_000;
/** Processes read from /proc per turn of the event loop while seeding (~2 ms on the dev VM). */
const SEED_SLICE = 16;

interface Entry extends ProcInfo {
  /** CLOCK_MONOTONIC ns of the task's exit, when it died. */
  diedAt?: number;
  /** Some fields (namespace ids) could not be derived from the parent: read /proc once when asked. */
  refresh?: boolean;
}

/**
 * Who is who, by thread id: seeded from /proc at start, then kept current by the probes' fork/exec/exit records,
 * so an event from a process that already exited still says which process, parent and executable it was.
 */
export class ProcessTree {
  private readonly byTid = new Map<number, Entry>();
  private readonly threadsOf = new Map<number, Set<number>>();
  private readonly dead: number[] = [];
  private latestNs = 0;
  /** Tasks whose exit the probes reported before the seeding scan reached them (a zombie is still in /proc: keep it out). */
  private exitedWhileSeeding: Set<number> | undefined;

  constructor(private readonly read: (tid: number) => ProcInfo | undefined = readProcInfo) {}

  /**
   * Reads every live process (and names its threads) from /proc, SEED_SLICE processes per turn of the event loop: tracing
   * starts without waiting for the scan (~20 ms on the dev VM), and a lookup meanwhile reads /proc itself. Call it once
   * the probes report fork/exec/exit, so no task falls between the scan and the records.
   */
  seed(): this {
    const pids = listProcesses();
    const exited = (this.exitedWhileSeeding = new Set());
    let next = 0;
    const slice = (): void => {
      for (const end = Math.min(next + SEED_SLICE, pids.length); next < end; next++) this.seedProcess(pids[next], exited);
      if (next < pids.length) setImmediate(slice);
      else if (this.exitedWhileSeeding === exited) this.exitedWhileSeeding = undefined;
    };
    setImmediate(slice);
    return this;
  }

  private seedProcess(pid: number, exited: Set<number>): void {
    if (this.byTid.has(pid) || exited.has(pid)) return; // the records or a lookup were first
    const info = this.read(pid);
    if (!info) return;
    this.set(info);
    for (const tid of listThreads(pid)) {
      if (tid === pid || this.byTid.has(tid) || exited.has(tid)) continue;
      this.set({ ...info, tid, nsTid: info.nsPid === info.pid ? tid : info.nsTid });
    }
  }

  get size(): number {
    return this.byTid.size;
  }

  lookup(tid: number): ProcInfo | undefined {
    const e = this.byTid.get(tid);
    if (e) {
      if (e.refresh) {
        e.refresh = false;
        const fresh = this.read(tid);
        if (fresh && fresh.pid === e.pid) Object.assign(e, fresh, { startTime: e.startTime });
      }
      return e;
    }
    const info = this.read(tid);
    if (info) this.set(info);
    return info;
  }

  onTask(ev: TaskEvent): void {
    this.latestNs = ev.monoNs;
    switch (ev.kind) {
      case 'fork':
        this.fork(ev.parentTid, ev.childTid, ev.cloneFlags, ev.comm, ev.monoNs);
        break;
      case 'exec':
        this.exec(ev.tid, ev.oldTid, ev.filename);
        break;
      case 'exit':
        this.exit(ev.tid, ev.groupDead, ev.monoNs);
        break;
    }
    if (this.dead.length > 1024) this.sweep();
  }

  private fork(parentTid: number, childTid: number, flags: number, comm: string, ts: number): void {
    const parent = this.lookup(parentTid);
    if (!parent) {
      const info = this.read(childTid);
      if (info) this.set(info);
      return;
    }
    const thread = (flags & CLONE_THREAD) !== 0;
    const newPidNs = (flags & CLONE_NEWPID) !== 0;
    const sameNs = parent.nsPid === parent.pid && !newPidNs; // parent in the initial PID namespace: ids are the host's
    const pid = thread ? parent.pid : childTid;
    const entry: Entry = {
      tid: childTid,
      pid,
      ppid: thread ? parent.ppid : flags & CLONE_PARENT ? parent.ppid : parent.pid,
      uid: parent.uid,
      comm,
      exePath: parent.exePath,
      startTime: ts,
      mntns: flags & CLONE_NEWNS ? 0 : parent.mntns,
      pidns: newPidNs ? 0 : parent.pidns,
      nsPid: sameNs ? pid : thread ? parent.nsPid : 0,
      nsTid: sameNs ? childTid : 0,
      nsPpid: thread ? parent.nsPpid : sameNs ? parent.nsPid : newPidNs ? 0 : parent.nsPid,
      refresh: !sameNs || (flags & CLONE_NEWNS) !== 0,
    };
    if (!sameNs && entry.nsPid === 0) entry.nsPid = pid; // best known until /proc says otherwise
    if (!sameNs && entry.nsTid === 0) entry.nsTid = childTid;
    this.set(entry);
  }

  private exec(tid: number, oldTid: number, filename: string): void {
    // de_thread: the other threads are gone, and a non-leader that execs takes the leader's id
    const before = this.byTid.get(oldTid) ?? this.byTid.get(tid);
    const pid = before?.pid ?? tid;
    for (const t of this.threadsOf.get(pid) ?? []) if (t !== tid) this.remove(t);
    let exePath = filename;
    try {
      exePath = readlinkSync(`/proc/${tid}/exe`);
    } catch {
      // already gone: the path exec was given is the best we have
    }
    const base = before ?? this.read(tid);
    if (!base) return;
    this.set({ ...base, tid, pid, nsTid: base.nsPid, comm: basename(filename).slice(0, 15), exePath, diedAt: undefined });
  }

  private exit(tid: number, groupDead: boolean, ts: number): void {
    const e = this.byTid.get(tid);
    if (!e) {
      this.exitedWhileSeeding?.add(tid);
      return;
    }
    const tids = groupDead ? [...(this.threadsOf.get(e.pid) ?? [tid])] : [tid];
    for (const t of tids) {
      const x = this.byTid.get(t);
      if (x && x.diedAt === undefined) {
        x.diedAt = ts;
        this.dead.push(t);
      }
    }
  }

  /** Drops entries of tasks that died long enough ago. */
  sweep(): void {
    const horizon = this.latestNs - RETAIN_DEAD_NS;
    let keep = 0;
    for (const tid of this.dead) {
      const e = this.byTid.get(tid);
      if (!e || e.diedAt === undefined) continue;
      if (e.diedAt < horizon) this.remove(tid);
      else this.dead[keep++] = tid;
    }
    this.dead.length = keep;
  }

  private set(e: Entry): void {
    const old = this.byTid.get(e.tid);
    if (old && old.pid !== e.pid) this.threadsOf.get(old.pid)?.delete(e.tid);
    this.byTid.set(e.tid, e);
    let tids = this.threadsOf.get(e.pid);
    if (!tids) this.threadsOf.set(e.pid, (tids = new Set()));
    tids.add(e.tid);
  }

  private remove(tid: number): void {
    const e = this.byTid.get(tid);
    if (!e) return;
    this.byTid.delete(tid);
    const tids = this.threadsOf.get(e.pid);
    tids?.delete(tid);
    if (tids?.size === 0) this.threadsOf.delete(e.pid);
  }
}
