import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { capture, exited, interrupt, launch, Lines } from './process.js';
import { bpftrace, perfRecord, perfTrace, straceAttach, straceSeccomp, type Tool } from './tools.js';
import { TRACER_CPU } from './workload.js';

const SETUP = fileURLToPath(new URL('../../bench/setup.sh', import.meta.url));
const TRACEFS = '/sys/kernel/tracing';

export const INSTALL_HINT = 'apt-get install strace bpftrace linux-perf trace-cmd';

export interface PeerStatus {
  name: string;
  present: boolean;
  usable: boolean;
  note: string;
}

function has(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function version(argv: string[]): string {
  try {
    return execFileSync(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 }).toString().split('\n')[0].trim();
  } catch (err) {
    return String((err as { stdout?: Buffer }).stdout ?? '').split('\n')[0].trim();
  }
}

/** A private trace-cmd instance name, removed (events off first) if trace-cmd leaves it behind. */
export const traceCmdInstance = (): string => `wpbench-${process.pid}`;

export function removeInstance(name: string): boolean {
  const dir = join(TRACEFS, 'instances', name);
  if (!existsSync(dir)) return false;
  for (const sys of ['syscalls', 'raw_syscalls']) {
    const base = join(dir, 'events', sys);
    if (!existsSync(base)) continue;
    for (const ev of readdirSync(base)) {
      const f = join(base, ev, 'enable');
      if (existsSync(f)) {
        try {
          writeFileSync(f, '0');
        } catch {
          /* read-only entries */
        }
      }
    }
  }
  rmdirSync(dir);
  return true;
}

/** trace-cmd record into a private instance (-B), raw binary; counted with trace-cmd report afterwards. */
function traceCmd(): Tool {
  return {
    id: 'trace-cmd',
    label: 'trace-cmd record -B (private instance)',
    kind: 'peer',
    output: 'raw binary (trace.dat)',
    scale: 1,
    start(s, w, dir) {
      const file = join(dir, 'trace.dat');
      const child = launch(['taskset', '-c', String(TRACER_CPU), 'trace-cmd', 'record', '-B', traceCmdInstance(), '-e', `syscalls:sys_enter_${s}`, '-o', file], ['ignore', 'pipe', 'pipe']);
      const out = new Lines(child.stdout);
      const err = new Lines(child.stderr);
      const ready = out.waitFor((l) => l.includes('Hit Ctrl^C'), 30_000, 'trace-cmd ready').then(() => undefined);
      return {
        ready,
        async stop() {
          const exit = await interrupt(child);
          removeInstance(traceCmdInstance());
          let delivered = 0;
          const tag = `-${w.pid} `;
          await capture(['trace-cmd', 'report', '-i', file], (l) => {
            if (l.includes(tag)) delivered++;
          });
          let overrun = 0;
          for (const l of [...out.all, ...err.all]) {
            const m = /overrun:\s+(\d+)/.exec(l.text);
            if (m) overrun += Number(m[1]);
          }
          return { delivered, reportedLost: overrun, endAt: exit.at };
        },
        async abort() {
          await interrupt(child, 5000);
          removeInstance(traceCmdInstance());
        },
      };
    },
  };
}

/** One short trial: trace-cmd 3.1 writes /proc/sys/kernel/ftrace_enabled, which kernel lockdown refuses. */
async function traceCmdWorks(dir: string): Promise<string | undefined> {
  const child = launch(['trace-cmd', 'record', '-B', traceCmdInstance(), '-e', 'syscalls:sys_enter_ioperm', '-o', join(dir, 'trial.dat'), 'sleep', '0.2'], ['ignore', 'pipe', 'pipe']);
  const err = new Lines(child.stderr);
  child.stdout?.resume();
  const timer = setTimeout(() => void interrupt(child, 3000), 15_000);
  const exit = await exited(child);
  clearTimeout(timer);
  const left = removeInstance(traceCmdInstance());
  if (exit.code === 0) return undefined;
  return `trace-cmd record fails on this kernel: "${err.all.map((l) => l.text.trim()).filter(Boolean).join(' ')}" (exit ${exit.code ?? exit.signal})${left ? '; it left its instance behind, removed' : ''}`;
}

/** Installs missing peers when apt works (bench/setup.sh), then says which can be measured. */
export async function detectPeers(dir: string): Promise<{ tools: Tool[]; status: PeerStatus[] }> {
  try {
    execFileSync('bash', [SETUP], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 900_000 });
  } catch {
    process.stderr.write('bench: bench/setup.sh failed; measuring the peers that are already installed\n');
  }
  const status: PeerStatus[] = [];
  const tools: Tool[] = [];
  const add = (name: string, present: boolean, note: string, made: Tool[], usable = present): void => {
    status.push({ name, present, usable, note: present ? note : `not installed (Debian: ${INSTALL_HINT})` });
    if (usable) tools.push(...made);
  };
  add('strace', has('strace'), version(['strace', '-V']), [straceSeccomp(), straceAttach()]);
  const perfOk = has('perf');
  add('perf', perfOk, perfOk ? version(['perf', '--version']) : '', [perfTrace(), perfRecord()]);
  add('bpftrace', has('bpftrace'), version(['bpftrace', '--version']), [bpftrace(true), bpftrace(false)]);
  if (has('trace-cmd')) {
    const problem = await traceCmdWorks(dir);
    add('trace-cmd', true, problem ? `${version(['trace-cmd', '--version']) || 'trace-cmd'}: ${problem}` : version(['trace-cmd', '--version']), [traceCmd()], !problem);
  } else add('trace-cmd', false, '', []);
  return { tools, status };
}
