import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { exited, launch, Lines, now } from './process.js';

/** The CPU the workloads run on; tracers get the other one (this VM has two). */
export const WORKLOAD_CPU = 1;
export const TRACER_CPU = 0;

const SOURCES = fileURLToPath(new URL('../../bench/workloads/', import.meta.url));

export type WorkloadName = 'rare' | 'storm' | 'paced';

/** Compiles the C workloads into dir; returns their paths. */
export function buildWorkloads(dir: string): Record<WorkloadName, string> {
  const out = {} as Record<WorkloadName, string>;
  for (const name of ['rare', 'storm', 'paced'] as const) {
    out[name] = join(dir, name);
    execFileSync('gcc', ['-O2', '-Wall', '-Werror', '-o', out[name], join(SOURCES, `${name}.c`)], { stdio: ['ignore', 'inherit', 'inherit'] });
  }
  return out;
}

/** What a workload reports about itself when it ends. */
export interface WorkloadReport {
  workload: string;
  /** Every syscall the workload issued in its timed loop (getppid noise included for `rare`). */
  syscalls: number;
  ns: number;
  calls?: number;
  targets?: number;
  compatTargets?: number;
}

/** A workload started with the handshake: it has printed its pid and waits for `go()`. */
export class Workload {
  goAt = 0;
  private constructor(readonly child: ChildProcess, readonly pid: number, private readonly out: Lines) {}

  /** prefix: a tracer that runs the workload itself (strace --seccomp-bpf). */
  static async start(argv: readonly string[], prefix: readonly string[] = []): Promise<Workload> {
    const child = launch([...prefix, ...argv], ['pipe', 'pipe', 'pipe']);
    const out = new Lines(child.stdout);
    child.stderr?.resume();
    const ready = await out.waitFor((l) => l.startsWith('ready '), 30_000, `${argv[0]} ready line`);
    return new Workload(child, Number(ready.text.split(' ')[1]), out);
  }

  go(): void {
    this.goAt = now();
    this.child.stdin?.write('go\n');
  }

  /** The report the workload prints when its loop is done (a --hold workload then waits for finish()). */
  async report(timeoutMs: number): Promise<WorkloadReport> {
    const line = await this.out.waitFor((l) => l.startsWith('{'), timeoutMs, 'workload report');
    return JSON.parse(line.text) as WorkloadReport;
  }

  async finish(timeoutMs: number): Promise<WorkloadReport & { exitAt: number }> {
    const report = await this.report(timeoutMs);
    this.child.stdin?.end();
    const exit = await exited(this.child);
    return { ...report, exitAt: exit.at };
  }
}
