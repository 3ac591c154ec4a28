import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../src/model/errors.js';
import { LOSS_KINDS } from '../../src/model/loss.js';
import { parseMetricsAddress, renderMetrics, startMetricsServer } from '../../src/sinks/metrics-server.js';
import type { Output } from '../../src/sinks/output.js';

const output = (name: string, sent: number, dropped: number, retried: number, queued: number): Output => ({
  name,
  write: () => {},
  close: async () => {},
  stats: () => ({ name, sent, dropped, retried, queued }),
});

const source = {
  backend: 'tracefs',
  stats: () => ({ delivered: { ioperm: 7, iopl: 2 }, lostByEvent: { ioperm: 1, iopl: 0 }, lostRecords: 3, lostEvents: 0, lostByReason: { 'tracefs ring buffer overrun': 3 }, lostByKind: { overrun: 3 }, filtered: { ioperm: 4 }, filteredInKernel: { ioperm: 3 }, backlog: { bytes: 1024, peakBytes: 4096, limitBytes: 8192 } }),
  outputs: [output('nats:nats://127.0.0.1:4222', 5, 2, 4, 1), output('webhook:http://x/"q"\\', 0, 0, 0, 0)],
};

describe('--metrics (Prometheus text endpoint)', () => {
  it('renders every family with HELP and TYPE, labels escaped', () => {
    const text = renderMetrics(source);
    for (const line of [
      'watchpost_events_total{event="ioperm"} 7',
      'watchpost_events_total{event="iopl"} 2',
      'watchpost_events_lost_total{event="ioperm"} 1',
      'watchpost_lost_total{reason="tracefs ring buffer overrun"} 3',
      'watchpost_lost_by_kind_total{kind="overrun"} 3',
      'watchpost_lost_by_kind_total{kind="ringbuf-full"} 0',
      'watchpost_lost_by_kind_total{kind="in-progress-at-stop"} 0',
      'watchpost_kernel_records_lost_total 3',
      'watchpost_output_queue_depth{output="nats:nats://127.0.0.1:4222"} 1',
      'watchpost_output_sent_total{output="nats:nats://127.0.0.1:4222"} 5',
      'watchpost_output_retried_total{output="nats:nats://127.0.0.1:4222"} 4',
      'watchpost_output_dropped_total{output="nats:nats://127.0.0.1:4222"} 2',
      'watchpost_output_sent_total{output="webhook:http://x/\\"q\\"\\\\"} 0',
      'watchpost_backend_info{backend="tracefs"} 1',
      'watchpost_events_filtered_total{event="ioperm"} 4',
      'watchpost_events_filtered_in_kernel_total{event="ioperm"} 3',
      'watchpost_backlog_bytes 1024',
      'watchpost_backlog_peak_bytes 4096',
      'watchpost_backlog_limit_bytes 8192',
    ]) {
      assert.ok(text.split('\n').includes(line), `has ${line}`);
    }
    assert.match(text, /^process_resident_memory_bytes \d+$/m);
    assert.equal(text.split('\n').filter((l) => l.startsWith('watchpost_lost_by_kind_total{')).length, LOSS_KINDS.length, 'every loss kind has a series, 0 until it happens');
    const names = new Set(text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(/[{ ]/)[0]));
    for (const n of names) {
      assert.match(text, new RegExp(`^# HELP ${n} .+\\n# TYPE ${n} (counter|gauge)$`, 'm'));
      if (n.endsWith('_total')) assert.match(text, new RegExp(`^# TYPE ${n} counter$`, 'm'));
    }
  });

  it('serves GET on 127.0.0.1, refuses POST, reads the numbers at each scrape', async () => {
    let delivered = 1;
    const srv = await startMetricsServer('127.0.0.1:0', { ...source, stats: () => ({ ...source.stats(), delivered: { ioperm: delivered } }) });
    try {
      const a = await (await fetch(srv.url)).text();
      delivered = 42;
      const b = await (await fetch(srv.url)).text();
      assert.match(a, /^watchpost_events_total\{event="ioperm"\} 1$/m);
      assert.match(b, /^watchpost_events_total\{event="ioperm"\} 42$/m);
      assert.equal((await fetch(srv.url, { method: 'POST' })).status, 405);
    } finally {
      await srv.close();
    }
  });

  it('parses HOST:PORT, [v6]:PORT and a bare PORT (loopback), and names a bad or busy address', async () => {
    assert.deepEqual(parseMetricsAddress('9464'), { host: '127.0.0.1', port: 9464 });
    assert.deepEqual(parseMetricsAddress('0.0.0.0:9464'), { host: '0.0.0.0', port: 9464 });
    assert.deepEqual(parseMetricsAddress('[::1]:9464'), { host: '::1', port: 9464 });
    assert.throws(() => parseMetricsAddress('localhost:http'), UsageError);
    const first = await startMetricsServer('127.0.0.1:0', source);
    const port = new URL(first.url).port;
    await assert.rejects(startMetricsServer(`127.0.0.1:${port}`, source), (e: unknown) => e instanceof UsageError && /EADDRINUSE/.test(e.message));
    await first.close();
  });
});
