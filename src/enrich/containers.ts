import { readdirSync, readFileSync, statSync } from 'node:fs';
import { cgroup2Mount, containerFromCgroups, containerFromPath, cgroupIdOf, parseCgroupFile, type ContainerMatch } from './container.js';

export interface ContainerContext {
  cgroupId: number;
  container: ContainerMatch | undefined;
}

/** Where the resolver reads from; tests give fakes. */
export interface CgroupSource {
  /** /proc/<pid>/cgroup text, or undefined when the process is gone. */
  cgroupFile(pid: number): string | undefined;
  /** The kernel's id of a cgroup v2 path, or undefined when it is gone. */
  cgroupId(path: string): number | undefined;
  /** Whether this kernel has cgroup v1 hierarchies (hybrid or legacy host): then a v2 path alone does not say "host". */
  hasV1(): boolean;
  /** Whether the process is exiting or a zombie (or gone): the kernel then shows "/" on every v1 hierarchy. */
  isExiting(pid: number): boolean;
}

const NONE: ContainerContext = Object.freeze({ cgroupId: 0, container: undefined });
const MAX_CACHED = 65_536;
const PF_EXITING = 0x4; // include/linux/sched.h

interface Cached {
  /** The process's start time: another one under the same pid is another process. */
  startTime: number;
  ctx: ContainerContext;
  /** The cgroup id the kernel reported when it was read: another one means the process moved. */
  kernelCgroupId: number | undefined;
}

/**
 * Container and cgroup of a process, read once per process (keyed by pid and start time) and per cgroup id, so the
 * steady state reads no /proc file per event. A cgroup v2 id stands for a container only where the v2 path decided
 * it: on hybrid and v1 hosts every host process and every v1-only container (Docker's cgroupfs driver) share cgroup2
 * "/". A process already gone is resolved from the cgroup id the kernel reported (eBPF) where that id decides, else
 * left to the caller (who may ask for the parent).
 */
export class ContainerResolver {
  /** By pid (numeric keys: resolve runs once per event). */
  private readonly byProcess = new Map<number, Cached>();
  /** Only cgroup ids whose v2 path decides: a container's, or any on a host without v1 hierarchies. */
  private readonly byCgroupId = new Map<number, ContainerContext>();
  private cgroupIndexBuilt = 0;

  constructor(private readonly source: CgroupSource = procSource) {}

  resolve(pid: number, startTime: number, cgroupId?: number): ContainerContext | undefined {
    if (cgroupId) {
      const hit = this.byCgroupId.get(cgroupId);
      if (hit !== undefined) return hit;
    }
    let cached = this.byProcess.get(pid);
    if (cached !== undefined && cached.startTime !== startTime) cached = undefined;
    if (cached && (!cgroupId || cached.kernelCgroupId === cgroupId)) return cached.ctx;
    const fromProc = this.read(pid);
    if (fromProc) {
      if (this.byProcess.size >= MAX_CACHED) this.byProcess.clear();
      this.byProcess.set(pid, { startTime, ctx: fromProc.ctx, kernelCgroupId: cgroupId });
      if (fromProc.ctx.cgroupId && fromProc.decisive) this.remember(fromProc.ctx.cgroupId, fromProc.ctx.container ?? null);
      return cgroupId ? { cgroupId, container: fromProc.ctx.container } : fromProc.ctx;
    }
    if (cached) return cached.ctx; // gone since: what it was last seen in
    if (cgroupId) {
      const container = this.fromCgroupTree(cgroupId);
      if (container !== undefined) return { cgroupId, container: container ?? undefined };
    }
    return undefined;
  }

  /** The process's container, and whether its cgroup v2 path alone decided it (so its v2 id may stand for it). */
  private read(pid: number): { ctx: ContainerContext; decisive: boolean } | undefined {
    const text = this.source.cgroupFile(pid);
    if (text === undefined) return undefined;
    const lines = parseCgroupFile(text);
    const unified = lines.find((l) => l.hierarchy === 0)?.path;
    const container = containerFromCgroups(lines);
    const cgroupId = unified ? this.source.cgroupId(unified) ?? 0 : 0;
    const v2Only = lines.every((l) => l.hierarchy === 0);
    const decisive = container !== undefined ? container.cgroupPath === unified : v2Only;
    // Checked after the cgroup read: a task that was exiting then still is now, and its v1 lines said nothing.
    if (!container && !v2Only && this.source.isExiting(pid)) return undefined;
    return { ctx: cgroupId || container ? { cgroupId, container } : NONE, decisive };
  }

  private remember(cgroupId: number, container: ContainerMatch | null): void {
    if (this.byCgroupId.size >= MAX_CACHED) this.byCgroupId.clear();
    this.byCgroupId.set(cgroupId, Object.freeze({ cgroupId, container: container ?? undefined })); // shared by its events
  }

  /**
   * A cgroup id with no live process to ask: find its directory in the cgroup2 tree (rebuilt at most once a second).
   * Null: the host, decided; undefined: not known from the id alone.
   */
  private fromCgroupTree(cgroupId: number): ContainerMatch | null | undefined {
    const now = Date.now();
    if (now - this.cgroupIndexBuilt < 1000) return undefined;
    this.cgroupIndexBuilt = now;
    const root = cgroup2Mount();
    if (!root) return undefined;
    const hostDecides = !this.source.hasV1();
    let found: ContainerMatch | null | undefined;
    const walk = (dir: string, rel: string, depth: number): void => {
      if (depth > 12) return;
      let names: string[];
      try {
        names = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
      } catch {
        return;
      }
      for (const name of names) {
        const path = `${rel}/${name}`;
        try {
          const ino = Number(statSync(`${dir}/${name}`, { bigint: true }).ino);
          const match = containerFromPath(path) ?? (hostDecides ? null : undefined);
          if (match !== undefined && !this.byCgroupId.has(ino)) this.remember(ino, match);
          if (ino === cgroupId) found = match;
        } catch {
          continue;
        }
        walk(`${dir}/${name}`, path, depth + 1);
      }
    };
    walk(root, '', 0);
    return found;
  }
}

let v1Hierarchies: boolean | undefined;

/** The live system: /proc, the cgroup2 mount, and our own cgroup file (which lists every hierarchy the kernel has). */
const procSource: CgroupSource = {
  cgroupFile(pid) {
    try {
      return readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    } catch {
      return undefined;
    }
  },
  cgroupId: cgroupIdOf,
  hasV1() {
    if (v1Hierarchies === undefined) {
      const own = procSource.cgroupFile(process.pid);
      v1Hierarchies = own === undefined || parseCgroupFile(own).some((l) => l.hierarchy !== 0);
    }
    return v1Hierarchies;
  },
  isExiting(pid) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return true;
    }
    // "pid (comm) state ppid pgrp session tty_nr tpgid flags …"; comm may hold spaces and parentheses
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' || fields[0] === 'X' || (Number(fields[6]) & PF_EXITING) !== 0;
  },
};
