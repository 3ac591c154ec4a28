import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CLI, startCli } from '../support/cli.js';
import { trace } from '../../src/trace.js';

const INSTANCES = '/sys/kernel/tracing/instances';
const TRIES = 20;
const pause = new Int32Array(new SharedArrayBuffer(4));

/** Busy-waits (1 ms steps) until `ready()` or the deadline: a signal must land the moment the kernel object appears. */
function waitSync(ready: () => boolean, ms: number): boolean {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (ready()) return true;
    Atomics.wait(pause, 0, 0, 1);
  }
  return false;
}

function holdsBpf(pid: number): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return /bpf-(prog|map|link)/.test(readlinkSync(`/proc/${pid}/fd/${fd}`));
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

interface Run {
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  appeared: boolean;
}

/** Starts the CLI, sends `signal` as soon as `appeared(pid)` holds, and waits for the exit. */
async function raceOnce(backend: string, signal: NodeJS.Signals, appeared: (pid: number) => boolean, extra: string[] = []): Promise<Run> {
  const child = spawn(process.execPath, [CLI, '--backend', backend, '-e', 'ioperm', ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (code, sig) => resolve([code, sig])));
  try {
    const pid = child.pid!;
    const seen = waitSync(() => appeared(pid), 15_000);
    child.kill(signal);
    const [code, sig] = await exit;
    return { pid, code, signal: sig, stderr, appeared: seen };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/** The signals a process has handlers for (SigCgt of /proc/PID/status), as a bit mask; 0n once it is gone. */
function caught(pid: number): bigint {
  try {
    return BigInt(`0x${/SigCgt:\s*([0-9a-f]+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]}`);
  } catch {
    return 0n;
  }
}

const STOP_SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;
const stopHandlers = Object.values(STOP_SIGNALS).reduce((mask, n) => mask | (1n << BigInt(n - 1)), 0n);

/** A rules file that takes a while to load (each rule's CEL condition is compiled): seconds, not milliseconds. */
function slowRules(dir: string): string {
  const file = join(dir, 'many-rules.yaml');
  const rule = (i: number): string =>
    `- id: R-${1000 + i}\n  name: rule ${i}\n  severity: 1\n  events: [ioperm]\n  condition: ev.args.turn_on == 1 && ev.args.from == ${i} && ev.processName.matches("^x${i}[a-z]+$")\n`;
  writeFileSync(file, Array.from({ length: 2000 }, (_, i) => rule(i)).join(''));
  return file;
}

const leftOf = (pid: number): string[] => readdirSync(INSTANCES).filter((n) => n === `watchpost-${pid}` || n.startsWith(`watchpost-${pid}-`));

describe('a signal during start-up leaves nothing armed', { timeout: 600_000 }, () => {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    it(`tracefs, ${signal} the moment the instance appears: removed every time, exit 0 and the summary`, { timeout: 180_000 }, async () => {
      let leaks = 0;
      for (let i = 0; i < TRIES; i++) {
        const r = await raceOnce('tracefs', signal, (pid) => existsSync(`${INSTANCES}/watchpost-${pid}`));
        assert.ok(r.appeared, `the instance never appeared: ${r.stderr}`);
        leaks += leftOf(r.pid).length;
        assert.equal(r.code, 0, `exit ${r.code ?? r.signal}: ${r.stderr}`);
        assert.match(r.stderr, /events lost in all; \d+ kernel records lost/);
      }
      assert.equal(leaks, 0, `${leaks} of ${TRIES} runs left their instance`);
    });

    it(`eBPF, ${signal} the moment the first BPF object appears: no instance, exit 0 and the summary`, { timeout: 180_000 }, async () => {
      for (let i = 0; i < TRIES; i++) {
        const r = await raceOnce('ebpf', signal, holdsBpf);
        assert.ok(r.appeared, `no BPF object appeared: ${r.stderr}`);
        assert.deepEqual(leftOf(r.pid), []);
        assert.equal(r.code, 0, `exit ${r.code ?? r.signal}: ${r.stderr}`);
        assert.match(r.stderr, /events lost in all; \d+ kernel records lost/);
      }
    });
  }


  it('a signal while --rules files load: exit 128+signal, "before tracing started", nothing attached', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'watchpost-rules-signal-'));
    try {
      const rules = slowRules(dir);
      for (const [signal, n] of Object.entries(STOP_SIGNALS) as Array<[NodeJS.Signals, number]>) {
        const t0 = Date.now();
        // handlers go in just before the rules load: the signal lands within a millisecond of them, seconds before the load ends
        const r = await raceOnce('ebpf', signal, (pid) => (caught(pid) & stopHandlers) === stopHandlers, ['--rules', rules]);
        assert.ok(r.appeared, `the CLI never set its signal handlers: ${r.stderr}`);
        assert.equal(r.signal, null, `ended by its own exit, not killed by ${r.signal}`);
        assert.equal(r.code, 128 + n, `exit 128+${n} for ${signal}: ${r.stderr}`);
        assert.equal(r.stderr, `watchpost: ${signal} before tracing started; nothing was traced\n`);
        assert.deepEqual(leftOf(r.pid), []);
        assert.ok(Date.now() - t0 < 60_000, 'bounded');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an eBPF start sweeps the instance a killed tracefs run left', { timeout: 60_000 }, async () => {
    const cli = await startCli(['--backend', 'tracefs', '-e', 'ioperm']);
    cli.child.kill('SIGKILL');
    await cli.exit;
    assert.equal(leftOf(cli.child.pid!).length, 1, 'SIGKILL leaves the instance');
    const t = trace({ backend: 'ebpf', events: ['iopl'] });
    try {
      await t.ready;
      assert.deepEqual(leftOf(cli.child.pid!), [], 'swept at the eBPF start');
    } finally {
      await t.stop();
    }
  });
});
