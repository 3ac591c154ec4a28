import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cString } from '../../src/probes/c-string.js';
import { startCli, type RunningCli } from '../support/cli.js';
import { startSyscaller, syscallerPath } from '../support/syscaller.js';
import { traced } from '../support/traced.js';
import { waitFor } from '../sinks/support/events.js';

const dir = mkdtempSync(join(tmpdir(), 'wp-names-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** 14 bytes of UTF-8: the kernel keeps it whole in the 16-byte comm. */
const UTF8_NAME = 'wp-ünïcödé';

describe('names decode as UTF-8 on both backends', { timeout: 120_000 }, () => {
  it('reads a NUL-terminated field as UTF-8, ASCII without a decoder, and stops at max bytes', () => {
    const bytes = Buffer.from('ab\0cd');
    assert.equal(cString(bytes, 0, 16), 'ab');
    assert.equal(cString(Buffer.from(UTF8_NAME), 0, 16), UTF8_NAME);
    assert.equal(cString(Buffer.from('abcdef'), 1, 3), 'bcd');
    assert.equal(cString(Buffer.from('é'), 0, 1), '\ufffd', 'a character cut by the length limit');
  });

  for (const backend of ['tracefs', 'ebpf'] as const) {
    it(`a process named ${UTF8_NAME} is reported by that name (${backend})`, async () => {
      const exe = join(dir, UTF8_NAME);
      copyFileSync(syscallerPath(), exe);
      const { calls, got } = await traced({ backend, events: ['ioperm'] }, ['ioperm:0x378:3:1'], { exe });
      assert.equal(got.length, calls.length);
      assert.equal(got[0].processName, UTF8_NAME);
      assert.equal(got[0].executable.path, exe);
    });
  }
});

describe('hostName honours WATCHPOST_HOSTNAME (the DaemonSet passes the node name)', { timeout: 60_000 }, () => {
  it('every event and finding of -o json carries it', async () => {
    const sc = await startSyscaller(['iopl:3']);
    let cli: RunningCli | undefined;
    try {
      cli = await startCli(['-e', 'iopl', '-o', 'json'], { env: { WATCHPOST_HOSTNAME: 'node-7.example' } });
      await sc.go();
      const mine = (): Array<{ hostName: string; eventName: string }> =>
        cli!.stdout().split('\n').slice(0, -1).map((l) => JSON.parse(l) as { hostName: string; eventName: string; hostProcessId: number }).filter((e) => e.hostProcessId === sc.pid);
      const lines = await waitFor('the iopl event and its finding', () => (mine().length >= 2 ? mine() : undefined), 5000);
      assert.ok(lines.some((e) => e.eventName === 'iopl'));
      assert.deepEqual([...new Set(lines.map((e) => e.hostName))], ['node-7.example']);
    } finally {
      await cli?.stop();
      await sc.end();
    }
  });
});
