import type { ClientHttp2Session } from 'node:http2';
import type { ContainerInfo, KubernetesInfo } from '../model/event.js';
import { UsageError } from '../model/errors.js';
import type { ContainerRuntime } from './container.js';

/**
 * Container and pod names from the runtimes' local APIs over their unix sockets:
 * - the Docker Engine API (`GET /containers/{id}/json`), also served by `podman system service`;
 * - CRI-O's inspect endpoint (`GET /containers/{id}`);
 * - containerd's gRPC Containers and Images services (HTTP/2 from node:http2, the few protobuf fields read by hand:
 *   a gRPC library would cost start-up time for three calls).
 */

/** What a runtime's API says of a container, shaped like the event's fields (empty strings when it does not say). */
export interface Names {
  container: Omit<ContainerInfo, 'id'>;
  kubernetes: KubernetesInfo;
}

/** The runtimes we can ask, each with the sockets to try in order. */
export interface RuntimeSockets {
  docker: string[];
  podman: string[];
  crio: string[];
  containerd: string[];
}

export const DEFAULT_SOCKETS: Readonly<RuntimeSockets> = Object.freeze({
  docker: ['/var/run/docker.sock', '/run/docker.sock'],
  podman: ['/run/podman/podman.sock'],
  crio: ['/var/run/crio/crio.sock'],
  containerd: ['/run/containerd/containerd.sock', '/run/k3s/containerd/containerd.sock'],
});

export const SOCKETS_ENV = 'WATCHPOST_RUNTIME_SOCKETS';
const KINDS = Object.keys(DEFAULT_SOCKETS) as (keyof RuntimeSockets)[];

/**
 * The sockets to use: the defaults, with each runtime named in `text` (WATCHPOST_RUNTIME_SOCKETS) replaced by the
 * paths given for it. Format: comma-separated `runtime=path`; repeat a runtime for several paths, `runtime=` for none.
 */
export function runtimeSockets(text: string | undefined): RuntimeSockets {
  const { docker, podman, crio, containerd } = DEFAULT_SOCKETS;
  const out: RuntimeSockets = { docker: [...docker], podman: [...podman], crio: [...crio], containerd: [...containerd] };
  if (!text?.trim()) return out;
  const seen = new Set<keyof RuntimeSockets>();
  for (const item of text.split(',')) {
    const entry = item.trim();
    if (!entry) continue;
    const eq = entry.indexOf('=');
    const kind = entry.slice(0, eq < 0 ? entry.length : eq).trim() as keyof RuntimeSockets;
    const path = eq < 0 ? undefined : entry.slice(eq + 1).trim();
    if (!KINDS.includes(kind)) {
      throw new UsageError(`${SOCKETS_ENV}: "${entry}" names no runtime we can ask; use ${KINDS.map((k) => `${k}=PATH`).join(', ')}, comma-separated`);
    }
    if (path === undefined || (path !== '' && !path.startsWith('/'))) {
      throw new UsageError(`${SOCKETS_ENV}: "${entry}" needs an absolute socket path, as in ${kind}=${DEFAULT_SOCKETS[kind][0]} (or ${kind}= for none)`);
    }
    if (!seen.has(kind)) out[kind] = [];
    seen.add(kind);
    if (path) out[kind].push(path);
  }
  return out;
}

export interface ContainerNamesOptions {
  /** Sockets per runtime; default: runtimeSockets(process.env.WATCHPOST_RUNTIME_SOCKETS). */
  sockets?: RuntimeSockets;
  /** How long one lookup on one socket may take before it is given up (ms). */
  timeoutMs?: number;
  /** How long a container nobody knew, or a socket that did not answer, is left alone before asking again (ms). */
  retryAfterMs?: number;
  /** Containers remembered at most; the oldest is forgotten first. */
  maxEntries?: number;
}

/** What one socket said of one container. */
type Answer = Names | 'not-found' | 'unreachable';
type Api = 'docker' | 'crio' | 'containerd';
const ASK: Record<Api, (socketPath: string, id: string, timeoutMs: number) => Promise<Answer>> = {
  docker: askDocker,
  crio: askCrio,
  containerd: askContainerd,
};

/** A cache entry: the names, a request under way (PENDING), or nothing known until a time (ms since the epoch). */
type Entry = Names | typeof PENDING | number;
const PENDING = 0 as const;
const MAX_IN_FLIGHT = 8;
const MAX_BODY = 1 << 20;

/**
 * Names of containers, asked of the runtime in the background. get() never waits and never throws: it answers from
 * the cache or says undefined, and starts at most one request per container id; later events carry the names.
 */
export class ContainerNames {
  private readonly sockets: RuntimeSockets;
  private readonly timeoutMs: number;
  private readonly retryAfterMs: number;
  private readonly maxEntries: number;
  private readonly entries = new Map<string, Entry>();
  /** Sockets that did not answer, and until when they are skipped. */
  private readonly downUntil = new Map<string, number>();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(options: ContainerNamesOptions = {}) {
    this.sockets = options.sockets ?? runtimeSockets(process.env[SOCKETS_ENV]);
    this.timeoutMs = options.timeoutMs ?? 500;
    this.retryAfterMs = options.retryAfterMs ?? 30_000;
    this.maxEntries = options.maxEntries ?? 4096;
  }

  // Hot path (once per event): a Map lookup; Date.now() only for containers not (yet) named.
  get(id: string, runtime: ContainerRuntime): Names | undefined {
    const entry = this.entries.get(id);
    if (typeof entry === 'object') return entry;
    if (entry === PENDING) return undefined;
    if (entry !== undefined && Date.now() < entry) return undefined;
    this.start(id, runtime);
    return undefined;
  }

  /** Resolves when no request is under way (for tests and orderly shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size) await Promise.all(this.inFlight);
  }

  private start(id: string, runtime: ContainerRuntime): void {
    const now = Date.now();
    const targets = this.targets(runtime).filter(([, path]) => !((this.downUntil.get(path) ?? 0) > now));
    if (!targets.length) return this.remember(id, now + this.retryAfterMs);
    if (this.inFlight.size >= MAX_IN_FLIGHT) return; // asked again on a later event
    this.remember(id, PENDING);
    // Even opening the connection waits for the next turn of the event loop: the caller pays a Map write, nothing more.
    const job = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.ask(id, targets))
      .then((names) => this.remember(id, names ?? Date.now() + this.retryAfterMs))
      .catch(() => this.remember(id, Date.now() + this.retryAfterMs)) // never an unhandled rejection from the event path
      .finally(() => this.inFlight.delete(job));
    this.inFlight.add(job);
  }

  /** The APIs that may know a container of this runtime, in the order to ask them. */
  private targets(runtime: ContainerRuntime): [Api, string][] {
    const { docker, podman, crio, containerd } = this.sockets;
    const api = (kind: Api, paths: string[]) => paths.map((p): [Api, string] => [kind, p]);
    switch (runtime) {
      case 'docker':
        return api('docker', docker);
      case 'podman': // podman-docker links /run/docker.sock to podman's socket
        return [...api('docker', podman), ...api('docker', docker)];
      case 'crio':
        return api('crio', crio);
      case 'containerd':
        return api('containerd', containerd);
      case 'unknown': // a bare id in a cgroupfs path: any of them
        return [...api('docker', docker), ...api('docker', podman), ...api('crio', crio), ...api('containerd', containerd)];
      default: // systemd-nspawn, LXC: no API to ask
        return [];
    }
  }

  private async ask(id: string, targets: [Api, string][]): Promise<Names | undefined> {
    for (const [kind, socketPath] of targets) {
      const answer = await ASK[kind](socketPath, id, this.timeoutMs);
      if (answer === 'unreachable') this.downUntil.set(socketPath, Date.now() + this.retryAfterMs);
      else if (answer !== 'not-found') return answer;
    }
    return undefined;
  }

  private remember(id: string, entry: Entry): void {
    if (!this.entries.has(id) && this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(id, entry);
  }
}

// ---- Docker Engine API and CRI-O: JSON over HTTP/1.1.

/** One GET over a unix socket; undefined when nothing listens, the connection fails, or no full answer comes in time. */
async function getJson(socketPath: string, path: string, timeoutMs: number): Promise<{ status: number; body: unknown } | undefined> {
  const { request } = await import('node:http'); // loaded when a runtime is first asked, not at start-up
  return new Promise((resolve) => {
    const req = request({ socketPath, path, method: 'GET', headers: { host: 'localhost', accept: 'application/json' }, agent: false });
    const timer = setTimeout(() => req.destroy(), timeoutMs);
    const done = (reply: { status: number; body: unknown } | undefined) => {
      clearTimeout(timer);
      resolve(reply);
    };
    req.on('error', () => done(undefined));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY) req.destroy();
        else chunks.push(chunk);
      });
      res.on('error', () => done(undefined));
      res.on('aborted', () => done(undefined));
      res.on('end', () => {
        if (!res.complete) return done(undefined);
        let body: unknown;
        try {
          body = res.statusCode === 200 ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
        } catch {
          body = undefined;
        }
        done({ status: res.statusCode ?? 0, body });
      });
    });
    req.end();
  });
}

type Json = Record<string, unknown>;
const object = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const text = (v: unknown): string => (typeof v === 'string' ? v : '');

function kubernetes(labels: Readonly<Record<string, unknown>>, sandbox: boolean): KubernetesInfo {
  return {
    podName: text(labels['io.kubernetes.pod.name']),
    podNamespace: text(labels['io.kubernetes.pod.namespace']),
    podUID: text(labels['io.kubernetes.pod.uid']),
    podSandbox: sandbox,
  };
}

/** Docker Engine API container inspect; Kubernetes (dockershim, cri-dockerd) containers are named by their label. */
async function askDocker(socketPath: string, id: string, timeoutMs: number): Promise<Answer> {
  const reply = await getJson(socketPath, `/containers/${encodeURIComponent(id)}/json`, timeoutMs);
  if (!reply) return 'unreachable';
  const j = object(reply.body);
  if (reply.status !== 200 || typeof j.Id !== 'string') return 'not-found';
  const config = object(j.Config);
  const labels = object(config.Labels);
  return {
    container: {
      name: text(labels['io.kubernetes.container.name']) || text(j.Name).replace(/^\//, ''),
      image: text(config.Image),
      imageDigest: text(j.Image),
    },
    kubernetes: kubernetes(labels, labels['io.kubernetes.docker.type'] === 'podsandbox'),
  };
}

/** CRI-O's inspect answer (its ContainerInfo type); the pod's infra container says ContainerType "sandbox". */
async function askCrio(socketPath: string, id: string, timeoutMs: number): Promise<Answer> {
  const reply = await getJson(socketPath, `/containers/${encodeURIComponent(id)}`, timeoutMs);
  if (!reply) return 'unreachable';
  const j = object(reply.body);
  if (reply.status !== 200 || (typeof j.name !== 'string' && typeof j.image !== 'string')) return 'not-found';
  const labels = object(j.labels);
  const type = text(object(j.annotations)['io.kubernetes.cri-o.ContainerType']) || text(object(j.crio_annotations)['io.kubernetes.cri-o.ContainerType']);
  return {
    container: {
      name: text(labels['io.kubernetes.container.name']) || text(j.name),
      image: text(j.image),
      imageDigest: text(j.image_ref),
    },
    kubernetes: kubernetes(labels, type === 'sandbox'),
  };
}

// ---- containerd: gRPC (HTTP/2, length-prefixed protobuf), unary calls only.

/** Protobuf: the length-delimited fields (strings, messages, map entries) of a message, by field number. */
function protoFields(buf: Buffer): Map<number, Buffer[]> {
  const out = new Map<number, Buffer[]>();
  let pos = 0;
  const varint = (): number => {
    let value = 0;
    for (let shift = 0; pos < buf.length; shift += 7) {
      const b = buf[pos++];
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value;
    }
    throw new RangeError('truncated varint');
  };
  while (pos < buf.length) {
    const key = varint();
    const wire = key % 8;
    if (wire === 0) varint();
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const len = varint();
      if (pos + len > buf.length) throw new RangeError('truncated field');
      const field = Math.floor(key / 8);
      out.set(field, [...(out.get(field) ?? []), buf.subarray(pos, pos + len)]);
      pos += len;
    } else throw new RangeError(`wire type ${wire}`);
  }
  return out;
}

const protoString = (fields: Map<number, Buffer[]>, n: number) => fields.get(n)?.[0]?.toString('utf8') ?? '';
const protoMessage = (fields: Map<number, Buffer[]>, n: number) => protoFields(fields.get(n)?.[0] ?? Buffer.alloc(0));

/** A message holding one string as field 1 (GetContainerRequest.id, GetImageRequest.name). */
function stringMessage(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  const len: number[] = [];
  for (let n = bytes.length; ; n >>>= 7) {
    if (n < 0x80) {
      len.push(n);
      break;
    }
    len.push((n & 0x7f) | 0x80);
  }
  return Buffer.concat([Buffer.from([0x0a, ...len]), bytes]);
}

const GRPC_OK = 0;
const GRPC_NOT_FOUND = 5;

/** containerd: the container in each namespace (Kubernetes' k8s.io first), then its image's digest. */
async function askContainerd(socketPath: string, id: string, timeoutMs: number): Promise<Answer> {
  const [{ connect: http2Connect }, { connect: netConnect }] = await Promise.all([import('node:http2'), import('node:net')]); // idem (node:http2 alone takes ~15 ms to load)
  const session = http2Connect('http://localhost', { createConnection: () => netConnect(socketPath) });
  session.on('error', () => {}); // each call below sees the failure as its own
  const timer = setTimeout(() => session.destroy(), timeoutMs);
  try {
    const call = (method: string, message: Buffer, namespace?: string) => grpcCall(session, method, message, namespace);
    const listed = await call('/containerd.services.namespaces.v1.Namespaces/List', Buffer.alloc(0));
    if (!listed) return 'unreachable';
    const listedNames = listed.status === GRPC_OK ? (protoFields(listed.message).get(1) ?? []).map((ns) => protoString(protoFields(ns), 1)) : ['default'];
    const order = ['k8s.io', ...listedNames.filter((n) => n !== 'k8s.io')];
    for (const namespace of order) {
      const got = await call('/containerd.services.containers.v1.Containers/Get', stringMessage(id), namespace);
      if (!got) return 'unreachable';
      if (got.status === GRPC_NOT_FOUND) continue;
      if (got.status !== GRPC_OK) return 'not-found';
      const container = protoMessage(protoFields(got.message), 1);
      const labels: Record<string, string> = {};
      for (const entry of container.get(2) ?? []) {
        const kv = protoFields(entry);
        labels[protoString(kv, 1)] = protoString(kv, 2);
      }
      const image = protoString(container, 3);
      const described = image ? await call('/containerd.services.images.v1.Images/Get', stringMessage(image), namespace) : undefined;
      const target = described?.status === GRPC_OK ? protoMessage(protoMessage(protoFields(described.message), 1), 3) : undefined;
      return {
        container: {
          name: labels['io.kubernetes.container.name'] || labels['nerdctl/name'] || '',
          image,
          imageDigest: target ? protoString(target, 2) : '',
        },
        kubernetes: kubernetes(labels, labels['io.cri-containerd.kind'] === 'sandbox'),
      };
    }
    return 'not-found';
  } catch {
    return 'not-found'; // an answer we could not decode
  } finally {
    clearTimeout(timer);
    session.destroy();
  }
}

/** One unary gRPC call; undefined when the connection failed or the answer did not finish. */
function grpcCall(
  session: ClientHttp2Session,
  method: string,
  message: Buffer,
  namespace: string | undefined,
): Promise<{ status: number; message: Buffer } | undefined> {
  return new Promise((resolve) => {
    if (session.destroyed || session.closed) return resolve(undefined);
    const headers: Record<string, string> = { ':method': 'POST', ':path': method, 'content-type': 'application/grpc', te: 'trailers' };
    if (namespace) headers['containerd-namespace'] = namespace;
    let stream;
    try {
      stream = session.request(headers);
    } catch {
      return resolve(undefined);
    }
    let status: number | undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('response', (h) => {
      if (h['grpc-status'] !== undefined) status = Number(h['grpc-status']); // a trailers-only answer
    });
    stream.on('trailers', (t) => {
      if (t['grpc-status'] !== undefined) status = Number(t['grpc-status']);
    });
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) stream.close();
      else chunks.push(chunk);
    });
    stream.on('error', () => resolve(undefined));
    stream.on('close', () => {
      if (status === undefined) return resolve(undefined);
      const body = Buffer.concat(chunks);
      // one length-prefixed message: 1 byte "compressed" flag (we ask for none), 4 bytes big-endian length
      const length = body.length >= 5 ? body.readUInt32BE(1) : 0;
      resolve({ status, message: body.subarray(5, 5 + length) });
    });
    const frame = Buffer.alloc(5 + message.length);
    frame.writeUInt32BE(message.length, 1);
    message.copy(frame, 5);
    stream.end(frame);
  });
}
