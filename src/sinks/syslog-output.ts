import { UsageError } from '../model/errors.js';
import type { SyscallEvent } from '../model/event.js';
import { agentHost } from '../enrich/agent-host.js';
import { eventToJson } from './json.js';
import { QueuedOutput, queueSettings, type QueuedEvent, type QueueSettings } from './queued-output.js';
import { registerOutput } from './registry.js';
import { syslogSeverity } from './severity.js';
import { TargetOptions } from './target-options.js';
import type { UnixDatagramSocket } from './unix-datagram.js';

const FACILITIES = [
  'kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron', 'authpriv', 'ftp', 'ntp', 'audit', 'console', 'clock',
  'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7',
] as const;
export type Facility = (typeof FACILITIES)[number];

export const APP_NAME = 'watchpost';

/** RFC 5424 fields are printable US-ASCII without spaces; anything else becomes '_' (empty -> the NILVALUE). */
function token(s: string, max: number): string {
  const t = s.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return t || '-';
}

/** `2026-11-24T18:20:05.372562Z`: microseconds, the finest RFC 5424 allows. */
function timestamp(ns: number): string {
  const ms = Math.floor(ns / 1e6);
  const micro = Math.floor(ns / 1e3) % 1e6;
  return `${new Date(ms).toISOString().slice(0, 19)}.${String(micro).padStart(6, '0')}Z`;
}

const fallbackHost = token(agentHost, 255);

/**
 * One RFC 5424 message: `<PRI>1 TIMESTAMP HOSTNAME watchpost PROCID MSGID - JSON`. PROCID is Watchpost's pid
 * (the originator); MSGID the event name; no STRUCTURED-DATA (custom SD-IDs need an IANA enterprise number), the
 * event is the MSG, as the same JSON line `-o json` prints.
 */
export function formatSyslog(ev: SyscallEvent, facility: number): string {
  const pri = facility * 8 + syslogSeverity(ev);
  const host = ev.hostName ? token(ev.hostName, 255) : fallbackHost;
  return `<${pri}>1 ${timestamp(ev.timestamp)} ${host} ${APP_NAME} ${process.pid} ${token(ev.eventName, 32)} - ${eventToJson(ev)}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * The BSD format (RFC 3164) that local syslog daemons expect on /dev/log by default (rsyslog's imuxsock parser,
 * journald): `<PRI>Mmm dd hh:mm:ss [HOSTNAME ]watchpost[PID]: JSON`, local time, no year. The hostname is left out on a
 * Unix socket, as libc's syslog() does.
 */
export function formatBsd(ev: SyscallEvent, facility: number, withHost: boolean): string {
  const pri = facility * 8 + syslogSeverity(ev);
  const d = new Date(Math.floor(ev.timestamp / 1e6));
  const two = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  const host = withHost ? `${ev.hostName ? token(ev.hostName, 255) : fallbackHost} ` : '';
  return `<${pri}>${stamp} ${host}${APP_NAME}[${process.pid}]: ${eventToJson(ev)}`;
}

export type SyslogFormat = 'rfc5424' | 'bsd';

/** RFC 6587 octet counting: `LEN SP MSG`, LEN in bytes, so a message may contain anything, newlines included. */
export function octetCounted(message: string): Buffer {
  const body = Buffer.from(message);
  return Buffer.concat([Buffer.from(`${body.length} `), body]);
}

type Transport = { kind: 'udp' | 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

interface Connection {
  send(messages: readonly string[]): Promise<number>;
  close(): void;
}

/** Sends one by one; a failure after some were sent reports those (so only the rest is retried, never a duplicate). */
async function eachMessage(messages: readonly string[], send: (m: string) => Promise<void>): Promise<number> {
  let done = 0;
  try {
    for (const m of messages) {
      await send(m);
      done++;
    }
  } catch (err) {
    if (!done) throw err;
  }
  return done;
}

async function connectUdp(host: string, port: number): Promise<Connection> {
  const dgram = await import('node:dgram');
  const { isIPv6 } = await import('node:net');
  const sock = dgram.createSocket(isIPv6(host) ? 'udp6' : 'udp4');
  sock.unref();
  return {
    send: (messages) =>
      eachMessage(messages, (m) => new Promise<void>((resolve, reject) => sock.send(m, port, host, (err) => (err ? reject(err) : resolve())))),
    close: () => sock.close(),
  };
}

async function connectTcp(host: string, port: number): Promise<Connection> {
  const net = await import('node:net');
  const sock = net.connect({ host, port });
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
    sock.setTimeout(5000, () => sock.destroy(new Error(`connect to ${host}:${port} timed out`)));
  });
  sock.setTimeout(0);
  let failure: Error | undefined;
  sock.on('error', (err) => (failure = err));
  sock.on('close', () => (failure ??= new Error('connection closed by the server')));
  return {
    async send(messages) {
      if (failure) throw failure;
      const frames = Buffer.concat(messages.map(octetCounted));
      // TCP syslog has no acknowledgement: "sent" means handed to the kernel on a live connection.
      await new Promise<void>((resolve, reject) => sock.write(frames, (err) => (err ? reject(err) : resolve())));
      if (failure) throw failure;
      return messages.length;
    },
    close: () => sock.destroy(),
  };
}

async function connectUnix(path: string): Promise<Connection> {
  const { openUnixDatagram } = await import('./unix-datagram.js');
  const sock: UnixDatagramSocket = await openUnixDatagram(path);
  return {
    send: (messages) =>
      eachMessage(messages, async (m) => {
        const buf = Buffer.from(m);
        // A local receiver's queue is short (net.unix.max_dgram_qlen, often 10): EAGAIN means "a moment", not "down".
        for (let waited = 0; ; waited += 2) {
          try {
            return sock.send(buf);
          } catch (err) {
            if (!/EAGAIN/.test((err as Error).message) || waited >= 500) throw err;
            await new Promise((resolve) => setTimeout(resolve, 2));
          }
        }
      }),
    close: () => sock.close(),
  };
}

/** `-o syslog:udp://HOST:PORT | tcp://HOST:PORT | unix:PATH`, options `?facility=local0&format=rfc5424` (the defaults). */
export class SyslogOutput extends QueuedOutput {
  private conn: Connection | undefined;

  constructor(
    private readonly transport: Transport,
    private readonly facility: number,
    private readonly format: SyslogFormat,
    queue: QueueSettings,
    target: string,
  ) {
    super(`syslog:${target}`, queue);
  }

  protected async deliver(batch: readonly QueuedEvent[]): Promise<number> {
    const withHost = this.transport.kind !== 'unix';
    const messages = batch.map((q) => (this.format === 'bsd' ? formatBsd(q.ev, this.facility, withHost) : formatSyslog(q.ev, this.facility)));
    try {
      this.conn ??= await this.connect();
      return await this.conn.send(messages);
    } catch (err) {
      this.conn?.close();
      this.conn = undefined; // reconnect on the next attempt
      throw err;
    }
  }

  private connect(): Promise<Connection> {
    const t = this.transport;
    if (t.kind === 'unix') return connectUnix(t.path);
    return t.kind === 'udp' ? connectUdp(t.host, t.port) : connectTcp(t.host, t.port);
  }

  protected override async shutdown(): Promise<void> {
    this.conn?.close();
    this.conn = undefined;
  }
}

export function parseSyslogTarget(base: string, spec: string): Transport {
  if (base.startsWith('unix:')) {
    const path = base.slice('unix:'.length).replace(/^\/\/(?=\/)/, '');
    if (!path.startsWith('/')) throw new UsageError(`-o ${spec}: unix: needs an absolute socket path, e.g. syslog:unix:/dev/log`);
    return { kind: 'unix', path };
  }
  const m = /^(udp|tcp):\/\/(\[[^\]]+\]|[^:/]+):(\d+)$/.exec(base);
  const port = Number(m?.[3]);
  if (!m || port < 1 || port > 65535) {
    throw new UsageError(`-o ${spec}: expected syslog:udp://HOST:PORT, syslog:tcp://HOST:PORT or syslog:unix:PATH`);
  }
  return { kind: m[1] as 'udp' | 'tcp', host: m[2].replace(/^\[|\]$/g, ''), port };
}

registerOutput('syslog', (target) => {
  const spec = `syslog:${target}`;
  const { base, options } = TargetOptions.split(target);
  const transport = parseSyslogTarget(base, spec);
  const facility = FACILITIES.indexOf(options.oneOf('facility', FACILITIES, 'local0'));
  const format = options.oneOf('format', ['rfc5424', 'bsd'] as const, 'rfc5424');
  const queue = queueSettings(options);
  options.rejectUnknown();
  return new SyslogOutput(transport, facility, format, queue, target);
}, 'syslog:udp://HOST:PORT (or tcp://HOST:PORT, unix:PATH)');
