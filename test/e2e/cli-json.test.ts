import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startSyscaller } from '../support/syscaller.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');

describe('watchpost -o json (the CLI, system-wide)', () => {
  it('prints one Tracee-shaped JSON line per call, and JSON stats on stderr', async () => {
    const sc = await startSyscaller(['ioperm:0x70:2:1', 'ioperm32:0x64:1:1']);
    const cli = spawn(process.execPath, [CLI, '-o', 'json', '-e', 'ioperm'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const exit = new Promise<number | null>((resolve) => cli.once('exit', resolve));
    await new Promise<void>((resolve) =>
      cli.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('tracing with')) resolve();
      }),
    );
    const calls = await sc.go();
    const mine: Array<Record<string, any>> = [];
    for await (const line of createInterface({ input: cli.stdout })) {
      const ev = JSON.parse(line) as Record<string, any>;
      if (ev.hostProcessId === sc.pid && ev.eventName === 'ioperm') mine.push(ev); // findings about these calls follow them in the stream
      if (mine.length === 2) break;
    }
    cli.kill('SIGINT');
    assert.equal(await exit, 0);
    await sc.end();
    assert.deepEqual(
      mine.map((e) => [e.eventId, e.eventName, e.contextFlags.isCompat, e.args.map((a: any) => a.value), e.returnValue]).sort(),
      calls.map((c) => ['173', 'ioperm', c.abi === 'compat', c.args.slice(0, 3), c.ret]).sort(),
    );
    assert.equal(typeof mine[0].eventId, 'string');
    assert.deepEqual(mine[0].args.map((a: any) => a.type), ['uint64', 'uint64', 'int32']);
    const statsLine = stderr.trim().split('\n').pop()!;
    const stats = JSON.parse(statsLine).stats;
    assert.equal(stats.final, true);
    assert.ok(stats.delivered.ioperm >= 2);
    assert.equal(typeof stats.lostRecords, 'number');
  });
});
