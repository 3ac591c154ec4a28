import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ownSyscaller } from '../support/syscaller.js';
import { waitFor } from './support/events.js';
import { traceCalls } from './support/traced-calls.js';

const base = mkdtempSync(join(tmpdir(), 'wp-full-'));
const mnt = join(base, 'small');
mkdirSync(mnt);
const { exe, comm } = ownSyscaller('wpfull'); // a comm of this run's own: the scope keeps other processes' calls out
let mounted = false;
after(() => {
  if (mounted) execFileSync('umount', [mnt]);
  rmSync(base, { recursive: true, force: true });
});

describe('a file output on a full filesystem', { timeout: 120_000 }, () => {
  it('never ends in half a line, and sent counts the whole lines in the file', { skip: process.getuid?.() !== 0 && 'needs root (mount, tracing)' }, async () => {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]);
    mounted = true;
    const file = join(mnt, 'events.jsonl');
    const { cli, stderr: err, exit } = await traceCalls(['--backend', 'ebpf', '-e', 'ioperm', '-s', `comm=${comm}`, '-o', `json:${file}?retries=1&backoff=50ms&flushTimeout=1s`], exe, Array.from({ length: 400 }, (_, i) => `ioperm:${0x200 + i}:1:0`));
    try {
      await waitFor('the disk to fill', () => (/ENOSPC|no space/i.test(err()) ? true : undefined), 20_000);
      await new Promise((r) => setTimeout(r, 500));
      cli.kill('SIGINT');
      assert.equal(await exit, 1, `dropped events: exit 1\n${err()}`);
      const text = readFileSync(file, 'utf8');
      assert.ok(text.length > 0 && text.endsWith('\n'), `the file ends in a whole line (${text.length} bytes, ends ${JSON.stringify(text.slice(-20))})`);
      const lines = text.trimEnd().split('\n');
      for (const l of lines) JSON.parse(l);
      const m = /json:\S*events\.jsonl\S*: (\d+) sent, (\d+) dropped/.exec(err());
      assert.ok(m, err());
      assert.equal(Number(m[1]), lines.length, 'sent == whole lines in the file');
      assert.equal(Number(m[1]) + Number(m[2]), 400, 'sent + dropped == delivered');
      console.log(`# 64 KiB tmpfs: ${lines.length} lines (${text.length} bytes) written and counted sent, ${m[2]} dropped`);
    } finally {
      if (cli.exitCode === null) cli.kill('SIGKILL');
      await exit;
    }
  });
});
