import { closeSync, constants, openSync, readdirSync, readFileSync, readSync } from 'node:fs';

export interface CpuStats {
  overrun: number;
  commitOverrun: number;
  dropped: number;
}

/** Non-blocking readers of every CPU's per_cpu/cpuN/trace_pipe_raw in an instance. */
export class CpuReaders {
  readonly cpus: number[];
  private readonly fds: number[];

  constructor(private readonly instancePath: string, readonly pageSize: number) {
    this.cpus = readdirSync(`${instancePath}/per_cpu`)
      .filter((d) => /^cpu\d+$/.test(d))
      .map((d) => Number(d.slice(3)))
      .sort((a, b) => a - b);
    this.fds = [];
    try {
      for (const cpu of this.cpus) {
        this.fds.push(openSync(`${instancePath}/per_cpu/cpu${cpu}/trace_pipe_raw`, constants.O_RDONLY | constants.O_NONBLOCK));
      }
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /** Reads the next page of CPU index i into buf at offset; 0 when nothing is ready. */
  readPage(i: number, buf: Buffer, offset: number): number {
    try {
      return readSync(this.fds[i], buf, offset, this.pageSize, null);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN' || code === 'EINTR') return 0;
      throw err;
    }
  }

  stats(i: number): CpuStats {
    const text = readFileSync(`${this.instancePath}/per_cpu/cpu${this.cpus[i]}/stats`, 'utf8');
    const field = (label: string): number => {
      const m = new RegExp(`^${label}:\\s*(\\d+)`, 'm').exec(text);
      return m ? Number(m[1]) : 0;
    };
    return { overrun: field('overrun'), commitOverrun: field('commit overrun'), dropped: field('dropped events') };
  }

  close(): void {
    for (const fd of this.fds.splice(0)) {
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
    }
  }
}
