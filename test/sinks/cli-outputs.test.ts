import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connect } from 'nats';
import { ownSyscaller, startSyscaller } from '../support/syscaller.js';
import { waitFor } from './support/events.js';
import { freePort, startNats, startPrometheus, tempDir, type Started } from './support/servers.js';
import { readStream } from './support/nats.js';
import type { TraceStats } from '../../src/model/event.js';
import { LOSS_KINDS } from '../../src/model/loss.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** The CLI, system-wide, until stop(): stderr collected, exit code returned. */
function watchpost(args: string[], env: Record<string, string> = {}) {
  const cli = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  cli.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<number | null>((resolve) => cli.once('close', resolve)); // after stderr is read to its end
  cleanups.push(() => {
    if (cli.exitCode === null) cli.kill('SIGKILL');
  });
  return {
    stderr: () => stderr,
    started: () => waitFor(`watchpost to start (${stderr})`, () => (stderr.includes('tracing with') ? true : cli.exitCode !== null ? Promise.reject(new Error(stderr)) : undefined), 15_000),
    async stop() {
      cli.kill('SIGINT');
      return exit;
    },
  };
}

/** One sample from a Prometheus text page: name{labels} value. */
function metric(page: string, name: string, labels = ''): number | undefined {
  const line = page.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return res.text();
}

/** The syscall helper under a comm of this run's own, and the scope that keeps every other process's calls out of the counts. */
function ownHelper(prefix: string): { exe: string; scope: string[] } {
  const { exe, comm } = ownSyscaller(prefix);
  return { exe, scope: ['-s', `comm=${comm}`] };
}

/** Runs the helper's ioperm calls (from = base, base+1, …) and returns its pid once they are done. */
async function iopermCalls(exe: string, base: number, n: number): Promise<number> {
  const sc = await startSyscaller(Array.from({ length: n }, (_, i) => `ioperm:${base + i}:1:1`), { exe });
  await sc.go();
  await sc.end();
  return sc.pid;
}

describe('watchpost CLI with remote outputs and --metrics (real syscalls, real servers on loopback)', () => {
  it('-o nats: a stopped and restarted server; every event is in the stream once, in order, or counted as dropped; metrics tell the story', async () => {
    const port = await freePort();
    const store = tempDir('nats-e2e');
    cleanups.push(() => rmSync(store, { recursive: true, force: true }));
    let server: Started = await startNats(port, store);
    cleanups.push(() => server.stop());
    const metricsPort = await freePort();
    const output = `nats:nats://127.0.0.1:${port}`;
    const helper = ownHelper('wpnats');
    const wp = watchpost(['-e', 'ioperm', '--no-detect', ...helper.scope, '-o', `${output}?subject=wp.e2e&stream=E2E&queue=50&flushTimeout=3s`, '--metrics', `127.0.0.1:${metricsPort}`], {
      WATCHPOST_HOSTNAME: 'node-a.example', // as the DaemonSet passes the node name
    });
    await wp.started();
    const url = `http://127.0.0.1:${metricsPort}/metrics`;
    const nc = await connect({ servers: `nats://127.0.0.1:${port}` });
    const jsm = await nc.jetstreamManager();
    const storedCount = async (): Promise<number> => (await jsm.streams.info('E2E').catch(() => undefined))?.state.messages ?? 0;

    const pidA = await iopermCalls(helper.exe, 0x100, 30);
    await waitFor('30 events in the stream', async () => ((await storedCount()) >= 30 ? true : undefined)).catch((e: Error) => assert.fail(`${e.message}\n${wp.stderr()}`));
    let page = await scrape(url);
    assert.ok(metric(page, 'watchpost_events_total', 'event="ioperm"')! >= 30, 'events counted by name');
    assert.ok(metric(page, 'watchpost_output_sent_total', `output="${output}"`)! >= 30, 'sent counted per output');
    assert.ok(metric(page, 'process_resident_memory_bytes')! > 10e6, 'RSS');
    assert.ok(/^watchpost_backend_info\{backend="[a-z]+"\} 1$/m.test(page), 'backend in use');
    await nc.close();

    await server.stop();
    const pidB = await iopermCalls(helper.exe, 0x200, 80); // the queue holds 50: 30 must be dropped, and counted
    page = await waitFor('the queue to overflow during the outage', async () => {
      const p = await scrape(url);
      return metric(p, 'watchpost_output_dropped_total', `output="${output}"`)! >= 30 ? p : undefined;
    });
    assert.equal(metric(page, 'watchpost_output_queue_depth', `output="${output}"`), 50, 'queue depth at its bound');

    server = await startNats(port, store);
    const nc2 = await connect({ servers: `nats://127.0.0.1:${port}` });
    const jsm2 = await nc2.jetstreamManager();
    await waitFor('the queue to drain after the restart', async () => ((await jsm2.streams.info('E2E')).state.messages >= 80 ? true : undefined), 15_000);
    const pidC = await iopermCalls(helper.exe, 0x300, 30);
    await waitFor('the queue and the new events to arrive', async () => ((await jsm2.streams.info('E2E')).state.messages >= 110 ? true : undefined), 15_000).catch((e: Error) =>
      assert.fail(`${e.message}\n${wp.stderr()}`),
    );
    await nc2.close();
    page = await scrape(url);

    assert.equal(await wp.stop(), 1, 'exit 1: the output dropped events during the outage');
    assert.match(wp.stderr(), new RegExp(`^watchpost: events were dropped by ${output.replace(/[.?*+]/g, '\\$&')}(\\?\\S*)? \\(\\d+\\); exit status 1$`, 'm'));
    const lines = wp.stderr().trim().split('\n');
    const outLine = lines.find((l) => l.startsWith(`watchpost: ${output}:`) && / sent, /.test(l));
    assert.ok(outLine, `the output's counts are reported at exit:\n${wp.stderr()}`);
    const [, sent, dropped] = /: (\d+) sent, (\d+) dropped/.exec(outLine)!.map(Number);
    const delivered = Number(/ioperm (\d+) delivered/.exec(lines.at(-1)!)![1]);

    const stored = await readStream(port, 'E2E');
    const mine = (pid: number): number[] => stored.filter((s) => s.json.hostProcessId === pid).map((s) => s.seq);
    assert.deepEqual(mine(pidA), Array.from({ length: 30 }, (_, i) => 0x100 + i), 'before the outage: all, once, in order');
    assert.deepEqual(mine(pidB), Array.from({ length: 50 }, (_, i) => 0x200 + i), 'during it: the 50 the queue held, in order');
    assert.deepEqual(mine(pidC), Array.from({ length: 30 }, (_, i) => 0x300 + i), 'after it: all, once, in order');
    assert.equal(stored.length, sent, 'the stream holds what watchpost reported sent');
    assert.ok(stored.every((s) => s.subject === 'wp.e2e.node-a_example.ioperm'), 'subject per host and event');
    assert.equal(sent + dropped, delivered, `sent ${sent} + dropped ${dropped} == traced ${delivered}`);
    assert.deepEqual([delivered, sent, dropped], [140, 110, 30], 'scoped to the helper: 140 calls traced, 110 stored, 30 dropped');
    assert.equal(metric(page, 'watchpost_output_dropped_total', `output="${output}"`), dropped, 'the metrics agree with the exit report');
  });

  it('-o json:FILE, -o syslog and -o webhook at once: the file gets every event (0600) while the syslog receiver is down and the webhook hangs, then fails', async () => {
    const dir = tempDir('cli-file');
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'events.jsonl');
    const metricsPort = await freePort();
    const deadPort = await freePort();
    const syslog = `syslog:tcp://127.0.0.1:${deadPort}?retries=1&backoff=10ms&queue=5&flushTimeout=1s`;
    // A webhook receiver that hangs on the first requests, then answers 500.
    let requests = 0;
    const receiver = createServer((req, res) => {
      req.resume();
      if (++requests > 2) res.writeHead(500).end();
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => {
      receiver.closeAllConnections();
      receiver.close();
    });
    const hook = `webhook:http://127.0.0.1:${(receiver.address() as { port: number }).port}/`;
    const webhook = `${hook}?timeout=300ms&retries=2&backoff=10ms&batch=5&queue=10&flushTimeout=1s`;
    const helper = ownHelper('wpfile');
    const wp = watchpost(['-e', 'ioperm', ...helper.scope, '-o', `json:${file}`, '-o', syslog, '-o', webhook, '--metrics', `127.0.0.1:${metricsPort}`]);
    await wp.started();
    const pid = await iopermCalls(helper.exe, 0x400, 20);
    const page = await waitFor('the file output to send 20', async () => {
      const p = await scrape(`http://127.0.0.1:${metricsPort}/metrics`);
      return metric(p, 'watchpost_output_sent_total', `output="json:${file}"`)! >= 20 ? p : undefined;
    });
    assert.ok(metric(page, 'watchpost_output_dropped_total', `output="${syslog}"`)! > 0, 'the dead syslog receiver drops, counted');
    const stopping = performance.now();
    assert.equal(await wp.stop(), 1, 'exit 1: outputs dropped events');
    assert.match(wp.stderr(), /^watchpost: events were dropped by .*syslog:tcp:.*; exit status 1$/m);
    assert.ok(performance.now() - stopping < 5000, 'the failing outputs do not hold up the exit beyond their flush deadline');
    assert.ok(requests >= 3, `the webhook was tried, hung, then answered 500 (${requests} requests)`);
    const hookLine = /: (\d+) sent, (\d+) dropped, (\d+) retried/.exec(wp.stderr().split('\n').find((l) => l.startsWith(`watchpost: ${hook}:`) && / sent, /.test(l)) ?? '');
    assert.ok(hookLine, `the webhook's counts are reported:\n${wp.stderr()}`);
    assert.equal(Number(hookLine[1]), 0);
    assert.ok(Number(hookLine[2]) >= 20 && Number(hookLine[3]) > 0, 'drops and retries counted');
    const mine = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.hostProcessId === pid);
    const calls = mine.filter((e) => e.eventName === 'ioperm');
    assert.deepEqual(calls.map((e) => e.args[0].value), Array.from({ length: 20 }, (_, i) => 0x400 + i), 'a failing output does not hold back the others');
    const findings = mine.filter((e) => e.metadata?.Properties?.signatureID);
    assert.ok(findings.length > 0, 'findings of the detections (on by default) travel the same outputs');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.match(wp.stderr(), new RegExp(`${syslog.replace(/[?.*+]/g, '\\$&')}: 0 sent, \\d+ dropped`));
  });

  it('prometheus scrapes --metrics: what its query API reads back matches the run, in-kernel filtering and losses by kind included', async () => {
    const dir = tempDir('cli-prom');
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'events.jsonl');
    const metricsPort = await freePort();
    const prom = await startPrometheus(`127.0.0.1:${metricsPort}`);
    cleanups.push(() => prom.stop());
    const helper = ownHelper('wpprom');
    // -o json on stdout: the final stats come as JSON on stderr, every count of the run by name
    const wp = watchpost(['--backend', 'ebpf', '-e', 'iopl', '-e', 'ioperm.data.from=0x64', '--no-detect', ...helper.scope, '-o', `json:${file}`, '-o', 'json', '--metrics', `127.0.0.1:${metricsPort}`]);
    await wp.started();
    const before = await waitFor('a first scrape', () => prom.query('watchpost_events_total{event="ioperm"}'), 10_000);
    // 25 calls on port 0x64 pass the kernel filter; the 10 on other ports are dropped in the kernel
    const calls = Array.from({ length: 35 }, (_, i) => (i % 7 < 5 ? 'ioperm:0x64:1:1' : `ioperm:${0x500 + i}:1:1`));
    const io = await startSyscaller(calls, { exe: helper.exe });
    await io.go();
    await io.end();
    const sc = await startSyscaller(['iopl:3', 'iopl:3'], { exe: helper.exe });
    await sc.go();
    await sc.end();
    const last = (m: string): Promise<number | undefined> => prom.query(`last_over_time(${m}[5m])`); // still there once the target is gone
    const sentMetric = `watchpost_output_sent_total{output="json:${file}"}`;
    const inKernel = 'watchpost_events_filtered_in_kernel_total{event="ioperm"}';
    await waitFor('prometheus to see the calls, the kernel filter and the file output to have sent them', async () => {
      const [io, pl, sent, filtered] = await Promise.all(['watchpost_events_total{event="ioperm"}', 'watchpost_events_total{event="iopl"}', sentMetric, inKernel].map(last));
      return io! >= before + 25 && pl! >= 2 && sent === io! + pl! && filtered! >= 10 ? true : undefined;
    }, 10_000);
    assert.ok((await prom.query('process_resident_memory_bytes{job="watchpost"}'))! > 10e6);
    assert.equal(await prom.query('watchpost_backend_info{backend="ebpf"}'), 1);
    const scraped: Record<string, number | undefined> = {};
    for (const kind of LOSS_KINDS) scraped[kind] = await last(`watchpost_lost_by_kind_total{kind="${kind}"}`);
    const scrapedInKernel = (await last(inKernel))!;
    assert.equal(await wp.stop(), 0);
    const lines = wp.stderr().trim().split('\n');
    const final = (JSON.parse(lines.at(-1)!) as { stats: TraceStats }).stats;
    const sent = (JSON.parse(lines.find((l) => l.includes(`"name":"json:${file}"`))!) as { output: { sent: number } }).output.sent;
    assert.equal(await last('watchpost_events_total{event="ioperm"}'), final.delivered.ioperm, 'ioperm: prometheus == the final stats');
    assert.equal(await last('watchpost_events_total{event="iopl"}'), final.delivered.iopl, 'iopl: prometheus == the final stats');
    assert.equal(await last(sentMetric), sent, 'sent: prometheus == the exit report');
    assert.deepEqual([final.delivered.ioperm, final.delivered.iopl, sent], [25, 2, 27], 'scoped to the helper, filtered to 0x64: exactly its calls, all in the file');
    // the kernel also drops (and counts) other processes' ioperm calls made meanwhile: at least the helper's 10
    assert.ok(scrapedInKernel >= 10 && scrapedInKernel <= final.filteredInKernel!.ioperm, `in-kernel drops: scraped ${scrapedInKernel}, final ${final.filteredInKernel!.ioperm}`);
    for (const kind of LOSS_KINDS) {
      assert.ok(scraped[kind] !== undefined && scraped[kind] <= (final.lostByKind[kind] ?? 0), `${kind}: a series from the first scrape, ${scraped[kind]} <= ${final.lostByKind[kind] ?? 0} at the end`);
    }
    assert.equal(await last(`watchpost_output_dropped_total{output="json:${file}"}`), 0);
  });

  it('--metrics counts a real loss by kind: a storm through the kernel filter into a small eBPF ring buffer', async () => {
    const metricsPort = await freePort();
    const helper = ownHelper('wpstorm');
    const wp = watchpost(['--backend', 'ebpf', '--buffer-kb', '64', '-e', 'ioperm.data.from=0x80', '--no-detect', ...helper.scope, '-o', 'json', '--metrics', `127.0.0.1:${metricsPort}`]);
    await wp.started();
    const url = `http://127.0.0.1:${metricsPort}/metrics`;
    const STORM = 200_000;
    const sc = await startSyscaller([...Array.from({ length: 5 }, (_, i) => `ioperm:${0x64 + i}:1:0`), `iopermstorm:${STORM}`], { exe: helper.exe });
    await sc.go();
    await sc.end();
    // every storm call is delivered or counted lost (eBPF accounts exactly); then no record of the helper is left to come
    const page = await waitFor('the storm to be accounted for', async () => {
      const p = await scrape(url);
      return metric(p, 'watchpost_events_total', 'event="ioperm"')! + metric(p, 'watchpost_events_lost_total', 'event="ioperm"')! === STORM ? p : undefined;
    }, 20_000);
    assert.equal(await wp.stop(), 0);
    const final = (JSON.parse(wp.stderr().trim().split('\n').at(-1)!) as { stats: TraceStats }).stats;
    const full = metric(page, 'watchpost_lost_by_kind_total', 'kind="ringbuf-full"')!;
    assert.ok(full > 0, `the storm overflows a 64 KiB buffer: ${JSON.stringify(final.lostByKind)}`);
    assert.equal(full, final.lostByKind['ringbuf-full'], 'ringbuf-full: the scrape == the final stats (only the helper passes the filters, and its storm is over)');
    assert.equal(metric(page, 'watchpost_lost_total', 'reason="ebpf ringbuf full"'), full, 'the same count in words');
    assert.ok(metric(page, 'watchpost_events_filtered_in_kernel_total', 'event="ioperm"')! >= 5, 'the 5 calls on other ports, dropped in the kernel');
  });
});
