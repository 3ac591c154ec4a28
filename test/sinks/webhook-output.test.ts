import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { after, describe, it } from 'node:test';
import '../../src/sinks/all.js';
import { createOutput } from '../../src/sinks/registry.js';
import { EMPTY_STATS, iopermEvent, range, seqOf } from './support/events.js';

interface Received {
  at: number;
  url: string;
  type: string;
  body: unknown;
}

const servers: Server[] = [];
after(() => servers.forEach((s) => (s.closeAllConnections(), s.close())));

/** A receiver on 127.0.0.1 that answers with `respond` (which may never answer). */
async function receiver(respond: (req: IncomingMessage, res: ServerResponse, n: number) => void): Promise<{ url: string; got: Received[] }> {
  const got: Received[] = [];
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      got.push({ at: performance.now(), url: req.url ?? '', type: req.headers['content-type'] ?? '', body: JSON.parse(body) });
      respond(req, res, got.length);
    });
  });
  servers.push(srv);
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(srv.address() as { port: number }).port}/hook`, got };
}

const ok = (_req: IncomingMessage, res: ServerResponse): void => void res.writeHead(200).end('{}');

const FALCO_PRIORITIES = ['Emergency', 'Alert', 'Critical', 'Error', 'Warning', 'Notice', 'Informational', 'Debug'];

describe('-o webhook (a local HTTP receiver)', () => {
  it('POSTs batches: JSON arrays of Tracee-shaped events, every event once, in order; query parameters of the receiver kept', async () => {
    const r = await receiver(ok);
    const out = createOutput(`webhook:${r.url}?token=abc&batch=100`);
    for (let i = 0; i < 5; i++) out.write(range(i * 60, 60));
    await out.close(EMPTY_STATS);
    assert.deepEqual(out.stats(), { name: `webhook:${r.url}`, sent: 300, dropped: 0, retried: 0, queued: 0 });
    assert.ok(r.got.length >= 3 && r.got.length <= 10, `batched: ${r.got.length} requests for 300 events`);
    assert.ok(r.got.every((g) => g.type === 'application/json' && g.url === '/hook?token=abc' && Array.isArray(g.body)));
    assert.deepEqual(r.got.flatMap((g) => (g.body as any[]).map(seqOf)), Array.from({ length: 300 }, (_, i) => i));
  });

  it('a receiver answering 500: retried with growing back-off, then dropped and counted', async () => {
    const r = await receiver((_q, res) => void res.writeHead(500).end());
    const out = createOutput(`webhook:${r.url}?retries=3&backoff=40ms&batch=10`);
    out.write(range(0, 10));
    await out.close(EMPTY_STATS);
    assert.equal(r.got.length, 4, 'the first attempt and 3 retries');
    const gaps = r.got.slice(1).map((g, i) => g.at - r.got[i].at);
    assert.ok(gaps[0] >= 15 && gaps[2] > gaps[0], `back-off grows: ${gaps.map((g) => g.toFixed(0)).join(', ')} ms`);
    assert.deepEqual(out.stats(), { name: `webhook:${r.url}`, sent: 0, dropped: 10, retried: 30, queued: 0 });
  });

  it('a receiver that recovers: the retried batch is delivered, nothing lost', async () => {
    const r = await receiver((_q, res, n) => void res.writeHead(n <= 2 ? 503 : 200).end());
    const out = createOutput(`webhook:${r.url}?backoff=10ms`);
    out.write(range(0, 5));
    await out.close(EMPTY_STATS);
    assert.deepEqual(out.stats(), { name: `webhook:${r.url}`, sent: 5, dropped: 0, retried: 10, queued: 0 });
  });

  it('a 400 is not retried (the payload will not get better)', async () => {
    const r = await receiver((_q, res) => void res.writeHead(400).end());
    const out = createOutput(`webhook:${r.url}?backoff=10ms`);
    out.write(range(0, 5));
    await out.close(EMPTY_STATS);
    assert.equal(r.got.length, 1);
    assert.equal(out.stats().dropped, 5);
  });

  it('a receiver that hangs: write() never blocks, the queue stays at its bound, memory stays bounded, drops are counted', async () => {
    const r = await receiver(() => {}); // never answers
    const out = createOutput(`webhook:${r.url}?timeout=200ms&retries=1&backoff=10ms&queue=1000&flushTimeout=300ms`);
    const rss0 = process.memoryUsage.rss();
    let generated = 0;
    let slowest = 0;
    let maxQueued = 0;
    const end = performance.now() + 2000;
    while (performance.now() < end) {
      const batch = range(generated, 500);
      const t0 = performance.now();
      out.write(batch);
      slowest = Math.max(slowest, performance.now() - t0);
      generated += batch.length;
      maxQueued = Math.max(maxQueued, out.stats().queued);
      await new Promise((res) => setImmediate(res));
    }
    const rssGrowth = process.memoryUsage.rss() - rss0;
    await out.close(EMPTY_STATS);
    const s = out.stats();
    assert.ok(generated > 100_000, `a flood: ${generated} events`);
    assert.ok(slowest < 50, `write() returned at once (slowest ${slowest.toFixed(1)} ms)`);
    assert.ok(maxQueued <= 1000, `queue bounded (max ${maxQueued})`);
    assert.ok(rssGrowth < 150e6, `RSS grew ${(rssGrowth / 1e6).toFixed(0)} MB for ${generated} events`);
    assert.equal(s.sent, 0);
    assert.equal(s.dropped, generated, 'every event accounted for as dropped');
    assert.ok(s.retried > 0);
    assert.ok(r.got.length >= 2, 'it did try');
    console.log(`hanging receiver: ${generated} events written, max queued ${maxQueued}, slowest write ${slowest.toFixed(2)} ms, RSS +${(rssGrowth / 1e6).toFixed(0)} MB, ${JSON.stringify(s)}`);
  });

  it('format=falco: one Falco payload per POST with the fields falcosidekick reads', async () => {
    const r = await receiver(ok);
    const out = createOutput(`webhook:${r.url}?format=falco`);
    const finding = iopermEvent(0x64, {
      metadata: { Tags: ['hardware'], Properties: { Severity: 3, signatureName: 'Keyboard controller port opened' } },
      containerId: 'abc123',
      container: { id: 'abc123', name: 'web', image: 'nginx', imageDigest: '' },
    });
    out.write([iopermEvent(0x378), finding]);
    await out.close(EMPTY_STATS);
    assert.equal(r.got.length, 2);
    const [plain, crit] = r.got.map((g) => g.body as Record<string, any>);
    for (const p of [plain, crit]) {
      assert.deepEqual(Object.keys(p).sort(), ['hostname', 'output', 'output_fields', 'priority', 'rule', 'source', 'tags', 'time', 'uuid']);
      assert.ok(FALCO_PRIORITIES.includes(p.priority));
      assert.match(p.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
      assert.ok(!Number.isNaN(Date.parse(p.time)));
      assert.ok(p.output.length > 0, 'falcosidekick rejects an empty output');
      assert.equal(p.source, 'syscall');
      assert.equal(p.hostname, 'host1');
      assert.ok(Object.values(p.output_fields).every((v) => v === null || ['string', 'number', 'boolean'].includes(typeof v)));
      assert.equal(p.output_fields['proc.name'], 'portprobe');
      assert.equal(p.output_fields['evt.type'], 'ioperm');
    }
    assert.equal(plain.priority, 'Informational');
    assert.equal(plain.rule, 'watchpost ioperm');
    assert.equal(plain.output_fields['evt.arg.from'], '888');
    assert.equal(crit.priority, 'Critical');
    assert.equal(crit.rule, 'Keyboard controller port opened');
    assert.deepEqual(crit.tags, ['watchpost', 'ioperm', 'hardware']);
    assert.equal(crit.output_fields['container.id'], 'abc123');
    assert.match(crit.output, /Critical Keyboard controller port opened: ioperm\(from=100 num=1 turn_on=1\) = -1 by portprobe/);
  });

  it('rejects a bad URL or format with the option named', () => {
    assert.throws(() => createOutput('webhook:not a url'), /not a URL/);
    assert.throws(() => createOutput('webhook:ftp://x/'), /only http/);
    assert.throws(() => createOutput('webhook:http://127.0.0.1/?format=xml'), /format=xml/);
  });
});
