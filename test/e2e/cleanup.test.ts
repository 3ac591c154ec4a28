import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CLI, startCli } from '../support/cli.js';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { trace } from '../../src/trace.js';

const TRACE_API = join(dirname(fileURLToPath(import.meta.url)), '../../src/trace.js');
const INSTANCES = '/sys/kernel/tracing/instances';

const instancesOf = (pid: number): string[] => readdirSync(INSTANCES).filter((n) => n === `watchpost-${pid}` || n.startsWith(`watchpost-${pid}-`));


/** BPF program ids a process holds open, from /proc/<pid>/fdinfo. */
function bpfProgIdsOf(pid: number): number[] {
  const ids: number[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fdinfo`)) {
    try {
      const m = /^prog_id:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
      if (m) ids.push(Number(m[1]));
    } catch {
      // fd closed meanwhile
    }
  }
  return ids;
}

describe('kernel hygiene: the private tracefs instance never outlives Watchpost', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`removes its instance on ${signal} and prints the summary`, async () => {
      const cli = await startCli(['--backend', 'tracefs']);
      assert.deepEqual(instancesOf(cli.child.pid!), [`watchpost-${cli.child.pid}`], 'instance exists while tracing');
      cli.child.kill(signal);
      assert.equal(await cli.exit, 0);
      assert.deepEqual(instancesOf(cli.child.pid!), []);
      assert.match(cli.stderr(), /ioperm \d+ delivered, \d+ lost; iopl \d+ delivered, \d+ lost;.* \d+ kernel records lost/);
    });
  }

  it('removes its instance after a normal stop of the library API', async () => {
    const t = trace({ backend: 'tracefs', events: ['ioperm'] });
    await t.ready;
    assert.equal(instancesOf(process.pid).length, 1);
    await t.stop();
    assert.deepEqual(instancesOf(process.pid), []);
  });

  it('removes its instance when a program using the library dies of an uncaught error', () => {
    const script = `import(${JSON.stringify(TRACE_API)}).then(async (m) => { const t = m.trace({ backend: 'tracefs' }); await t.ready; console.log(process.pid); setTimeout(() => { throw new Error('boom'); }, 50); });`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /boom/);
    const pid = Number(r.stdout.trim());
    assert.ok(pid > 0);
    assert.deepEqual(instancesOf(pid), []);
  });

  it('removes the instance a killed run left behind at the next start', async () => {
    const cli = await startCli(['--backend', 'tracefs']);
    cli.child.kill('SIGKILL');
    await cli.exit;
    assert.equal(instancesOf(cli.child.pid!).length, 1, 'SIGKILL leaves the instance');
    const t = trace({ backend: 'tracefs', events: ['iopl'] });
    await t.ready;
    assert.deepEqual(instancesOf(cli.child.pid!), [], 'swept at start');
    await t.stop();
  });

  it('never enables events in the global tracing instance', async () => {
    const before = readFileSync('/sys/kernel/tracing/set_event', 'utf8');
    const t = trace({ backend: 'tracefs', events: ['ioperm', 'iopl', 'ioctl'] });
    await t.ready;
    assert.equal(readFileSync('/sys/kernel/tracing/set_event', 'utf8'), before);
    await t.stop();
    assert.ok(!existsSync(`${INSTANCES}/watchpost-${process.pid}`));
  });
});

describe('kernel hygiene: no BPF program outlives Watchpost (eBPF backend)', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`unloads its programs on ${signal}`, async () => {
      const cli = await startCli(['--backend', 'ebpf']);
      const held = bpfProgIdsOf(cli.child.pid!);
      assert.ok(held.length >= 2, `programs loaded while tracing: ${held.join(',')}`);
      cli.child.kill(signal);
      assert.equal(await cli.exit, 0);
      const { loadedPrograms } = await import('../../src/probes/ebpf/programs.js');
      // the kernel frees a program after an RCU grace period once its last fd is closed: give it a moment
      let left: number[] = held;
      for (let i = 0; i < 40 && left.length; i++) {
        await new Promise((r) => setTimeout(r, 50));
        const live = new Set(loadedPrograms().map((p) => p.id));
        left = held.filter((id) => live.has(id));
      }
      assert.deepEqual(left, []);
      assert.match(cli.stderr(), /tracing with ebpf/);
    });
  }
});

describe('CLI errors', () => {
  it('exits 2 with the closest names for an unknown event', () => {
    const r = spawnSync(process.execPath, [CLI, '-e', 'ioprem'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
    assert.match(r.stderr, /unknown event 'ioprem'; did you mean ioperm/);
  });

  it('exits 1 with one line saying how, when not root', () => {
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI], { encoding: 'utf8' });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /needs root.*sudo/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });

  it('lists the catalog', () => {
    const r = spawnSync(process.execPath, [CLI, 'list'], { encoding: 'utf8' });
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^ioperm\s+173\s+101\s+syscalls,system\s+uint64 from\[K\], uint64 num\[K\], int32 turn_on\[K\]$/m);
    for (const name of ['iopl', 'ioctl', 'perf_event_open', 'userfaultfd']) assert.match(r.stdout, new RegExp(`^${name}\\s`, 'm'));
  });
});
