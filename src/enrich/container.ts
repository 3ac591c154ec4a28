import { readFileSync, statSync } from 'node:fs';

/** Which container a process runs in, read from the shape of its cgroup path (no runtime API needed). */

export type ContainerRuntime = 'docker' | 'containerd' | 'crio' | 'podman' | 'systemd-nspawn' | 'lxc' | 'unknown';

export interface CgroupLine {
  /** Hierarchy id; 0 is the cgroup v2 (unified) hierarchy. */
  hierarchy: number;
  /** v1 controllers such as "cpu,cpuacct" or "name=systemd"; empty for v2. */
  controllers: string[];
  path: string;
}

export interface ContainerMatch {
  /** The runtime's container id: 64 hex digits, or the machine/container name for systemd-nspawn and LXC. */
  id: string;
  runtime: ContainerRuntime;
  /** Kubernetes pod UID with its dashes, when the path is a kubepods one. */
  podUID?: string;
  /** The cgroup path the container was recognised in (the v2 one when it matched there). */
  cgroupPath: string;
}

const HEX64 = '[0-9a-f]{64}';

/** Path elements that carry the id themselves: <prefix><id>[.scope]. Order does not matter; they cannot overlap. */
const SCOPES: readonly [RegExp, ContainerRuntime][] = [
  [new RegExp(`^docker-(${HEX64})\\.scope$`), 'docker'],
  [new RegExp(`^cri-containerd-(${HEX64})\\.scope$`), 'containerd'],
  [new RegExp(`^nerdctl-(${HEX64})\\.scope$`), 'containerd'],
  [new RegExp(`^crio-(${HEX64})(?:\\.scope)?$`), 'crio'],
  [new RegExp(`^libpod-(${HEX64})(?:\\.scope)?$`), 'podman'],
];
const BARE_ID = new RegExp(`^${HEX64}$`);

// systemd slice form kubepods-<qos>-pod<uid with _>.slice, cgroupfs form pod<uid>; static pods have a 32-hex UID without dashes.
const POD_UID = '([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12}|[0-9a-f]{32})';
const POD_SLICE = new RegExp(`^kubepods(?:-[a-z]+)*-pod${POD_UID}\\.slice$`);
const POD_DIR = new RegExp(`^pod${POD_UID}$`);

const NSPAWN_SCOPE = /^machine-(.+)\.scope$/;
const NSPAWN_SERVICE = /^systemd-nspawn@(.+)\.service$/;
const LXC_PAYLOAD = /^lxc\.payload\.(.+)$/;

/** systemd escapes unit names: "\x2d" is "-". */
const unescapeUnit = (name: string) => name.replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));

/** Splits /proc/<pid>/cgroup text ("hierarchy:controllers:path" per line; the path may itself contain colons). */
export function parseCgroupFile(text: string): CgroupLine[] {
  const lines: CgroupLine[] = [];
  for (const line of text.split('\n')) {
    const a = line.indexOf(':');
    const b = a < 0 ? -1 : line.indexOf(':', a + 1);
    if (b < 0) continue;
    lines.push({
      hierarchy: Number(line.slice(0, a)),
      controllers: a + 1 === b ? [] : line.slice(a + 1, b).split(','),
      path: line.slice(b + 1),
    });
  }
  return lines;
}

/** Recognises a container in one cgroup path; the outermost container wins, since that is the one the host's runtime knows. */
export function containerFromPath(path: string): ContainerMatch | undefined {
  const parts = path.split('/');
  let podUID: string | undefined;
  let inKubepods = false;
  const found = (id: string, runtime: ContainerRuntime): ContainerMatch =>
    podUID !== undefined ? { id, runtime, podUID, cgroupPath: path } : { id, runtime, cgroupPath: path };

  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (part === '') continue;
    if (part.startsWith('kubepods')) inKubepods = true;
    const pod = POD_SLICE.exec(part) ?? (inKubepods ? POD_DIR.exec(part) : null);
    if (pod) {
      podUID = pod[1].replaceAll('_', '-');
      continue;
    }
    for (const [re, runtime] of SCOPES) {
      const m = re.exec(part);
      if (m) return found(m[1], runtime);
    }
    if (BARE_ID.test(part)) {
      // cgroupfs drivers name the directory by the bare id; the parent tells whose it is.
      const parent = parts[i - 1];
      // Kubernetes without a systemd driver: docker left with dockershim (1.24), and CRI-O says crio-<id>, so containerd.
      const runtime: ContainerRuntime = parent === 'docker' ? 'docker' : podUID !== undefined ? 'containerd' : 'unknown';
      return found(part, runtime);
    }
    let m = NSPAWN_SCOPE.exec(part) ?? NSPAWN_SERVICE.exec(part);
    if (m) {
      const name = unescapeUnit(m[1]);
      if (name.startsWith('qemu-')) return undefined; // a libvirt virtual machine, not a container
      return found(name, 'systemd-nspawn');
    }
    m = LXC_PAYLOAD.exec(part);
    if (m) return found(m[1], 'lxc');
    if (part === 'lxc' && parts[i + 1]) return found(parts[i + 1], 'lxc');
  }
  return undefined;
}

/**
 * The container of a process from its /proc/<pid>/cgroup text (v1, v2 or hybrid), or undefined on the host.
 * The v2 line is tried first, then name=systemd, then the v1 controllers in file order.
 */
export function containerFromCgroups(cgroup: string | readonly CgroupLine[]): ContainerMatch | undefined {
  const lines = typeof cgroup === 'string' ? parseCgroupFile(cgroup) : cgroup;
  const rank = (l: CgroupLine) => (l.hierarchy === 0 ? 0 : l.controllers.includes('name=systemd') ? 1 : 2);
  const ordered = [...lines].sort((a, b) => rank(a) - rank(b));
  for (const line of ordered) {
    const match = containerFromPath(line.path);
    if (match) return match;
  }
  return undefined;
}

/** The container of a live process, or undefined on the host or when the process is gone. */
export function readContainer(pid: number): ContainerMatch | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  } catch {
    return undefined;
  }
  return containerFromCgroups(text);
}

/** The ids of the containers that have a live process now (read from every process's cgroups, once). */
export function liveContainerIds(pids: Iterable<number>): Set<string> {
  const ids = new Set<string>();
  for (const pid of pids) {
    const c = readContainer(pid);
    if (c) ids.add(c.id);
  }
  return ids;
}

/** The cgroup v2 path of a live process (the "0::" line), or undefined on a v1-only host or when the process is gone. */
export function readUnifiedCgroupPath(pid: number): string | undefined {
  try {
    return parseCgroupFile(readFileSync(`/proc/${pid}/cgroup`, 'utf8')).find((l) => l.hierarchy === 0)?.path;
  } catch {
    return undefined;
  }
}

let unifiedMount: string | null | undefined;

/** Where cgroup2 is mounted (its root, from mountinfo): /sys/fs/cgroup on pure v2 hosts, /sys/fs/cgroup/unified on hybrid ones, none on legacy v1 hosts. */
export function cgroup2Mount(): string | undefined {
  if (unifiedMount !== undefined) return unifiedMount ?? undefined;
  unifiedMount = null;
  try {
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      // "<id> <parent> <maj:min> <root> <mountpoint> <options> [optional…] - <fstype> <source> <super options>"
      const sep = line.indexOf(' - ');
      if (sep < 0 || !line.slice(sep + 3).startsWith('cgroup2 ')) continue;
      const fields = line.slice(0, sep).split(' ');
      if (fields[3] === '/') {
        unifiedMount = fields[4].replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
        break;
      }
    }
  } catch {
    // No mountinfo: no cgroup2 we can name.
  }
  return unifiedMount ?? undefined;
}

/**
 * The kernel's cgroup id of a cgroup v2 path (what bpf_get_current_cgroup_id() returns): the inode number of its
 * directory in the cgroup2 mount. Undefined when the cgroup no longer exists.
 */
export function cgroupIdOf(path: string): number | undefined {
  const mount = cgroup2Mount();
  if (mount === undefined) return undefined;
  try {
    return Number(statSync(mount + (path === '/' ? '' : path), { bigint: true }).ino);
  } catch {
    return undefined;
  }
}
