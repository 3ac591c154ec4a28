import { UsageError } from '../model/errors.js';
import type { SyscallEvent } from '../model/event.js';
import { agentHost } from '../enrich/agent-host.js';
import { eventToJson, jsonLines } from './json.js';
import type { MessageBlock, Messages } from './message-queue.js';
import { QueuedOutput, queueSettings, type QueueSettings } from './queued-output.js';
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

/** Tokens of the few host and event names a run sees, made once each. */
const tokens = new Map<string, string>();
function cachedToken(s: string, max: number): string {
  const key = `${max}\u0000${s}`;
  let t = tokens.get(key);
  if (t === undefined) {
    if (tokens.size >= 4096) tokens.clear();
    tokens.set(key, (t = token(s, max)));
  }
  return t;
}

/** One-entry caches of the per-second part of a time stamp: events of one second share it. */
let isoSecond = NaN;
let isoPrefix = '';
let bsdSecond = NaN;
let bsdPrefix = '';

/** `2026-11-24T18:20:05.372562Z`: microseconds, the finest RFC 5424 allows. */
function timestamp(ns: number): string {
  const second = Math.floor(ns / 1e9);
  if (second !== isoSecond) {
    isoSecond = second;
    isoPrefix = new Date(second * 1000).toISOString().slice(0, 19);
  }
  const micro = Math.floor(ns / 1e3) % 1e6;
  return `${isoPrefix}.${String(micro).padStart(6, '0')}Z`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `Nov 24 18:20:05`: local time, no year (RFC 3164). */
function bsdStamp(ns: number): string {
  const second = Math.floor(ns / 1e9);
  if (second !== bsdSecond) {
    bsdSecond = second;
    const d = new Date(second * 1000);
    const two = (n: number): string => String(n).padStart(2, '0');
    bsdPrefix = `${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  }
  return bsdPrefix;
}

const fallbackHost = token(agentHost, 255);
const hostOf = (ev: SyscallEvent): string => (ev.hostName ? cachedToken(ev.hostName, 255) : fallbackHost);

export type SyslogFormat = 'rfc5424' | 'bsd';

/** What precedes the event's JSON line in its message. */
function header(ev: SyscallEvent, facility: number, format: SyslogFormat, withHost: boolean): string {
  const pri = facility * 8 + syslogSeverity(ev);
  if (format === 'rfc5424') return `<${pri}>1 ${timestamp(ev.timestamp)} ${hostOf(ev)} ${APP_NAME} ${process.pid} ${cachedToken(ev.eventName, 32)} - `;
  return `<${pri}>${bsdStamp(ev.timestamp)} ${withHost ? `${hostOf(ev)} ` : ''}${APP_NAME}[${process.pid}]: `;
}

/**
 * One RFC 5424 message: `<PRI>1 TIMESTAMP HOSTNAME watchpost PROCID MSGID - JSON`. PROCID is Watchpost's pid
 * (the originator); MSGID the event name; no STRUCTURED-DATA (custom SD-IDs need an IANA enterprise number), the
 * event is the MSG, as the same JSON line `-o json` prints.
 */
export function formatSyslog(ev: SyscallEvent, facility: number): string {
  return `${header(ev, facility, 'rfc5424', true)}${eventToJson(ev)}`;
}

/**
 * The BSD format (RFC 3164) that local syslog daemons expect on /dev/log by default (rsyslog's imuxsock parser,
 * journald): `<PRI>Mmm dd hh:mm:ss [HOSTNAME ]watchpost[PID]: JSON`, local time, no year. The hostname is left out on a
 * Unix socket, as libc's syslog() does.
 */
export function formatBsd(ev: SyscallEvent, facility: number, withHost: boolean): string {
  return `${header(ev, facility, 'bsd', withHost)}${eventToJson(ev)}`;
}

/**
 * The first n events as messages: each header (ASCII) and the event's shared JSON line without its newline; on TCP
 * framed by octet counting (RFC 6587: `LEN SP MSG`, LEN in bytes, so a message may contain anything).
 */
function syslogBlock(batch: readonly SyscallEvent[], n: number, facility: number, format: SyslogFormat, kind: Transport['kind']): MessageBlock {
  const lines = jsonLines(batch);
  const heads = new Array<string>(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const json = lines.ends[i] - (i ? lines.ends[i - 1] : 0) - 1;
    const head = header(batch[i], facility, format, kind !== 'unix');
    heads[i] = kind === 'tcp' ? `${head.length + json} ${head}` : head;
    total += heads[i].length + json;
  }
  const bytes = Buffer.allocUnsafeSlow(total);
  const ends = new Uint32Array(n);
  let off = 0;
  for (let i = 0; i < n; i++) {
    off += bytes.write(heads[i], off, 'latin1');
    off += lines.bytes.copy(bytes, off, i ? lines.ends[i - 1] : 0, lines.ends[i] - 1);
    ends[i] = off;
  }
  return { bytes, ends };
}

type Transport = { kind: 'udp' | 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

interface Connection {
  /** Sends the messages in order; returns how many went out before a failure (only the rest is retried, never a duplicate). */
  send(messages: Messages): Promise<number>;
  close(): void;
}

/** Datagrams sent back to back before the event loop gets a turn: a slow receiver's cost stays bounded per turn. */
const SLICE = 64;
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Sends one by one, SLICE at a time; a failure after some were sent reports those. */
async function eachMessage(messages: Messages, send: (m: Buffer) => void | Promise<void>): Promise<number> {
  let done = 0;
  try {
    for (let i = 0; i < messages.length; i++) {
      await send(messages.message(i));
      if (++done % SLICE === 0) await nextTurn();
    }
  } catch (err) {
    if (!done) throw err;
  }
  return done;
}

async function connectUdp(host: string, port: number): Promise<Connection> {
  const dgram = await import('node:dgram');
  const { lookup } = await import('node:dns/promises');
  const { address, family } = await lookup(host); // once: a name is not looked up again for every datagram
  const sock = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
  sock.unref();
  return {
    send: (messages) => eachMessage(messages, (m) => new Promise<void>((resolve, reject) => sock.send(m, port, address, (err) => (err ? reject(err) : resolve())))),
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
      // TCP syslog has no acknowledgement: "sent" means handed to the kernel on a live connection.
      const frames = messages.chunks();
      for (let i = 0; i < frames.length - 1; i++) sock.write(frames[i]);
      await new Promise<void>((resolve, reject) => sock.write(frames[frames.length - 1], (err) => (err ? reject(err) : resolve())));
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
        // A local receiver's queue is short (net.unix.max_dgram_qlen, often 10): EAGAIN means "a moment", not "down".
        for (let waited = 0; ; waited += 2) {
          try {
            return sock.send(m);
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

  protected override encode(batch: readonly SyscallEvent[], max: number): MessageBlock {
    return syslogBlock(batch, max, this.facility, this.format, this.transport.kind);
  }

  protected async deliver(messages: Messages): Promise<number> {
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
