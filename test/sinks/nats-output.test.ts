import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { after, describe, it } from 'node:test';
import '../../src/sinks/all.js';
import { subjectToken } from '../../src/sinks/nats-output.js';
import type { Output } from '../../src/sinks/output.js';
import { createOutput } from '../../src/sinks/registry.js';
import { EMPTY_STATS, range } from './support/events.js';
import { readStream } from './support/nats.js';
import { freePort, startNats, tempDir, type Started } from './support/servers.js';

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function natsServer(): Promise<{ port: number; store: string; server: Started }> {
  const port = await freePort();
  const store = tempDir('nats');
  const server = await startNats(port, store);
  cleanups.push(() => rmSync(store, { recursive: true, force: true }), () => server.stop());
  return { port, store, server };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('-o nats (JetStream on a private nats-server -js)', () => {
  it('creates the stream, publishes each event once on <subject>.<host>.<event>, in order', async () => {
    const { port } = await natsServer();
    const out = createOutput(`nats:nats://127.0.0.1:${port}?subject=wp.test&stream=WPTEST`);
    for (let i = 0; i < 20; i++) out.write(range(i * 50, 50));
    await out.close(EMPTY_STATS);
    assert.deepEqual(out.stats(), { name: `nats:nats://127.0.0.1:${port}`, sent: 1000, dropped: 0, retried: 0, queued: 0 });
    const stored = await readStream(port, 'WPTEST');
    assert.equal(stored.length, 1000);
    assert.deepEqual(stored.map((s) => s.seq), Array.from({ length: 1000 }, (_, i) => i), 'each exactly once, in order');
    assert.ok(stored.every((s) => s.subject === `wp.test.${subjectToken(hostname())}.ioperm`));
    assert.equal(stored[0].json.eventName, 'ioperm');
  });

  for (const how of ['stopped (SIGTERM)', 'killed (SIGKILL)'] as const) it(`survives the server being ${how} and restarted mid-run: delivered + dropped == generated, none twice, order kept`, async () => {
    const { port, store, server } = await natsServer();
    const out: Output = createOutput(`nats:nats://127.0.0.1:${port}?subject=wp.outage&stream=OUTAGE&queue=1500&ackTimeout=1s&flushTimeout=5s`);
    let generated = 0;
    let slowestWrite = 0;
    const produce = setInterval(() => {
      const t0 = performance.now();
      out.write(range(generated, 10));
      slowestWrite = Math.max(slowestWrite, performance.now() - t0);
      generated += 10;
    }, 5);
    await sleep(1500);
    if (how === 'killed (SIGKILL)') {
      const gone = new Promise((resolve) => server.child.once('exit', resolve));
      process.kill(server.child.pid!, 'SIGKILL'); // acknowledgements in flight are lost: retries must not store twice
      await gone;
    } else await server.stop(); // a clean stop, as a rolling restart does
    const whileDown = out.stats();
    await sleep(1500);
    const duringOutage = out.stats();
    const restarted = await startNats(port, store);
    cleanups.push(() => restarted.stop());
    await sleep(1500);
    clearInterval(produce);
    await out.close(EMPTY_STATS);
    const s = out.stats();
    const stored = await readStream(port, 'OUTAGE');
    const seqs = stored.map((x) => x.seq);
    assert.ok(duringOutage.sent - whileDown.sent < 300, `little was acknowledged while the server was down (${duringOutage.sent - whileDown.sent})`);
    assert.ok(s.dropped > 0, 'the outage overflowed the bounded queue, and that was counted');
    assert.equal(s.queued, 0);
    assert.equal(s.sent + s.dropped, generated, `sent ${s.sent} + dropped ${s.dropped} == generated ${generated}`);
    assert.equal(stored.length, s.sent, 'the stream holds exactly what was reported sent');
    assert.equal(new Set(seqs).size, seqs.length, 'no event stored twice');
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'in order');
    assert.ok(seqs.at(-1)! >= generated - 10 - 1500, 'events after the restart were delivered');
    assert.ok(slowestWrite < 20, `write() never blocked (slowest ${slowestWrite.toFixed(1)} ms)`);
    console.log(`${how}: generated ${generated}, sent ${s.sent}, dropped ${s.dropped}, retried ${s.retried}`);
  });

  it('a server that is down from the start: events queue, overflow and the unsent rest are counted at close', async () => {
    const port = await freePort();
    const out = createOutput(`nats:nats://127.0.0.1:${port}?queue=100&flushTimeout=500ms`);
    out.write(range(0, 250));
    const t0 = performance.now();
    await out.close(EMPTY_STATS);
    assert.ok(performance.now() - t0 < 3000, 'close() gives up at the flush deadline');
    assert.deepEqual(out.stats(), { name: `nats:nats://127.0.0.1:${port}`, sent: 0, dropped: 250, retried: 0, queued: 0 });
  });
});
