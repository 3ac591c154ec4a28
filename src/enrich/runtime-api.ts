import { request } from 'node:http';
import type { ContainerInfo, KubernetesInfo } from '../model/event.js';
import { UsageError } from '../model/errors.js';
import type { ContainerRuntime } from './container.js';

/**
 * Container and pod names from the runtimes' local HTTP APIs over their unix sockets:
 * - the Docker Engine API (`GET /containers/{id}/json`), also served by `podman system service`;
 * - CRI-O's inspect endpoint (`GET /containers/{id}`).
 * containerd speaks only gRPC; its containers get names here only when a docker-compatible or CRI-O socket knows them.
 */

/** What a runtime's API says of a container, shaped like the event's fields (empty strings when it does not say). */
export interface Names {
  container: Omit<ContainerInfo, 'id'>;
  kubernetes: KubernetesInfo;
}

/** The API families we can ask, each with the sockets to try in order. */
export interface RuntimeSockets {
  docker: string[];
  podman: string[];
  crio: string[];
}

export const DEFAULT_SOCKETS: Readonly<RuntimeSockets> = Object.freeze({
  docker: ['/var/run/docker.sock', '/run/docker.sock'],
  podman: ['/run/podman/podman.sock'],
  crio: ['/var/run/crio/crio.sock'],
});

export const SOCKETS_ENV = 'WATCHPOST_RUNTIME_SOCKETS';

/**
 * The sockets to use: the defaults, with each runtime named in `text` (WATCHPOST_RUNTIME_SOCKETS) replaced by the
 * paths given for it. Format: comma-separated `runtime=path`; repeat a runtime for several paths, `runtime=` for none.
 */
export function runtimeSockets(text: string | undefined): RuntimeSockets {
  const out: RuntimeSockets = { docker: [...DEFAULT_SOCKETS.docker], podman: [...DEFAULT_SOCKETS.podman], crio: [...DEFAULT_SOCKETS.crio] };
  if (!text?.trim()) return out;
  const seen = new Set<keyof RuntimeSockets>();
  for (const item of text.split(',')) {
    const entry = item.trim();
    if (!entry) continue;
    const eq = entry.indexOf('=');
    const kind = entry.slice(0, eq < 0 ? entry.length : eq).trim();
    const path = eq < 0 ? undefined : entry.slice(eq + 1).trim();
    if (kind !== 'docker' && kind !== 'podman' && kind !== 'crio') {
      throw new UsageError(`${SOCKETS_ENV}: "${entry}" names no runtime we can ask; use docker=PATH, podman=PATH or crio=PATH, comma-separated`);
    }
    if (path === undefined || (path !== '' && !path.startsWith('/'))) {
      throw new UsageError(`${SOCKETS_ENV}: "${entry}" needs an absolute socket path, as in ${kind}=/run/${kind}.sock (or ${kind}= for none)`);
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
  /** How long one request may take before it is given up (ms). */
  timeoutMs?: number;
  /** How long a container nobody knew, or a socket that did not answer, is left alone before asking again (ms). */
  retryAfterMs?: number;
  /** Containers remembered at most; the oldest is forgotten first. */
  maxEntries?: number;
}

type Api = 'docker' | 'crio';
type Reply = { status: number; body: unknown } | undefined;

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
    const job = this.ask(id, targets)
      .then((names) => this.remember(id, names ?? Date.now() + this.retryAfterMs))
      .finally(() => this.inFlight.delete(job));
    this.inFlight.add(job);
  }

  /** The APIs that may know a container of this runtime, in the order to ask them. */
  private targets(runtime: ContainerRuntime): [Api, string][] {
    const { docker, podman, crio } = this.sockets;
    const api = (kind: Api, paths: string[]) => paths.map((p): [Api, string] => [kind, p]);
    switch (runtime) {
      case 'docker':
        return api('docker', docker);
      case 'podman': // podman-docker links /run/docker.sock to podman's socket
        return [...api('docker', podman), ...api('docker', docker)];
      case 'crio':
        return api('crio', crio);
      case 'unknown':
        return [...api('docker', docker), ...api('docker', podman), ...api('crio', crio)];
      default: // containerd (gRPC only), systemd-nspawn, LXC: no HTTP API to ask
        return [];
    }
  }

  private async ask(id: string, targets: [Api, string][]): Promise<Names | undefined> {
    for (const [kind, socketPath] of targets) {
      const reply = await getJson(socketPath, kind === 'docker' ? `/containers/${encodeURIComponent(id)}/json` : `/containers/${encodeURIComponent(id)}`, this.timeoutMs);
      if (!reply) {
        this.downUntil.set(socketPath, Date.now() + this.retryAfterMs);
        continue;
      }
      if (reply.status !== 200) continue; // 404: not this runtime's container
      const names = kind === 'docker' ? fromDocker(reply.body) : fromCrio(reply.body);
      if (names) return names;
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

/** One GET over a unix socket; undefined when nothing listens, the connection fails, or no full answer comes in time. */
function getJson(socketPath: string, path: string, timeoutMs: number): Promise<Reply> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path, method: 'GET', headers: { host: 'localhost', accept: 'application/json' }, agent: false });
    const timer = setTimeout(() => req.destroy(), timeoutMs);
    const done = (reply: Reply) => {
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

function kubernetes(labels: Json, sandbox: boolean): KubernetesInfo {
  return {
    podName: text(labels['io.kubernetes.pod.name']),
    podNamespace: text(labels['io.kubernetes.pod.namespace']),
    podUID: text(labels['io.kubernetes.pod.uid']),
    podSandbox: sandbox,
  };
}

/** Docker Engine API container inspect; Kubernetes (dockershim, cri-dockerd) containers are named by their label. */
function fromDocker(body: unknown): Names | undefined {
  const j = object(body);
  if (typeof j.Id !== 'string') return undefined;
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
function fromCrio(body: unknown): Names | undefined {
  const j = object(body);
  if (typeof j.name !== 'string' && typeof j.image !== 'string') return undefined;
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
