import type { EventArg, SyscallEvent } from '../model/event.js';
import { fromPool, toPool } from './buffer-pool.js';

// Hot path: every event an output prints in JSON passes here. What a thread's events share is compared field by
// field and its text reused; per event only the time, CPU, return value and arguments are written, straight into
// one reused buffer (numbers as digits, no string per field); in a storm, all but the time is copied from the line before.

const str = JSON.stringify;
const MAX_CACHED = 4096;
const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

/** JSON text of strings that repeat from event to event (names, paths, hosts), escaped once. */
const quoted = new Map<string, string>();
function q(s: string): string {
  let out = quoted.get(s);
  if (out === undefined) {
    if (quoted.size >= MAX_CACHED) quoted.clear();
    quoted.set(s, (out = str(s)));
  }
  return out;
}

/** Objects shared between events (port tables) are serialized once. */
const shared = new WeakMap<object, string>();
function once(o: object): string {
  let out = shared.get(o);
  if (out === undefined) shared.set(o, (out = str(o)));
  return out;
}

/** `{"name":"from","type":"uint64","value":` per arg name and type. */
const argHeads = new Map<string, Buffer>();
function argHead(name: string, type: string): Buffer {
  const key = `${name}\u0000${type}`;
  let out = argHeads.get(key);
  if (out === undefined) {
    if (argHeads.size >= MAX_CACHED) argHeads.clear();
    argHeads.set(key, (out = utf8(`{"name":${str(name)},"type":${str(type)},"value":`)));
  }
  return out;
}

const sameList = <T>(a: readonly T[] | undefined, b: readonly T[] | undefined): boolean => {
  if (a === b) return true;
  if (a === undefined || b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
};

function isEmpty(o: object): boolean {
  for (const _ in o) return false;
  return true;
}

const bigintAsString = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? v.toString() : v);
const metadataJson = (m: Record<string, unknown>): string => (isEmpty(m) ? '{}' : JSON.stringify(m, bigintAsString));

const EMPTY_CONTAINER_JSON = '{"id":"","name":"","image":"","imageDigest":""}';
const EMPTY_K8S_JSON = '{"podName":"","podNamespace":"","podUID":"","podSandbox":false}';
const TIMESTAMP_KEY = utf8('{"timestamp":');
const NULL = utf8('null');

/** What every event of one thread shares until it execs, moves or is renamed; kept while each event matches it. */
class ThreadText {
  readonly threadStartTime: number;
  readonly processId: number;
  readonly cgroupId: number;
  readonly threadId: number;
  readonly parentProcessId: number;
  readonly hostProcessId: number;
  readonly hostThreadId: number;
  readonly hostParentProcessId: number;
  readonly userId: number;
  readonly mountNamespace: number;
  readonly pidNamespace: number;
  readonly processName: string;
  readonly exePath: string;
  readonly hostName: string;
  readonly containerId: string;
  readonly cId: string;
  readonly cName: string;
  readonly cImage: string;
  readonly cDigest: string;
  readonly podName: string;
  readonly podNamespace: string;
  readonly podUID: string;
  readonly podSandbox: boolean;
  readonly containerStarted: boolean;
  readonly threadEntityId: number;
  readonly processEntityId: number;
  readonly parentEntityId: number;
  /** `,"threadStartTime":N,"processorId":` */
  readonly start: Buffer;
  /** `,"processId":…,"kubernetes":{…},` */
  readonly context: string;
  /** `"containerStarted":B,"isCompat":` and `},"threadEntityId":…,"parentEntityId":N,"args":[` around isCompat. */
  readonly started: string;
  readonly ids: string;
  readonly kinds = new Map<string, KindText>();
  lastKind: KindText | undefined;

  constructor(e: SyscallEvent) {
    const c = e.container;
    const k = e.kubernetes;
    this.threadStartTime = e.threadStartTime;
    this.processId = e.processId;
    this.cgroupId = e.cgroupId;
    this.threadId = e.threadId;
    this.parentProcessId = e.parentProcessId;
    this.hostProcessId = e.hostProcessId;
    this.hostThreadId = e.hostThreadId;
    this.hostParentProcessId = e.hostParentProcessId;
    this.userId = e.userId;
    this.mountNamespace = e.mountNamespace;
    this.pidNamespace = e.pidNamespace;
    this.processName = e.processName;
    this.exePath = e.executable.path;
    this.hostName = e.hostName;
    this.containerId = e.containerId;
    this.cId = c.id;
    this.cName = c.name;
    this.cImage = c.image;
    this.cDigest = c.imageDigest;
    this.podName = k.podName;
    this.podNamespace = k.podNamespace;
    this.podUID = k.podUID;
    this.podSandbox = k.podSandbox;
    this.containerStarted = e.contextFlags.containerStarted;
    this.threadEntityId = e.threadEntityId;
    this.processEntityId = e.processEntityId;
    this.parentEntityId = e.parentEntityId;
    const container =
      c.id === '' && c.name === '' && c.image === '' && c.imageDigest === ''
        ? EMPTY_CONTAINER_JSON
        : `{"id":${q(c.id)},"name":${q(c.name)},"image":${q(c.image)},"imageDigest":${q(c.imageDigest)}}`;
    const kubernetes =
      k.podName === '' && k.podNamespace === '' && k.podUID === '' && !k.podSandbox
        ? EMPTY_K8S_JSON
        : `{"podName":${q(k.podName)},"podNamespace":${q(k.podNamespace)},"podUID":${q(k.podUID)},"podSandbox":${k.podSandbox}}`;
    this.start = utf8(`,"threadStartTime":${Math.round(e.threadStartTime)},"processorId":`);
    this.context =
      `,"processId":${e.processId},"cgroupId":${e.cgroupId},"threadId":${e.threadId},"parentProcessId":${e.parentProcessId},` +
      `"hostProcessId":${e.hostProcessId},"hostThreadId":${e.hostThreadId},"hostParentProcessId":${e.hostParentProcessId},` +
      `"userId":${e.userId},"mountNamespace":${e.mountNamespace},"pidNamespace":${e.pidNamespace},` +
      `"processName":${q(e.processName)},"executable":{"path":${q(e.executable.path)}},"hostName":${q(e.hostName)},` +
      `"containerId":${q(e.containerId)},"container":${container},"kubernetes":${kubernetes},`;
    this.started = `"contextFlags":{"containerStarted":${e.contextFlags.containerStarted},"isCompat":`;
    this.ids = `},"threadEntityId":${e.threadEntityId},"processEntityId":${e.processEntityId},"parentEntityId":${e.parentEntityId},"args":[`;
  }

  matches(e: SyscallEvent): boolean {
    return (
      e.threadStartTime === this.threadStartTime &&
      e.processId === this.processId &&
      e.cgroupId === this.cgroupId &&
      e.threadId === this.threadId &&
      e.parentProcessId === this.parentProcessId &&
      e.hostProcessId === this.hostProcessId &&
      e.hostThreadId === this.hostThreadId &&
      e.hostParentProcessId === this.hostParentProcessId &&
      e.userId === this.userId &&
      e.mountNamespace === this.mountNamespace &&
      e.pidNamespace === this.pidNamespace &&
      e.processName === this.processName &&
      e.executable.path === this.exePath &&
      e.hostName === this.hostName &&
      e.containerId === this.containerId &&
      e.container.id === this.cId &&
      e.container.name === this.cName &&
      e.container.image === this.cImage &&
      e.container.imageDigest === this.cDigest &&
      e.kubernetes.podName === this.podName &&
      e.kubernetes.podNamespace === this.podNamespace &&
      e.kubernetes.podUID === this.podUID &&
      e.kubernetes.podSandbox === this.podSandbox &&
      e.contextFlags.containerStarted === this.containerStarted &&
      e.threadEntityId === this.threadEntityId &&
      e.processEntityId === this.processEntityId &&
      e.parentEntityId === this.parentEntityId
    );
  }

  kind(e: SyscallEvent): KindText {
    let k = this.lastKind;
    if (k === undefined || k.eventName !== e.eventName) k = this.kinds.get(e.eventName);
    if (k === undefined || !k.matches(e)) {
      k = new KindText(e, this);
      if (this.kinds.size >= 256) this.kinds.clear();
      this.kinds.set(e.eventName, k);
    }
    return (this.lastKind = k);
  }
}

/** What every event of one kind from one thread shares, and where the last one's line is (a storm repeats it but for the time). */
class KindText {
  readonly eventId: string;
  readonly eventName: string;
  readonly syscall: string;
  readonly argsNum: number;
  readonly matchedPolicies: readonly string[];
  readonly policies: readonly string[];
  readonly stackAddresses: readonly number[];
  readonly stack: readonly number[];
  /** Context, then `"eventId":…,"argsNum":N,"returnValue":` */
  readonly head: Buffer;
  /** `,"syscall":…,"contextFlags":{…,"isCompat":` and what follows isCompat up to the args. */
  private readonly beforeCompat: string;
  private readonly afterCompat: string;
  private compatFalse: Buffer | undefined;
  private compatTrue: Buffer | undefined;
  /**
   * Where the last line's text after its timestamp is in the writer's current buffer, and what it was made of: a storm
   * repeats CPU, return value and arguments, so the next line copies it (the part up to the args, when only those differ).
   */
  restGen = -1;
  restStart = 0;
  restEnd = 0;
  /** Bytes of the rest before the args: thread start, CPU, context, return value, flags. */
  restMid = 0;
  restCpu = -1;
  restRet = 0;
  restCompat: unknown;
  private restArgs: readonly EventArg[] = [];
  private restExtras: Buffer | undefined;
  /** `{"name":…,"type":…,"value":` by arg index, for the name and type it had last. */
  private readonly heads: Buffer[] = [];
  private readonly headNames: string[] = [];
  private readonly headTypes: string[] = [];
  /** `],"metadata":…}`: what follows the args, and the additions it was made from. */
  private extras: Buffer | undefined;
  private errno: string | undefined;
  private ports: SyscallEvent['ports'];
  private runtime: string | undefined;
  private metadata: SyscallEvent['metadata'] | undefined;
  private truncated: readonly string[] | undefined;
  private unread: readonly string[] | undefined;
  private decoded: Record<string, string> | undefined;
  private decodedKeys: string[] = [];

  constructor(e: SyscallEvent, t: ThreadText) {
    this.eventId = e.eventId;
    this.eventName = e.eventName;
    this.syscall = e.syscall;
    this.argsNum = e.argsNum;
    this.matchedPolicies = e.matchedPolicies;
    this.policies = [...e.matchedPolicies];
    this.stackAddresses = e.stackAddresses;
    this.stack = [...e.stackAddresses];
    const policies = e.matchedPolicies.length ? str(e.matchedPolicies) : '[]';
    this.head = utf8(`${t.context}"eventId":${q(e.eventId)},"eventName":${q(e.eventName)},"matchedPolicies":${policies},"argsNum":${e.argsNum},"returnValue":`);
    this.beforeCompat = `,"syscall":${q(e.syscall)},"stackAddresses":${e.stackAddresses.length ? str(e.stackAddresses) : '[]'},${t.started}`;
    this.afterCompat = t.ids;
  }

  matches(e: SyscallEvent): boolean {
    return (
      e.eventId === this.eventId &&
      e.eventName === this.eventName &&
      e.syscall === this.syscall &&
      e.argsNum === this.argsNum &&
      (e.matchedPolicies === this.matchedPolicies || sameList(e.matchedPolicies, this.policies)) &&
      (e.stackAddresses === this.stackAddresses || sameList(e.stackAddresses, this.stack))
    );
  }

  /** `,"syscall":…"isCompat":C},…"args":[` */
  compat(isCompat: boolean): Buffer {
    if (isCompat) return (this.compatTrue ??= utf8(`${this.beforeCompat}true${this.afterCompat}`));
    return (this.compatFalse ??= utf8(`${this.beforeCompat}false${this.afterCompat}`));
  }

  /** The same text for a value that is not a boolean (as printed before: String(value)). */
  compatText(isCompat: unknown): string {
    return `${this.beforeCompat}${String(isCompat)}${this.afterCompat}`;
  }

  /** Arg i's text up to its value. */
  argHead(i: number, a: EventArg): Buffer {
    if (a.name !== this.headNames[i] || a.type !== this.headTypes[i]) {
      this.heads[i] = argHead(a.name, a.type);
      this.headNames[i] = a.name;
      this.headTypes[i] = a.type;
    }
    return this.heads[i];
  }

  /** True when the args and what follows them print as the last line's did. */
  sameArgs(args: readonly EventArg[], extras: Buffer): boolean {
    if (extras !== this.restExtras) return false;
    const last = this.restArgs;
    if (args.length !== last.length) return false;
    for (let i = 0; i < args.length; i++) {
      const x = args[i];
      const y = last[i];
      if (x.value !== y.value || x.name !== y.name || x.type !== y.type) return false;
    }
    return true;
  }

  rememberRest(gen: number, start: number, mid: number, end: number, cpu: number, ret: number, compat: unknown, args: readonly EventArg[], extras: Buffer): void {
    this.restGen = gen;
    this.restStart = start;
    this.restMid = mid;
    this.restEnd = end;
    this.restCpu = cpu;
    this.restRet = ret;
    this.restCompat = compat;
    this.restArgs = args;
    this.restExtras = extras;
  }

  /** `],"metadata":…` and Watchpost's additions, then the closing brace: made again only when they change. */
  extrasOf(e: SyscallEvent): Buffer {
    if (this.extras === undefined || !this.sameExtras(e)) {
      this.extras = utf8(
        `],"metadata":${metadataJson(e.metadata)}` +
          (e.errno ? `,"errno":${q(e.errno)}` : '') +
          (e.ports ? `,"ports":${once(e.ports)}` : '') +
          (e.decoded ? `,"decoded":${str(e.decoded)}` : '') +
          (e.containerRuntime ? `,"containerRuntime":${q(e.containerRuntime)}` : '') +
          (e.truncatedArgs ? `,"truncatedArgs":${str(e.truncatedArgs)}` : '') +
          (e.unreadArgs ? `,"unreadArgs":${str(e.unreadArgs)}` : '') +
          '}',
      );
      this.errno = e.errno;
      this.ports = e.ports;
      this.runtime = e.containerRuntime;
      this.metadata = e.metadata;
      this.truncated = e.truncatedArgs && [...e.truncatedArgs];
      this.unread = e.unreadArgs && [...e.unreadArgs];
      this.decoded = e.decoded && { ...e.decoded };
      this.decodedKeys = e.decoded ? Object.keys(e.decoded) : [];
    }
    return this.extras;
  }

  private sameExtras(e: SyscallEvent): boolean {
    if (e.errno !== this.errno || e.ports !== this.ports || e.containerRuntime !== this.runtime) return false;
    if (e.metadata !== this.metadata && !(isEmpty(e.metadata) && isEmpty(this.metadata!))) return false;
    if (!sameList(e.truncatedArgs, this.truncated) || !sameList(e.unreadArgs, this.unread)) return false;
    const d = e.decoded;
    const last = this.decoded;
    if (d === undefined || last === undefined) return d === last;
    const keys = this.decodedKeys;
    let i = 0;
    for (const key in d) if (key !== keys[i++] || d[key] !== last[key]) return false;
    return i === keys.length;
  }
}

const threads = new Map<number, ThreadText>();
let lastThread: ThreadText | undefined;

function threadOf(e: SyscallEvent): ThreadText {
  let t = lastThread;
  if (t === undefined || t.hostThreadId !== e.hostThreadId) t = threads.get(e.hostThreadId);
  if (t === undefined || !t.matches(e)) {
    t = new ThreadText(e);
    if (threads.size >= MAX_CACHED) threads.clear();
    threads.set(e.hostThreadId, t);
  }
  return (lastThread = t);
}

/** Each begin() gets a new number: copies from an earlier line are valid within one buffer's contents only. */
let generation = 0;

/** Writes JSON lines into one buffer, grown as needed. */
class LineWriter {
  buf: Buffer = Buffer.alloc(0);
  off = 0;
  gen = 0;

  begin(buf: Buffer): void {
    this.buf = buf;
    this.off = 0;
    this.gen = ++generation;
  }

  private grow(n: number): void {
    const next = fromPool(Math.max(this.buf.length * 2, this.off + n + 4096));
    this.buf.copy(next, 0, 0, this.off);
    toPool(this.buf);
    this.buf = next;
  }

  private bytes(b: Buffer): void {
    if (this.off + b.length > this.buf.length) this.grow(b.length);
    this.buf.set(b, this.off);
    this.off += b.length;
  }

  private text(s: string): void {
    if (this.off + s.length * 3 > this.buf.length) this.grow(s.length * 3);
    this.off += this.buf.write(s, this.off);
  }

  private byte(c: number): void {
    if (this.off >= this.buf.length) this.grow(1);
    this.buf[this.off++] = c;
  }

  /** Digits and signs (numbers, bigints, timestamps): one byte per char; anything else goes through UTF-8. */
  private ascii(s: string): void {
    const n = s.length;
    if (this.off + n > this.buf.length) this.grow(n);
    const b = this.buf;
    let off = this.off;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 127) return this.text(s);
      b[off++] = c;
    }
    this.off = off;
  }

  /** String(n), without making the string for safe integers. */
  private int(n: number): void {
    if (!Number.isSafeInteger(n)) return this.ascii(String(n));
    if (this.off + 17 > this.buf.length) this.grow(17);
    const b = this.buf;
    let off = this.off;
    if (n < 0) {
      b[off++] = 45;
      n = -n;
    }
    let digits = 1;
    for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
    let end = off + digits;
    this.off = end;
    do {
      const rest = Math.floor(n / 10);
      b[--end] = 48 + n - rest * 10;
      n = rest;
    } while (n > 0);
  }

  /** One event, as one line ending in '\n'. */
  event(e: SyscallEvent): void {
    const t = threadOf(e);
    const k = t.kind(e);
    this.bytes(TIMESTAMP_KEY);
    const exact = e.exactTimestamp;
    if (exact !== undefined && exact !== null) this.ascii(exact);
    else this.int(Math.round(e.timestamp));
    const cpu = e.processorId;
    const ret = e.returnValue;
    const compat = e.contextFlags.isCompat;
    const args = e.args;
    const extras = k.extrasOf(e);
    const sameMid = k.restGen === this.gen && cpu === k.restCpu && ret === k.restRet && compat === k.restCompat;
    if (sameMid && k.sameArgs(args, extras)) return this.again(k.restStart, k.restEnd);
    const from = this.off;
    if (sameMid) this.again(k.restStart, k.restStart + k.restMid);
    else {
      this.bytes(t.start);
      this.int(cpu);
      this.bytes(k.head);
      this.int(ret);
      if (compat === true || compat === false) this.bytes(k.compat(compat));
      else this.text(k.compatText(compat));
    }
    const mid = this.off - from;
    this.args(args, k);
    this.bytes(extras);
    this.byte(10);
    k.rememberRest(this.gen, from, mid, this.off, cpu, ret, compat, args, extras);
  }

  /** Bytes [start, end) written earlier into this buffer, again. */
  private again(start: number, end: number): void {
    const n = end - start;
    if (this.off + n > this.buf.length) this.grow(n);
    this.buf.copyWithin(this.off, start, end);
    this.off += n;
  }

  private args(args: readonly EventArg[], k: KindText): void {
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (i) this.byte(44);
      this.bytes(k.argHead(i, a));
      const v = a.value;
      if (typeof v === 'number') this.int(v);
      else if (typeof v === 'bigint') this.ascii(v.toString()); // exact: no 2^53 rounding for uint64
      else if (typeof v === 'string') this.text(str(v));
      else if (v === null) this.bytes(NULL);
      else this.text(String(v));
      this.byte(125);
    }
  }
}

/**
 * A batch as JSON lines, made once and shared by every output that prints them. Its buffer goes back to the pool once
 * every holder has released it: whoever uses the bytes after the next batch's lines are made must retain() them first.
 */
export class JsonLines {
  private holders = 0;
  /** The bytes were handed back to the pool: jsonLines() makes the lines again for anyone who asks later. */
  recycled = false;

  constructor(
    /** The lines back to back, each ending in '\n'. */
    readonly bytes: Buffer,
    /** Where line i ends in `bytes` (after its '\n'); it starts where line i - 1 ends (line 0 at 0). */
    readonly ends: Uint32Array,
    private readonly whole: Buffer,
  ) {}

  /** Bytes its buffer takes (what a holder keeps in memory): the lines and the room left after them. */
  get held(): number {
    return this.whole.length;
  }

  retain(): void {
    this.holders++;
  }

  release(): void {
    if (--this.holders === 0) this.reclaim();
  }

  /** Hands the buffer back to the pool unless someone holds it (jsonLines() calls this on the previous batch's lines). */
  reclaim(): void {
    if (this.holders > 0 || this.recycled) return;
    this.recycled = true;
    toPool(this.whole);
  }
}

const batchWriter = new LineWriter();
const lineWriter = new LineWriter();
lineWriter.begin(Buffer.allocUnsafeSlow(64 << 10));
const made = new WeakMap<readonly SyscallEvent[], JsonLines>();
let previous: JsonLines | undefined;
let bytesPerEvent = 1024;

/**
 * The batch's JSON lines with Tracee's field names and order. Made on the first call for a batch and kept while the
 * batch lives: every output handed the same array shares one serialisation (so a batch must not change once written).
 */
export function jsonLines(batch: readonly SyscallEvent[]): JsonLines {
  let out = made.get(batch);
  if (out !== undefined && !out.recycled) return out;
  previous?.reclaim(); // not retained by now: no one kept it
  const w = batchWriter;
  w.begin(fromPool(Math.ceil(batch.length * bytesPerEvent * 1.25) + 4096));
  const ends = new Uint32Array(batch.length);
  for (let i = 0; i < batch.length; i++) {
    w.event(batch[i]);
    ends[i] = w.off;
  }
  if (batch.length) bytesPerEvent = w.off / batch.length;
  out = new JsonLines(w.buf.subarray(0, w.off), ends, w.buf);
  w.buf = Buffer.alloc(0); // the lines own it now
  made.set(batch, out);
  return (previous = out);
}

/** Events per part of a long batch (what a tracer read holds at most). */
const PART = 4096;
const parts = new WeakMap<readonly SyscallEvent[], ReadonlyArray<readonly SyscallEvent[]>>();

/**
 * A long batch (the rest of a kernel buffer read at stop) in parts of at most PART events, the same arrays for every
 * output: each serialises a part only when its queue has room for it, and shares it with the others as any batch.
 */
export function batchParts(batch: readonly SyscallEvent[]): ReadonlyArray<readonly SyscallEvent[]> {
  if (batch.length <= PART) return [batch];
  let out = parts.get(batch);
  if (out === undefined) {
    const list: SyscallEvent[][] = [];
    for (let i = 0; i < batch.length; i += PART) list.push(batch.slice(i, i + PART));
    parts.set(batch, (out = list));
  }
  return out;
}

/** One event's JSON line, without the '\n'. */
export function eventToJson(e: SyscallEvent): string {
  const w = lineWriter;
  w.begin(w.buf);
  w.event(e);
  return w.buf.toString('utf8', 0, w.off - 1);
}
