import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { after, describe, it } from 'node:test';
import { ownSyscaller } from '../support/syscaller.js';
import { waitFor } from './support/events.js';
import { traceCalls } from './support/traced-calls.js';
import { freePort, tempDir } from './support/servers.js';

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const dir = tempDir('wp-failing-');
cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
const { exe, comm } = ownSyscaller('wpfail'); // a comm of this run's own: the scope keeps other processes' calls out

async function httpServer(answer: 'status500' | 'hang'): Promise<{ url: string; server: Server }> {
  const port = await freePort();
  const server = createServer((req, res) => {
    if (answer === 'hang') return; // never answers
    req.resume();
    req.on('end', () => res.writeHead(500).end('no'));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  cleanups.push(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${port}/`, server };
}

/** Traces 20 ioperm calls of our own child into `output`, SIGINT while the output is still retrying; returns exit, stderr and time to exit. */
async function runAgainst(output: string): Promise<{ code: number | null; stderr: string; stopMs: number }> {
  const { cli, stderr, exit } = await traceCalls(['--backend', 'ebpf', '-e', 'ioperm', '-s', `comm=${comm}`, '-o', output, '-o', `json:${dir}/events.jsonl`], exe, Array.from({ length: 20 }, (_, i) => `ioperm:${0x300 + i}:1:0`));
  try {
    await waitFor('the output to fail at least once', () => (/retrying|failed|refused|timed out|aborted/i.test(stderr()) ? true : undefined), 20_000).catch(() => undefined);
    const t0 = Date.now();
    cli.kill('SIGINT');
    const code = await exit;
    return { code, stderr: stderr(), stopMs: Date.now() - t0 };
  } finally {
    if (cli.exitCode === null) cli.kill('SIGKILL');
  }
}

const OPTS = 'retries=100&backoff=300ms&flushTimeout=1s';

function assertSummary(r: { code: number | null; stderr: string; stopMs: number }, name: RegExp): void {
  assert.match(r.stderr, new RegExp(`${name.source}: 0 sent, 20 dropped, \\d+ retried`), r.stderr);
  assert.match(r.stderr, /json:.*events\.jsonl: 20 sent, 0 dropped/, r.stderr);
  assert.match(r.stderr, new RegExp(`events were dropped by ${name.source} \\(20\\); exit status 1`), r.stderr);
  assert.match(r.stderr.trimEnd().split('\n').at(-1)!, /ioperm 20 delivered, 0 lost; .*events lost in all/, 'the summary is the last line');
  assert.equal(r.code, 1, 'an output dropped events: exit 1');
  assert.ok(r.stopMs < 1000 + 1000 + 2000, `stopped in ${r.stopMs} ms: within the flush deadline (1 s) + 1 s for a hanging delivery + start-up slack`);
}

describe('an output still failing at exit: the summary is printed, the exit status says events were dropped', { timeout: 240_000 }, () => {
  it('webhook answering 500', { timeout: 60_000 }, async () => {
    const { url } = await httpServer('status500');
    assertSummary(await runAgainst(`webhook:${url}?${OPTS}`), /webhook:http:\/\/127\.0\.0\.1:\d+\//);
  });

  it('webhook that is down (connection refused)', { timeout: 60_000 }, async () => {
    const port = await freePort();
    assertSummary(await runAgainst(`webhook:http://127.0.0.1:${port}/?${OPTS}`), /webhook:http:\/\/127\.0\.0\.1:\d+\//);
  });

  it('webhook that never answers', { timeout: 60_000 }, async () => {
    const { url } = await httpServer('hang');
    assertSummary(await runAgainst(`webhook:${url}?${OPTS}&timeout=500ms`), /webhook:http:\/\/127\.0\.0\.1:\d+\//);
  });

  it('syslog over TCP to a dead port', { timeout: 60_000 }, async () => {
    const port = await freePort();
    assertSummary(await runAgainst(`syslog:tcp://127.0.0.1:${port}?${OPTS}`), /syslog:tcp:\/\/127\.0\.0\.1:\d+\?\S*/);
  });
});
