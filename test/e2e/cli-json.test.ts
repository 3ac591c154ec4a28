import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startCli, type RunningCli } from '../support/cli.js';
import { startSyscaller } from '../support/syscaller.js';
import { where32 } from '../support/kernel-features.js';
import { waitFor } from '../sinks/support/events.js';

describe('watchpost -o json (the CLI, system-wide)', { timeout: 60_000 }, () => {
  it('prints one Tracee-shaped JSON line per call, and JSON stats on stderr', async () => {
    const sc = await startSyscaller(where32(['ioperm:0x70:2:1', 'ioperm32:0x64:1:1']));
    let cli: RunningCli | undefined;
    let code: number | null = null;
    const mine = (): Array<Record<string, any>> =>
      (cli?.stdout() ?? '')
        .split('\n')
        .slice(0, -1) // complete lines only
        .map((l) => JSON.parse(l) as Record<string, any>)
        .filter((ev) => ev.hostProcessId === sc.pid && ev.eventName === 'ioperm'); // findings about these calls follow them in the stream
    let calls: Awaited<ReturnType<typeof sc.go>> = [];
    try {
      cli = await startCli(['-o', 'json', '-e', 'ioperm']);
      calls = await sc.go();
      await waitFor('an event per call', () => (mine().length >= calls.length ? true : undefined), 5000);
    } finally {
      code = (await cli?.stop()) ?? null; // also when a wait failed: the tracer never outlives the test
      await sc.end();
    }
    assert.equal(code, 0);
    const events = mine();
    assert.deepEqual(
      events.map((e) => [e.eventId, e.eventName, e.contextFlags.isCompat, e.args.map((a: any) => a.value), e.returnValue]).sort(),
      calls.map((c) => ['173', 'ioperm', c.abi === 'compat', c.args.slice(0, 3), c.ret]).sort(),
    );
    assert.equal(typeof events[0].eventId, 'string');
    assert.deepEqual(events[0].args.map((a: any) => a.type), ['uint64', 'uint64', 'int32']);
    const statsLine = cli!.stderr().trim().split('\n').pop()!;
    const stats = JSON.parse(statsLine).stats;
    assert.equal(stats.final, true);
    assert.ok(stats.delivered.ioperm >= calls.length);
    assert.equal(typeof stats.lostRecords, 'number');
  });
});
