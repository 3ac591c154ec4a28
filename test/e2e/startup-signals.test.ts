import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CLI, startCli } from '../support/cli.js';
import { trace } from '../../src/trace.js';

const INSTANCES = '/sys/kernel/tracing/instances';
const TRIES = 20;
// CLIs started at once: their start-ups overlap (each spends more than half its time off the CPU), and the one
// busy-wait loop still signals each within a few ms of its moment (1-6 ms two at a time, up to 11 at four, measured
// on a loaded 2-core VM; 1-2 ms alone)
const WIDTH = 2;
const pause = new Int32Array(new SharedArrayBuffer(4));

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

interface Race {
  backend: 'tracefs' | 'ebpf';
  signal: NodeJS.Signals;
  /** The moment to send the signal. */
  appeared: (pid: number) => boolean;
  extra?: string[];
}

interface Racing {
  race: Race;
  child: ChildProcess;
  pid: number;
  deadline: number;
  signalled: boolean;
  appeared: boolean;
  run: Promise<Run>;
}

function start(race: Race): Racing {
  const child = spawn(process.execPath, [CLI, '--backend', race.backend, '-e', 'ioperm', ...(race.extra ?? [])], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const r: Racing = { race, child, pid: child.pid!, deadline: Date.now() + 15_000, signalled: false, appeared: false, run: undefined! };
  // close, not exit: stderr is read to its end
  r.run = new Promise((resolve) => child.once('close', (code, signal) => resolve({ pid: r.pid, code, signal, stderr, appeared: r.appeared })));
  return r;
}

/** Busy-waits (1 ms steps) until each CLI has had its signal: the moment `appeared(pid)` holds, or at its deadline. */
function signalWhenDue(racing: readonly Racing[]): void {
  for (;;) {
    let waiting = false;
    for (const r of racing) {
      if (r.signalled) continue;
      r.appeared = r.race.appeared(r.pid);
      if (r.appeared || Date.now() > r.deadline) {
        r.child.kill(r.race.signal);
        r.signalled = true;
      } else waiting = true;
    }
    if (!waiting) return;
    Atomics.wait(pause, 0, 0, 1);
  }
}

/** Runs the races, `width` CLIs at a time (a slow stop holds up no other race); the runs in the order of `races`. */
async function raceAll(races: readonly Race[], width: number): Promise<Run[]> {
  const all: Racing[] = [];
  const live = new Set<Racing>();
  try {
    while (all.length < races.length || live.size > 0) {
      while (live.size < width && all.length < races.length) {
        const r = start(races[all.length]);
        all.push(r);
        live.add(r);
      }
      signalWhenDue([...live]);
      live.delete(await Promise.race([...live].map((r) => r.run.then(() => r))));
    }
    return await Promise.all(all.map((r) => r.run));
  } finally {
    for (const r of all) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
  }
}

/** TRIES races of one kind. */
const tries = (race: Race): Promise<Run[]> => raceAll(Array.from({ length: TRIES }, () => race), WIDTH);

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

/**
 * A rules file that takes a while to load (each rule's CEL condition is compiled): about half a second for 400 rules.
 * The compile is synchronous: a signal that lands in it is handled after it, and the CLI looks for one before tracing.
 */
function slowRules(dir: string, count = 400): string {
  const file = join(dir, `many-rules-${count}.yaml`);
  const rule = (i: number): string =>
    `- id: R-${1000 + i}\n  name: rule ${i}\n  severity: 1\n  events: [ioperm]\n  condition: ev.args.turn_on == 1 && ev.args.from == ${i} && ev.processName.matches("^x${i}[a-z]+$")\n`;
  writeFileSync(file, Array.from({ length: count }, (_, i) => rule(i)).join(''));
  return file;
}

const leftOf = (pid: number): string[] => readdirSync(INSTANCES).filter((n) => n === `watchpost-${pid}` || n.startsWith(`watchpost-${pid}-`));

describe('a signal during start-up leaves nothing armed', { timeout: 600_000 }, () => {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    it(`tracefs, ${signal} the moment the instance appears: removed every time, exit 0 and the summary`, { timeout: 180_000 }, async () => {
      let leaks = 0;
      for (const r of await tries({ backend: 'tracefs', signal, appeared: (pid) => existsSync(`${INSTANCES}/watchpost-${pid}`) })) {
        assert.ok(r.appeared, `the instance never appeared: ${r.stderr}`);
        leaks += leftOf(r.pid).length;
        assert.equal(r.code, 0, `exit ${r.code ?? r.signal}: ${r.stderr}`);
        assert.match(r.stderr, /events lost in all; \d+ kernel records lost/);
      }
      assert.equal(leaks, 0, `${leaks} of ${TRIES} runs left their instance`);
    });

    it(`eBPF, ${signal} the moment the first BPF object appears: no instance, exit 0 and the summary`, { timeout: 180_000 }, async () => {
      for (const r of await tries({ backend: 'ebpf', signal, appeared: holdsBpf })) {
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
      const signals = Object.entries(STOP_SIGNALS) as Array<[NodeJS.Signals, number]>;
      const t0 = Date.now();
      // handlers go in just before the rules load: the signal lands within a millisecond of them, one CLI at a time
      const runs = await raceAll(signals.map(([signal]) => ({ backend: 'ebpf', signal, appeared: (pid) => (caught(pid) & stopHandlers) === stopHandlers, extra: ['--rules', rules] })), 1);
      for (const [i, [signal, n]] of signals.entries()) {
        const r = runs[i];
        assert.ok(r.appeared, `the CLI never set its signal handlers: ${r.stderr}`);
        assert.equal(r.signal, null, `ended by its own exit, not killed by ${r.signal}`);
        assert.equal(r.code, 128 + n, `exit 128+${n} for ${signal}: ${r.stderr}`);
        assert.equal(r.stderr, `watchpost: ${signal} before tracing started; nothing was traced\n`);
        assert.deepEqual(leftOf(r.pid), []);
      }
      assert.ok(Date.now() - t0 < 60_000, 'bounded');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a signal while the rules compile (after their module loaded): still "before tracing started", nothing attached', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'watchpost-rules-signal-'));
    try {
      const rules = slowRules(dir, 2000); // 2-4 s to compile: the signal lands 300 ms in, well inside it
      const signals = Object.entries(STOP_SIGNALS) as Array<[NodeJS.Signals, number]>;
      const late = (): ((pid: number) => boolean) => {
        let since = 0;
        return (pid) => {
          if (!since && (caught(pid) & stopHandlers) === stopHandlers) since = Date.now();
          return since > 0 && Date.now() - since >= 300;
        };
      };
      const runs = await raceAll(signals.map(([signal]) => ({ backend: 'ebpf', signal, appeared: late(), extra: ['--rules', rules] })), 1);
      for (const [i, [signal, n]] of signals.entries()) {
        const r = runs[i];
        assert.ok(r.appeared, `the CLI never set its signal handlers: ${r.stderr}`);
        assert.equal(r.code, 128 + n, `exit 128+${n} for ${signal}: ${r.stderr}`);
        assert.equal(r.stderr, `watchpost: ${signal} before tracing started; nothing was traced\n`);
        assert.deepEqual(leftOf(r.pid), []);
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
