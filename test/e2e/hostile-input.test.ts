import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CLI } from '../support/cli.js';
import { startSyscaller } from '../support/syscaller.js';

const dir = mkdtempSync(join(tmpdir(), 'wp-hostile-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: dir, timeout: 30_000 });
  return { status: r.status, stderr: r.stderr };
}

const oneLine = (stderr: string): string => {
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line: ${stderr}`);
  assert.doesNotMatch(lines[0], /Maximum call stack|RangeError|TypeError|    at /);
  return lines[0];
};

describe('hostile or mistaken input is a usage error in words', { timeout: 120_000 }, () => {
  it('a policy nested 5,000 deep: exit 2, one line', () => {
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    const file = join(dir, 'deep.yaml');
    writeFileSync(file, `apiVersion: tracee.aquasec.com/v1beta1\nkind: Policy\nmetadata:\n  name: deep\nspec:\n  scope: [global]\n  rules:\n    - event: ioperm\n      filters: ${deep}\n`);
    const r = run(['--policy', file, '--explain']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(oneLine(r.stderr), /deep\.yaml:9:\d+: nested too deeply/);
  });

  it('-o json:/tmp (a directory): exit 2, one line naming it', () => {
    const r = run(['-o', 'json:/tmp', '-e', 'iopl']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(oneLine(r.stderr), /-o json:\/tmp: is a directory; give a file in it/);
  });

  it('-o json:- writes JSON lines to stdout, never a file named "-"', { skip: process.getuid?.() !== 0 && 'needs root to trace' }, async () => {
    const cli = spawn(process.execPath, [CLI, '--backend', 'ebpf', '-e', 'ioperm', '-o', 'json:-'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    cli.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    cli.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exit = new Promise<number | null>((resolve) => cli.once('close', resolve));
    try {
      for (let i = 0; i < 300 && !err.includes('tracing with'); i++) await new Promise((r) => setTimeout(r, 50));
      const sc = await startSyscaller(['ioperm:0x3f8:8:0']);
      try {
        await sc.go();
      } finally {
        await sc.end();
      }
      for (let i = 0; i < 100 && !out.includes(`"hostProcessId":${sc.pid}`); i++) await new Promise((r) => setTimeout(r, 50));
      cli.kill('SIGINT');
      assert.equal(await exit, 0, err);
      const mine = out.split('\n').filter((l) => l.includes(`"hostProcessId":${sc.pid}`));
      assert.equal(mine.length, 1, out.slice(0, 500));
      assert.equal(JSON.parse(mine[0]).eventName, 'ioperm');
      assert.ok(!existsSync(join(dir, '-')), 'no file named "-"');
    } finally {
      if (cli.exitCode === null) cli.kill('SIGKILL');
    }
  });
});
