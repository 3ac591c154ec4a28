/**
 * Outputs under a storm: what each output of one run got, and the tracer's peak memory (VmHWM).
 *   node dist/bench/outputs.js [--calls N] [--event ioperm|ioctl] [SCENARIO…]
 * Scenarios: file (json:FILE alone), udp (and syslog to a dead UDP port), failing (and a webhook that refuses
 * connections and syslog to a dead TCP port), hanging (and a webhook that never answers). The storm runs pinned to
 * CPU 1, Watchpost to CPU 0; each line printed is one run.
 */
import { readFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exited, interrupt, launch, Lines, stopAll } from './process.js';
import { buildWorkloads, TRACER_CPU, WORKLOAD_CPU } from './workload.js';

// WATCHPOST_CLI: another build's main.js (e.g. a copy of dist/ from before a change), to compare
const CLI = process.env.WATCHPOST_CLI ?? fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/** The scenario's outputs besides the file; `servers` are closed after the run. */
async function outputsOf(scenario: string, servers: Server[]): Promise<string[]> {
  if (scenario === 'file') return [];
  if (scenario === 'udp') return [`syslog:udp://127.0.0.1:${await freePort()}`];
  if (scenario === 'failing') return [`webhook:http://127.0.0.1:${await freePort()}/`, `syslog:tcp://127.0.0.1:${await freePort()}`];
  if (scenario === 'hanging') {
    const server = createServer(() => undefined); // never answers
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    return [`webhook:http://127.0.0.1:${(server.address() as { port: number }).port}/`];
  }
  throw new Error(`unknown scenario ${scenario}; use file, udp, failing or hanging`);
}

/** VmHWM of a live process in KiB, or undefined once it is gone. */
function peakKb(pid: number): number | undefined {
  try {
    const kb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    return Number.isFinite(kb) ? kb : undefined;
  } catch {
    return undefined;
  }
}

async function run(scenario: string, storm: string, event: string, calls: number, dir: string): Promise<void> {
  const servers: Server[] = [];
  const file = join(dir, `${scenario}.jsonl`);
  rmSync(file, { force: true });
  const others = await outputsOf(scenario, servers);
  const args = ['taskset', '-c', String(TRACER_CPU), process.execPath, CLI, '-e', event, '-s', 'comm=storm', '--no-detect', '-o', `json:${file}?maxSize=8G`, ...others.flatMap((o) => ['-o', o])];
  const wp = launch(args);
  const err = new Lines(wp.stderr);
  wp.stdout?.resume();
  await err.waitFor((l) => l.includes('tracing with'), 60_000, 'watchpost start');
  let peak = 0;
  const poll = setInterval(() => (peak = Math.max(peak, peakKb(wp.pid!) ?? 0)), 50);
  const w = launch([storm, '--now', '--cpu', String(WORKLOAD_CPU), event, String(calls)]);
  w.stdout?.resume();
  await exited(w);
  await new Promise((r) => setTimeout(r, 1000)); // what the kernel buffers still hold
  const stopAt = performance.now();
  peak = Math.max(peak, peakKb(wp.pid!) ?? 0);
  await interrupt(wp, 60_000);
  clearInterval(poll);
  const stopMs = Math.round(performance.now() - stopAt);
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  const text = err.all.map((l) => l.text).join('\n');
  const delivered = Number(new RegExp(`${event} (\\d+) delivered`).exec(text)?.[1] ?? NaN);
  const sent: Record<string, string> = {};
  for (const m of text.matchAll(/^watchpost: (\S+): (\d+ sent, \d+ dropped, \d+ retried)/gm)) sent[m[1].replace(/127\.0\.0\.1:\d+/, 'DEAD').replace(dir, 'DIR')] = m[2];
  const lines = statSync(file).size ? readFileSync(file, 'utf8').split('\n').length - 1 : 0;
  console.log(JSON.stringify({ scenario, calls, delivered, fileLines: lines, outputs: sent, peakRssMB: Math.round(peak / 1024), stopMs }));
}

const argv = process.argv.slice(2);
function option(name: string, fallback: string): string {
  const i = argv.indexOf(name);
  return i < 0 ? fallback : argv.splice(i, 2)[1];
}
const calls = Number(option('--calls', '1000000'));
const event = option('--event', 'ioperm');
const scenarios = argv.length ? argv : ['file', 'udp', 'failing', 'hanging'];
const dir = mkdtempSync(join(tmpdir(), 'watchpost-bench-outputs-'));
process.on('SIGINT', () => void stopAll().then(() => process.exit(130)));
try {
  const { storm } = buildWorkloads(dir);
  for (const s of scenarios) await run(s, storm, event, calls, dir);
} finally {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
}
