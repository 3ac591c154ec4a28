import { readdirSync, statSync } from 'node:fs';
import { containerFromCgroups, containerFromPath, cgroupIdOf, type ContainerMatch } from './container.js';
import { readFileSync } from 'node:fs';

export interface ContainerContext {
  cgroupId: number;
  container: ContainerMatch | undefined;
}

const NONE: ContainerContext = Object.freeze({ cgroupId: 0, container: undefined });
const MAX_CACHED = 65_536;

/**
 * Container and cgroup of a process, read once per process (keyed by pid and start time) and per cgroup id, so the
 * steady state reads no /proc file per event. A process already gone is resolved from the cgroup id the kernel
 * reported (eBPF) or, failing that, left to the caller (who may ask for the parent).
 */
export class ContainerResolver {
  private readonly byProcess = new Map<string, ContainerContext>();
  private readonly byCgroupId = new Map<number, ContainerMatch | null>();
  private cgroupIndexBuilt = 0;

  resolve(pid: number, startTime: number, cgroupId?: number): ContainerContext | undefined {
    if (cgroupId) {
      const hit = this.byCgroupId.get(cgroupId);
      if (hit !== undefined) return { cgroupId, container: hit ?? undefined };
    }
    const key = `${pid}:${startTime}`;
    const cached = this.byProcess.get(key);
    if (cached) return cached;
    const fromProc = this.read(pid);
    if (fromProc) {
      if (this.byProcess.size >= MAX_CACHED) this.byProcess.clear();
      this.byProcess.set(key, fromProc);
      if (fromProc.cgroupId) this.byCgroupId.set(fromProc.cgroupId, fromProc.container ?? null);
      return cgroupId ? { cgroupId, container: fromProc.container } : fromProc;
    }
    if (cgroupId) return { cgroupId, container: this.fromCgroupTree(cgroupId) };
    return undefined;
  }

  /** Forget a process (exec can move it; exit frees the key for reuse). */
  forget(pid: number, startTime: number): void {
    this.byProcess.delete(`${pid}:${startTime}`);
  }

  private read(pid: number): ContainerContext | undefined {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    } catch {
      return undefined;
    }
    const container = containerFromCgroups(text);
    const unified = /^0::(.*)$/m.exec(text)?.[1];
    const cgroupId = unified ? cgroupIdOf(unified) ?? 0 : 0;
    return cgroupId || container ? { cgroupId, container } : NONE;
  }

  /** A cgroup id with no live process to ask: find its directory in the cgroup2 tree (rebuilt at most once a second). */
  private fromCgroupTree(cgroupId: number): ContainerMatch | undefined {
    const now = Date.now();
    if (now - this.cgroupIndexBuilt < 1000) return undefined;
    this.cgroupIndexBuilt = now;
    const root = unifiedRoot();
    if (!root) return undefined;
    let found: ContainerMatch | undefined;
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
          const match = containerFromPath(path);
          if (!this.byCgroupId.has(ino)) this.byCgroupId.set(ino, match ?? null);
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

function unifiedRoot(): string | undefined {
  for (const candidate of ['/sys/fs/cgroup/unified', '/sys/fs/cgroup']) {
    try {
      if (statSync(`${candidate}/cgroup.procs`).isFile()) return candidate;
    } catch {
      // next
    }
  }
  return undefined;
}
