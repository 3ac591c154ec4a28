import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { startCli, type RunningCli as Cli } from '../support/cli.js';
import { startSyscaller, syscallerPath } from '../support/syscaller.js';
import { removeTree, tempDir } from './live.js';
import { CLI, replayJson } from './replay-cli.js';
import { NO_32BIT } from '../support/kernel-features.js';

/** The trace command with detections: findings in the same stream, right after their event; --detect-only; --no-detect. */

const isRoot = process.getuid?.() === 0;


interface Line {
  eventName: string;
  hostProcessId: number;
  metadata: { Properties?: { signatureID?: string } };
}

/** What the CLI printed for one pid: event names, findings as their signature ids. */
function linesOf(cli: Cli, pid: number): string[] {
  const out = cli.stdout();
  return out
    .slice(0, out.lastIndexOf('\n') + 1) // complete lines only: a pipe may hand over part of the last one
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line)
    .filter((l) => l.hostProcessId === pid)
    .map((l) => l.metadata.Properties?.signatureID ?? l.eventName);
}

async function waitFor(what: string, test: () => boolean, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function callsIn(cli: Cli, commands: string[], expected: number, uid?: number): Promise<string[]> {
  const sc =
    uid === undefined
      ? await startSyscaller(commands)
      : await startSyscaller(['--reuid', String(uid), '--regid', String(uid), '--clear-groups', syscallerPath(), ...commands], { exe: '/usr/bin/setpriv' });
  try {
    await sc.go();
    await waitFor(`${expected} lines for pid ${sc.pid}`, () => linesOf(cli, sc.pid).length >= expected).catch((e: Error) => assert.fail(`${e.message}\n${cli.stderr()}`));
    await new Promise((r) => setTimeout(r, 100)); // nothing more should come
    return linesOf(cli, sc.pid);
  } finally {
    await sc.end(); // also when the check failed: no helper left waiting
  }
}

describe('watchpost trace with detections', { skip: !isRoot && 'needs root to trace' }, () => {
  it('puts each finding right after its event in the JSON stream', async () => {
    const cli = await startCli(['-e', 'ioperm', '-o', 'json']);
    try {
      const got = await callsIn(cli, ['ioperm:0x64:1:1', 'ioperm:0x378:3:0'], 4);
      assert.deepEqual(got, ['ioperm', 'WP-003', 'WP-005', 'ioperm']);
    } finally {
      assert.equal(await cli.stop(), 0);
    }
    assert.match(cli.stderr(), /^\{"findings":\{[^}]*"WP-003":\d+/m);
  });

  it('--detect-only prints the findings alone; the signatures still see events the user did not ask to see', async () => {
    const cli = await startCli(['-e', 'ioperm', '-o', 'json', '--detect-only']);
    try {
      assert.deepEqual(await callsIn(cli, ['ioperm:0x70:2:1', 'ioperm:0x378:3:0'], 2), ['WP-003', 'WP-005']);
      assert.deepEqual(await callsIn(cli, ['userfaultfd:0'], 1, 65534), ['WP-006'], 'userfaultfd traced for WP-006 although -e asked for ioperm only');
    } finally {
      assert.equal(await cli.stop(), 0);
    }
    assert.match(cli.stderr(), /"delivered":\{[^}]*"userfaultfd":/, 'the extra event is traced and counted');
  });

  it('--no-detect prints events only, and only the ones asked for', async () => {
    const cli = await startCli(['-e', 'ioperm', '-o', 'json', '--no-detect']);
    try {
      assert.deepEqual(await callsIn(cli, ['ioperm:0x64:1:1'], 1), ['ioperm']);
    } finally {
      assert.equal(await cli.stop(), 0);
    }
    assert.doesNotMatch(cli.stderr(), /findings|userfaultfd/);
  });

  it('records with -o json:FILE; replaying the file (no root) prints exactly the findings the live run printed', async () => {
    const dir = tempDir('wp-cli-rec-');
    after(() => removeTree(dir));
    const file = join(dir, 'rec.jsonl');
    const cli = await startCli(['-e', 'ioperm,iopl', '-o', 'json', '-o', `json:${file}`]);
    let pid = 0;
    try {
      const sc = await startSyscaller(['ioperm:0xcf8:8:1', NO_32BIT ? 'iopl:3' : 'iopl32:3', 'ioperm:0x378:3:0']); // the 32-bit iopl where the kernel runs one
      pid = sc.pid;
      await sc.go();
      await waitFor('the live findings', () => linesOf(cli, sc.pid).length >= 7).catch((e: Error) => assert.fail(`${e.message}\n${cli.stderr()}`));
      await sc.end();
    } finally {
      assert.equal(await cli.stop(), 0);
    }
    const isMine = (l: string): boolean => (JSON.parse(l) as Line).hostProcessId === pid;
    const liveFindings = cli.stdout().split('\n').filter((l) => l && isMine(l) && l.includes('"signatureID":"WP-'));
    assert.deepEqual(linesOf(cli, pid), ['ioperm', 'WP-003', 'WP-005', 'iopl', 'WP-004', 'WP-005', 'ioperm']);
    const recorded = readFileSync(file, 'utf8').split('\n').filter((l) => l && isMine(l));
    assert.equal(recorded.length, 7, 'the file holds the events and the findings, as stdout does');
    const r = await replayJson(file);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.lines.filter(isMine), liveFindings);
    assert.match(r.stderr, /"findingsInRecording":[1-9]/, 'the findings already in the file are not printed twice');
  });

  it('a storm of one call gives each finding once at once, then at stop one summary with the count of its repeats', async () => {
    const cli = await startCli(['-e', 'ioperm', '-o', 'json']);
    let pid = 0;
    try {
      const sc = await startSyscaller(Array.from({ length: 200 }, () => 'ioperm:0x64:1:1'));
      pid = sc.pid;
      try {
        await sc.go();
        await waitFor('the 200 events and the first findings', () => linesOf(cli, pid).length >= 202).catch((e: Error) => assert.fail(`${e.message}\n${cli.stderr()}`));
        await new Promise((r) => setTimeout(r, 200)); // nothing more should come before the stop
        const live = linesOf(cli, pid);
        assert.deepEqual(live.slice(0, 3), ['ioperm', 'WP-003', 'WP-005'], 'the findings of the first call right after it');
        assert.deepEqual(live.slice(3), Array.from({ length: 199 }, () => 'ioperm'), 'the repeats held back, every event shown');
      } finally {
        await sc.end();
      }
    } finally {
      assert.equal(await cli.stop(), 0);
    }
    const summaries = cli
      .stdout()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Line & { args: { name: string; value: unknown }[] })
      .filter((l) => l.hostProcessId === pid && l.args.some((a) => a.name === 'repeats'));
    assert.deepEqual(
      summaries.map((l) => [l.metadata.Properties?.signatureID, l.args.find((a) => a.name === 'repeats')?.value]),
      [['WP-003', 199], ['WP-005', 199]],
    );
    const counted = JSON.parse(/^\{"findings":.*$/m.exec(cli.stderr())?.[0] ?? '{}') as { findings?: Record<string, number> };
    for (const id of ['WP-003', 'WP-005']) assert.ok((counted.findings?.[id] ?? 0) >= 200, `${id}: the true number of findings (other processes may add theirs): ${cli.stderr()}`);
  });

  it('highlights findings in the table: ! marker and severity in the EVENT column, no colour off a terminal', async () => {
    const cli = await startCli(['-e', 'iopl', '--detect-only']);
    const sc = await startSyscaller(['iopl:3']);
    try {
      await sc.go();
      await waitFor('the iopl(3) finding', () => new RegExp(`\\s${sc.pid}\\s+${sc.pid}\\s+-38 ENOSYS\\s+!critical iopl_all_ports WP-004`).test(cli.stdout())).catch((e: Error) =>
        assert.fail(`${e.message}\n${cli.stdout()}\n${cli.stderr()}`),
      );
    } finally {
      await sc.end();
      assert.equal(await cli.stop(), 0);
    }
    assert.match(cli.stdout(), /^TIME\s+UID\s+COMM/);
    assert.ok(!cli.stdout().includes('\x1b['));
    assert.match(cli.stderr(), /^watchpost: findings: .*WP-004 \d+/m);
  });
});
