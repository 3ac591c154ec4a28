import assert from 'node:assert/strict';
import { createReadStream, existsSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ownSyscaller } from '../support/syscaller.js';
import { waitFor } from './support/events.js';
import { freePort, freeUdpPort, tempDir } from './support/servers.js';
import { traceCalls } from './support/traced-calls.js';

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const dir = tempDir('wp-indep-');
cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
const { exe, comm } = ownSyscaller('wpindep'); // a comm of this run's own: the scope keeps other processes' calls out

// Within the file output's default queue (32768 events, 32 MiB): it holds the whole storm even if its disk stalls, so
// a line missing from the file can only be the other output's doing.
const CALLS = 20_000;

/** Lines in the file, and how many are our helper's ioperm(0x80, 1, 1) calls. */
async function countLines(file: string): Promise<{ lines: number; ours: number }> {
  if (!existsSync(file)) return { lines: 0, ours: 0 };
  let lines = 0;
  let ours = 0;
  let rest = '';
  for await (const chunk of createReadStream(file, 'utf8')) {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop()!;
    for (const l of parts) {
      lines++;
      if (l.includes(`"processName":"${comm}"`) && l.includes('"eventName":"ioperm"') && l.includes('{"name":"from","type":"uint64","value":128}')) ours++;
    }
  }
  return { lines, ours };
}

/** A storm of CALLS ioperm calls traced into a file and `other`; returns what the file got and the run's stderr. */
async function storm(other: string, name: string): Promise<{ lines: number; ours: number; stderr: string; code: number | null; stopMs: number }> {
  const file = join(dir, `${name}.jsonl`);
  const args = ['--backend', 'ebpf', '--buffer-kb', '32768', '-e', 'ioperm', '-s', `comm=${comm}`, '--no-detect', '-o', `json:${file}`, '-o', other];
  const { cli, stderr, exit } = await traceCalls(args, exe, [`iopermstorm:${CALLS}`]);
  try {
    await waitFor(`the file to hold ${CALLS} lines`, async () => ((await countLines(file)).lines >= CALLS ? true : undefined), 30_000).catch(() => undefined);
    const t0 = Date.now();
    cli.kill('SIGINT');
    const code = await exit;
    return { ...(await countLines(file)), stderr: stderr(), code, stopMs: Date.now() - t0 };
  } finally {
    if (cli.exitCode === null) cli.kill('SIGKILL');
  }
}

function assertFileGotAll(r: { lines: number; ours: number; stderr: string }, other: RegExp): void {
  assert.match(r.stderr, new RegExp(`ioperm ${CALLS} delivered, 0 lost`), `the tracer delivered every call (else this run proves nothing):\n${r.stderr}`);
  assert.equal(r.ours, CALLS, `the file holds every call (${r.lines} lines):\n${r.stderr}`);
  assert.equal(r.lines, CALLS, 'and nothing else');
  assert.match(r.stderr, new RegExp(`json:\\S+: ${CALLS} sent, 0 dropped`));
  const m = new RegExp(`${other.source}: (\\d+) sent, (\\d+) dropped`).exec(r.stderr);
  assert.ok(m, `the other output reports its counts:\n${r.stderr}`);
  assert.equal(Number(m[1]) + Number(m[2]), CALLS, 'the other output accounts for every event: sent or dropped');
}

describe('outputs are independent: a dead or hanging output never reduces what the file gets', { timeout: 300_000 }, () => {
  it(`syslog over UDP to a closed port: the file gets all ${CALLS} calls of a storm`, { timeout: 120_000 }, async () => {
    const port = await freeUdpPort();
    const r = await storm(`syslog:udp://127.0.0.1:${port}?queue=1000&flushTimeout=1s`, 'udp');
    assertFileGotAll(r, /syslog:udp:\/\/127\.0\.0\.1:\d+\?\S*/);
    assert.ok(r.stopMs < 10_000, `stopped in ${r.stopMs} ms`);
  });

  it(`a webhook that never answers: the file gets all ${CALLS} calls, the webhook drops its own`, { timeout: 120_000 }, async () => {
    const server = createServer(() => {}); // accepts, never answers
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    cleanups.push(() => {
      server.closeAllConnections();
      server.close();
    });
    const r = await storm(`webhook:http://127.0.0.1:${port}/?timeout=500ms&retries=1&backoff=50ms&flushTimeout=1s`, 'hang');
    assertFileGotAll(r, /webhook:http:\/\/127\.0\.0\.1:\d+\//);
    assert.match(r.stderr, new RegExp(`webhook:http://127\\.0\\.0\\.1:${port}/: 0 sent, ${CALLS} dropped`), 'the hanging webhook delivered nothing, and said so');
    assert.equal(r.code, 1, 'exit 1: an output dropped events');
    assert.ok(r.stopMs < 1000 + 1000 + 3000, `stopped in ${r.stopMs} ms: the flush deadline, 1 s for the hanging request, slack`);
  });
});
