import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { mountedTracefsRoot } from './tracefs-root.js';

const NAME_RE = /^watchpost-(\d+)(?:-\d+)?$/;
let instancesMade = 0;

/** A private tracefs instance (instances/watchpost-<pid>[-n]): its own buffers, events and filters. */
export class TracefsInstance {
  readonly path: string;
  private readonly enabled: string[] = [];
  private removed = false;

  private constructor(readonly root: string, readonly name: string) {
    this.path = `${root}/instances/${name}`;
  }

  static create(root: string): TracefsInstance {
    sweepStaleInstances(root);
    const n = instancesMade++;
    const name = n === 0 ? `watchpost-${process.pid}` : `watchpost-${process.pid}-${n}`;
    const instance = new TracefsInstance(root, name);
    mkdirSync(instance.path);
    return instance;
  }

  write(relative: string, value: string): void {
    writeFileSync(`${this.path}/${relative}`, value);
  }

  read(relative: string): string {
    return readFileSync(`${this.path}/${relative}`, 'utf8');
  }

  has(relative: string): boolean {
    return existsSync(`${this.path}/${relative}`);
  }

  /** Enables `events/<system>/<event>`, with an optional in-kernel filter; remembered for disable(). */
  enableEvent(system: string, event: string, filter?: string): void {
    const dir = `events/${system}/${event}`;
    if (filter) this.write(`${dir}/filter`, filter);
    this.write(`${dir}/enable`, '1');
    this.enabled.push(dir);
  }

  /** Disables every event this instance enabled: enabled events keep the syscall slow path armed even with tracing off. */
  disableEvents(): void {
    for (const dir of this.enabled.splice(0)) {
      try {
        this.write(`${dir}/enable`, '0');
      } catch {
        // the instance may already be gone
      }
    }
    try {
      this.write('events/enable', '0');
    } catch {
      // idem
    }
  }

  /** Disables events and removes the instance; every reader fd must be closed first (rmdir fails with EBUSY otherwise). */
  remove(): void {
    if (this.removed) return;
    this.disableEvents();
    try {
      this.write('tracing_on', '0');
    } catch {
      // idem
    }
    try {
      rmdirSync(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    this.removed = true;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes instances left by Watchpost processes that died without cleaning up (SIGKILL, OOM, power loss of the process). */
export function sweepStaleInstances(root: string): string[] {
  const swept: string[] = [];
  let names: string[];
  try {
    names = readdirSync(`${root}/instances`);
  } catch {
    return swept;
  }
  for (const name of names) {
    const m = NAME_RE.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || alive(pid)) continue;
    const dir = `${root}/instances/${name}`;
    try {
      writeFileSync(`${dir}/events/enable`, '0');
    } catch {
      // keep going: rmdir disables everything anyway
    }
    try {
      rmdirSync(dir);
      swept.push(name);
    } catch {
      // busy (a reader still open somewhere): leave it
    }
  }
  return swept;
}

/** Every start, whatever the backend: a dead run's instance keeps the syscall slow path armed for the whole machine. */
export function sweepLeftovers(): string[] {
  const root = mountedTracefsRoot();
  return root ? sweepStaleInstances(root) : [];
}
