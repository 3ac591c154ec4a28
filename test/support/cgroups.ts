import { existsSync, mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';

/** A cgroup mount point with a root of "/": v1 options are its controllers or name=…; v2 has none. */
export interface CgroupMount {
  dir: string;
  options: string[];
}

/** cgroup mount points from mountinfo, found independently of the code under test. */
export function cgroupMounts(): { v2: string | undefined; v1: CgroupMount[] } {
  let v2: string | undefined;
  const v1: CgroupMount[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [left, right] = line.split(' - ');
    if (!right) continue;
    const [fstype, , superOptions] = right.split(' ');
    const fields = left.split(' ');
    if (fields[3] !== '/') continue;
    if (fstype === 'cgroup2') v2 ??= fields[4];
    if (fstype === 'cgroup') v1.push({ dir: fields[4], options: superOptions.split(',').filter((o) => o !== 'rw' && o !== 'ro') });
  }
  return { v2, v1 };
}

/**
 * Cgroups a test makes under ROOT/<base>/…, remembered so that removeAll() deletes every one, deepest first, once the
 * test's tasks are gone (a cgroup with a task cannot be removed; a reaped task leaves a moment later, hence the retry).
 */
export class TestCgroups {
  private readonly made: string[] = [];

  constructor(private readonly base: string) {}

  /** Creates root/<base>/rel (each missing level); returns its directory. */
  make(root: string, rel: string): string {
    let dir = root;
    for (const part of [this.base, ...rel.split('/')]) {
      dir = join(dir, part);
      if (!existsSync(dir)) {
        mkdirSync(dir);
        this.made.push(dir);
      }
    }
    return dir;
  }

  async removeAll(): Promise<void> {
    for (const dir of this.made.splice(0).sort((a, b) => b.length - a.length)) {
      for (let attempt = 0; ; attempt++) {
        try {
          rmdirSync(dir);
          break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EBUSY' && attempt < 20) {
            await new Promise((r) => setTimeout(r, 50));
            continue;
          }
          console.error(`could not remove test cgroup ${dir}: ${(err as Error).message}`);
          break;
        }
      }
    }
  }
}
