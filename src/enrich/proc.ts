import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/** Per-thread facts from /proc, cached by thread id: the fallback when the kernel side could not supply them. */

export interface ProcInfo {
  tid: number;
  /** Thread group id, as the host sees it. */
  pid: number;
  /** Parent's thread group id, as the host sees it. */
  ppid: number;
  /** Real user id. */
  uid: number;
  comm: string;
  /** Target of /proc/<pid>/exe; "" for kernel threads and zombies. A " (deleted)" suffix is kept: it matters. */
  exePath: string;
  /** Thread start time in nanoseconds since boot (from clock ticks, so 10 ms resolution). */
  startTime: number;
  /** Inode numbers of the mount and PID namespaces; 0 when unreadable. */
  mntns: number;
  pidns: number;
  /** pid, tid and ppid as seen inside the thread's own PID namespace; nsPpid is 0 when the parent lives outside it (as getppid() says). */
  nsPid: number;
  nsTid: number;
  nsPpid: number;
}

// USER_HZ is part of the Linux ABI and fixed at 100 on x86 and arm64, so /proc times tick every 10 ms.
const NS_PER_TICK = 10_000_000;
// Field 22 (starttime) counted after the ")" that closes comm: fields 3.. follow, so it is index 19.
const STARTTIME_INDEX = 22 - 3;

function lastNumber(line: string): number {
  const t = line.trimEnd();
  return Number(t.slice(t.lastIndexOf('\t') + 1));
}

function statusFields(text: string): { name: string; tgid: number; ppid: number; uid: number; nsTgid: number; nsPid: number } {
  let name = '';
  let tgid = 0;
  let ppid = 0;
  let uid = 0;
  let nsTgid = 0;
  let nsPid = 0;
  let at = 0;
  while (at < text.length) {
    let end = text.indexOf('\n', at);
    if (end < 0) end = text.length;
    const line = text.slice(at, end);
    at = end + 1;
    const colon = line.indexOf(':');
    switch (line.slice(0, colon)) {
      case 'Name': name = line.slice(colon + 2); break;
      case 'Tgid': tgid = Number(line.slice(colon + 1)); break;
      case 'PPid': ppid = Number(line.slice(colon + 1)); break;
      case 'Uid': uid = Number(line.slice(colon + 1).trim().split('\t')[0]); break;
      case 'NStgid': nsTgid = lastNumber(line); break;
      case 'NSpid': nsPid = lastNumber(line); return { name, tgid, ppid, uid, nsTgid, nsPid }; // last line we need
    }
  }
  return { name, tgid, ppid, uid, nsTgid: nsTgid || tgid, nsPid: nsPid || tgid };
}

function nsInode(tid: number, ns: 'mnt' | 'pid'): number {
  try {
    const link = readlinkSync(`/proc/${tid}/ns/${ns}`); // "mnt:[4026531841]"
    return Number(link.slice(link.indexOf('[') + 1, -1));
  } catch {
    return 0;
  }
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Reads one thread's facts from /proc; undefined when the thread is gone. */
export function readProcInfo(tid: number): ProcInfo | undefined {
  const status = readOrUndefined(`/proc/${tid}/status`);
  const stat = readOrUndefined(`/proc/${tid}/stat`);
  if (status === undefined || stat === undefined) return undefined;
  const s = statusFields(status);
  // comm may hold spaces and parentheses: the fields start after the last ")".
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  let exePath = '';
  try {
    exePath = readlinkSync(`/proc/${s.tgid}/exe`);
  } catch {
    // Kernel threads have no exe, nor do zombies.
  }
  const pidns = nsInode(tid, 'pid');
  let nsPpid = s.ppid;
  if (s.nsTgid !== s.tgid) {
    // In a child PID namespace the parent has a pid there only if it lives in the same namespace.
    const parentStatus = s.ppid > 0 && nsInode(s.ppid, 'pid') === pidns ? readOrUndefined(`/proc/${s.ppid}/status`) : undefined;
    nsPpid = parentStatus === undefined ? 0 : statusFields(parentStatus).nsTgid;
  }
  return {
    tid,
    pid: s.tgid,
    ppid: s.ppid,
    uid: s.uid,
    comm: s.name,
    exePath,
    startTime: Number(fields[STARTTIME_INDEX]) * NS_PER_TICK,
    mntns: nsInode(tid, 'mnt'),
    pidns,
    nsPid: s.nsTgid,
    nsTid: s.nsPid,
    nsPpid,
  };
}

/** Thread ids of a process, from /proc/<pid>/task; empty when it is gone. */
export function listThreads(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).map(Number);
  } catch {
    return [];
  }
}

/** Process ids of every live process, for seeding a process tree at start. */
export function listProcesses(): number[] {
  return readdirSync('/proc').filter((n) => n.charCodeAt(0) >= 48 && n.charCodeAt(0) <= 57).map(Number);
}

/**
 * Thread info by tid, read from /proc once and then served from memory. The owner invalidates on exec and exit.
 * Bounded: past maxEntries the oldest entries are dropped (they are re-read if asked for again).
 */
export class ProcCache {
  private readonly byTid = new Map<number, ProcInfo>();
  private readonly tidsByPid = new Map<number, Set<number>>();

  constructor(private readonly maxEntries = 65_536) {}

  get size(): number {
    return this.byTid.size;
  }

  /** The thread's info, or undefined quietly when it is gone and was never cached. */
  get(tid: number): ProcInfo | undefined {
    const hit = this.byTid.get(tid);
    if (hit !== undefined) return hit;
    const info = readProcInfo(tid);
    if (info === undefined) return undefined;
    if (this.byTid.size >= this.maxEntries) this.invalidate(this.byTid.keys().next().value as number);
    this.byTid.set(tid, info);
    let tids = this.tidsByPid.get(info.pid);
    if (tids === undefined) this.tidsByPid.set(info.pid, (tids = new Set()));
    tids.add(tid);
    return info;
  }

  /** Forgets one thread (e.g. after it exec'd or exited). */
  invalidate(tid: number): void {
    const info = this.byTid.get(tid);
    if (info === undefined) return;
    this.byTid.delete(tid);
    const tids = this.tidsByPid.get(info.pid);
    tids?.delete(tid);
    if (tids?.size === 0) this.tidsByPid.delete(info.pid);
  }

  /** Forgets every thread of a process (e.g. when it exited). */
  forgetProcess(pid: number): void {
    const tids = this.tidsByPid.get(pid);
    if (tids === undefined) return;
    for (const tid of tids) this.byTid.delete(tid);
    this.tidsByPid.delete(pid);
  }
}
