import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './events.js';

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

export async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect({ host: '127.0.0.1', port });
    c.once('connect', () => (c.destroy(), resolve(true)));
    c.once('error', () => resolve(false));
  });
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `watchpost-${prefix}-`));
}

/** A server this test started: stopped by its pid (SIGTERM, then SIGKILL after 5 s). */
export interface Started {
  child: ChildProcess;
  stop(): Promise<void>;
}

function stopper(child: ChildProcess): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    process.kill(child.pid!, 'SIGTERM');
    const t = setTimeout(() => child.pid && process.kill(child.pid, 'SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  };
}

/** `nats-server -js` on 127.0.0.1:port with its JetStream store in `storeDir` (reuse both to restart it). */
export async function startNats(port: number, storeDir: string): Promise<Started> {
  const child = spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir, '--no_advertise'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  await waitFor(`nats-server on ${port} (log: ${log.slice(-500)})`, () => (log.includes('Server is ready') ? true : child.exitCode !== null ? Promise.reject(new Error(`nats-server exited: ${log}`)) : undefined), 10_000);
  return { child, stop: stopper(child) };
}

export interface Rsyslog extends Started {
  udpPort: number;
  tcpPort: number;
  socketPath: string;
  /** A Unix socket parsed as rsyslog parses /dev/log by default (its special imuxsock parser: BSD format only). */
  defaultSocketPath: string;
  /** What rsyslog parsed, one line per message: PRI|VERSION|TIMESTAMP|HOSTNAME|APP|PROCID|MSGID|SD|INPUT|MSG. */
  outFile: string;
}

/** rsyslogd in the foreground with a private config (UDP, TCP and a Unix socket, all local), writing to a temp file. */
export async function startRsyslog(): Promise<Rsyslog> {
  const dir = tempDir('rsyslog');
  const udpPort = await freeUdpPort();
  const tcpPort = await freePort();
  const socketPath = join(dir, 'log.sock');
  const defaultSocketPath = join(dir, 'devlog.sock');
  const outFile = join(dir, 'messages.log');
  const conf = join(dir, 'rsyslog.conf');
  writeFileSync(
    conf,
    `global(workDirectory="${dir}")
module(load="imudp")
module(load="imtcp")
module(load="imuxsock" SysSock.Use="off")
input(type="imudp" address="127.0.0.1" port="${udpPort}")
input(type="imtcp" address="127.0.0.1" port="${tcpPort}")
input(type="imuxsock" Socket="${socketPath}" UseSpecialParser="off" ParseHostname="on" UseSysTimeStamp="off")
input(type="imuxsock" Socket="${defaultSocketPath}")
template(name="fields" type="string" string="%pri%|%protocol-version%|%timereported:::date-rfc3339%|%hostname%|%app-name%|%procid%|%msgid%|%structured-data%|%inputname%|%msg%\\n")
*.* action(type="omfile" file="${outFile}" template="fields")
`,
  );
  const child = spawn('rsyslogd', ['-n', '-f', conf, '-i', join(dir, 'rsyslogd.pid')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  await waitFor(`rsyslogd listening on ${tcpPort} (${log})`, async () => ((await listening(tcpPort)) ? true : undefined), 10_000);
  const stop = stopper(child);
  return { child, stop: async () => (await stop(), rmSync(dir, { recursive: true, force: true })), udpPort, tcpPort, socketPath, defaultSocketPath, outFile };
}

export interface Prometheus extends Started {
  /** Runs a PromQL instant query through the HTTP API; returns the first sample's value, or undefined. */
  query(promql: string): Promise<number | undefined>;
}

/** A private prometheus on 127.0.0.1 scraping `target` (HOST:PORT) every second, its data in a temp dir. */
export async function startPrometheus(target: string): Promise<Prometheus> {
  const dir = tempDir('prometheus');
  const port = await freePort();
  const conf = join(dir, 'prometheus.yml');
  writeFileSync(conf, `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: watchpost\n    static_configs:\n      - targets: ['${target}']\n`);
  const child = spawn('prometheus', [`--config.file=${conf}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  await waitFor(`prometheus ready (${log.slice(-300)})`, () => (log.includes('Server is ready to receive web requests') ? true : undefined), 15_000);
  const stop = stopper(child);
  return {
    child,
    stop: async () => (await stop(), rmSync(dir, { recursive: true, force: true })),
    async query(promql) {
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = (await res.json()) as { status: string; data: { result: Array<{ value: [number, string] }> } };
      const v = body.data.result[0]?.value[1];
      return v === undefined ? undefined : Number(v);
    },
  };
}
