import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { ContainerNames, DEFAULT_SOCKETS, runtimeSockets, SOCKETS_ENV, type RuntimeSockets } from '../../src/enrich/runtime-api.js';
import { trace, type SyscallEvent } from '../../src/trace.js';

const ID = (n: number) => n.toString(16).padStart(2, '0').repeat(32);
const NO_SOCKETS: RuntimeSockets = { docker: [], podman: [], crio: [], containerd: [] };
const dir = mkdtempSync(join(tmpdir(), 'wp-names-'));

/** Times one get(): the caller's whole cost, in ms. */
function timedGet(names: ContainerNames, id: string, runtime: Parameters<ContainerNames['get']>[1]) {
  const t0 = performance.now();
  const got = names.get(id, runtime);
  return { got, ms: performance.now() - t0 };
}

/** A local HTTP server on a unix socket that counts requests and answers through `reply` (synthetic: no runtime). */
async function fakeRuntime(name: string, reply: (path: string) => { status: number; body?: unknown; delayMs?: number }) {
  const socketPath = join(dir, `${name}.sock`);
  const paths: string[] = [];
  const server: Server = createServer((req, res) => {
    paths.push(req.url ?? '');
    const r = reply(req.url ?? '');
    const send = () => {
      if (res.destroyed) return;
      res.writeHead(r.status, { 'content-type': 'application/json' });
      res.end(r.body === undefined ? '' : JSON.stringify(r.body));
    };
    if (r.delayMs) setTimeout(send, r.delayMs).unref();
    else send();
  });
  server.listen(socketPath);
  await once(server, 'listening');
  return { socketPath, paths, close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

after(() => rmSync(dir, { recursive: true, force: true }));

describe('runtime sockets', () => {
  it('uses the runtimes\' usual socket paths when nothing overrides them', () => {
    assert.deepEqual(runtimeSockets(undefined), {
      docker: ['/var/run/docker.sock', '/run/docker.sock'],
      podman: ['/run/podman/podman.sock'],
      crio: ['/var/run/crio/crio.sock'],
      containerd: ['/run/containerd/containerd.sock', '/run/k3s/containerd/containerd.sock'],
    });
  });

  it(`replaces the paths of each runtime named in ${SOCKETS_ENV}, keeps the others, and takes "kind=" as none`, () => {
    assert.deepEqual(runtimeSockets('podman=/tmp/a.sock, podman=/tmp/b.sock,docker='), {
      docker: [],
      podman: ['/tmp/a.sock', '/tmp/b.sock'],
      crio: DEFAULT_SOCKETS.crio,
      containerd: DEFAULT_SOCKETS.containerd,
    });
  });

  const bad: Array<[string, RegExp]> = [
    ['lxc=/var/lib/lxc/sock', /names no runtime we can ask; use docker=PATH, podman=PATH, crio=PATH, containerd=PATH, comma-separated/],
    ['docker', /"docker" needs an absolute socket path, as in docker=\/var\/run\/docker.sock \(or docker= for none\)/],
    ['crio=crio.sock', /"crio=crio.sock" needs an absolute socket path/],
  ];
  for (const [text, message] of bad) {
    it(`rejects ${SOCKETS_ENV}="${text}" with a one-line usage error that says the fix`, () => {
      assert.throws(() => runtimeSockets(text), (e: Error) => e.name === 'UsageError' && message.test(e.message) && !e.message.includes('\n'));
    });
  }
});

describe('ContainerNames when no runtime answers', () => {
  it('says undefined at once, throws nothing and logs nothing when no socket exists', async () => {
    const missing = join(dir, 'absent.sock');
    const names = new ContainerNames({ sockets: { docker: [missing], podman: [missing], crio: [missing], containerd: [missing] } });
    const written: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string) => written.push(String(chunk)) > 0) as typeof process.stderr.write;
    try {
      for (const runtime of ['docker', 'podman', 'crio', 'unknown', 'containerd', 'lxc'] as const) {
        const { got, ms } = timedGet(names, ID(1), runtime);
        assert.equal(got, undefined);
        assert.ok(ms < 1, `get() took ${ms.toFixed(3)} ms`);
      }
      await names.idle();
      assert.equal(names.get(ID(1), 'docker'), undefined);
      assert.equal(names.get(ID(2), 'crio'), undefined);
      await names.idle();
    } finally {
      process.stderr.write = write;
    }
    assert.deepEqual(written, []);
  });

  it('does not wait for a runtime that answers slowly, asks it once per container, then leaves it alone for a while', async () => {
    const slow = await fakeRuntime('slow', () => ({ status: 200, body: { Id: ID(3), Name: '/late' }, delayMs: 3000 }));
    try {
      const names = new ContainerNames({ sockets: { ...NO_SOCKETS, docker: [slow.socketPath] }, timeoutMs: 200 });
      const first = timedGet(names, ID(3), 'docker');
      assert.equal(first.got, undefined);
      assert.ok(first.ms < 1, `the get() that starts the request took ${first.ms.toFixed(3)} ms`);
      // 1000 more while the server sits on the request: together far below its 200 ms timeout, so none of them waited
      let total = 0;
      for (let i = 0; i < 1000; i++) {
        const { got, ms } = timedGet(names, ID(3), 'docker');
        assert.equal(got, undefined);
        total += ms;
      }
      assert.ok(total < 50, `1000 get() calls took ${total.toFixed(1)} ms`);
      const t0 = performance.now();
      await names.idle();
      const waited = performance.now() - t0;
      assert.ok(waited < 1000, `the request was given up after ${waited.toFixed(0)} ms, not at its 200 ms timeout`);
      assert.equal(names.get(ID(3), 'docker'), undefined);
      assert.equal(names.get(ID(4), 'docker'), undefined); // the socket timed out: skipped until retryAfterMs
      await names.idle();
      assert.deepEqual(slow.paths, [`/containers/${ID(3)}/json`]);
    } finally {
      await slow.close();
    }
  });

  it('remembers "unknown to the runtime" for a while, and forgets the oldest container past its bound', async () => {
    const none = await fakeRuntime('none', () => ({ status: 404, body: { message: 'no such container' } }));
    try {
      const names = new ContainerNames({ sockets: { ...NO_SOCKETS, docker: [none.socketPath] }, maxEntries: 2 });
      for (const n of [5, 5, 6]) {
        names.get(ID(n), 'docker');
        await names.idle();
      }
      assert.equal(none.paths.length, 2);
      names.get(ID(7), 'docker'); // evicts ID(5)
      await names.idle();
      names.get(ID(5), 'docker');
      await names.idle();
      assert.deepEqual(none.paths.map((p) => p.slice(12, 14)), ['05', '06', '07', '05']);
    } finally {
      await none.close();
    }
  });
});

describe('ContainerNames reading CRI-O (synthetic server: a body shaped like CRI-O\'s ContainerInfo type, not captured from a real CRI-O)', () => {
  it('takes the container name from its Kubernetes label, the image and image_ref, the pod, and the sandbox type', async () => {
    const labels = {
      'io.kubernetes.container.name': 'web',
      'io.kubernetes.pod.name': 'web-7d9f',
      'io.kubernetes.pod.namespace': 'shop',
      'io.kubernetes.pod.uid': '7d3c1e0a-52b4-4c9f-a8e6-0f1b2c3d4e5f',
    };
    const crio = await fakeRuntime('crio', (path) =>
      path === `/containers/${ID(8)}`
        ? { status: 200, body: { name: 'k8s_web_web-7d9f_shop_7d3c1e0a_0', pid: 42, image: 'docker.io/library/nginx:1.27', image_ref: 'docker.io/library/nginx@sha256:' + 'ab'.repeat(32), labels, annotations: {}, sandbox: ID(9) } }
        : { status: 200, body: { name: 'k8s_POD_web-7d9f_shop_7d3c1e0a_0', image: 'registry.k8s.io/pause:3.9', image_ref: '', labels: { ...labels, 'io.kubernetes.container.name': 'POD' }, annotations: { 'io.kubernetes.cri-o.ContainerType': 'sandbox' } } },
    );
    try {
      const names = new ContainerNames({ sockets: { ...NO_SOCKETS, crio: [crio.socketPath] } });
      names.get(ID(8), 'crio');
      names.get(ID(9), 'crio');
      await names.idle();
      assert.deepEqual(names.get(ID(8), 'crio'), {
        container: { name: 'web', image: 'docker.io/library/nginx:1.27', imageDigest: 'docker.io/library/nginx@sha256:' + 'ab'.repeat(32) },
        kubernetes: { podName: 'web-7d9f', podNamespace: 'shop', podUID: labels['io.kubernetes.pod.uid'], podSandbox: false },
      });
      assert.equal(names.get(ID(9), 'crio')?.kubernetes.podSandbox, true);
    } finally {
      await crio.close();
    }
  });
});

// ---- Real runtimes (Debian's podman and containerd, installed by scripts/test-setup.sh), each with private state.

const has = (...commands: string[]) => {
  try {
    for (const c of commands) execFileSync(c, ['--version'], { stdio: 'ignore' });
    return process.getuid?.() === 0;
  } catch {
    return false;
  }
};

const IMAGE = `localhost/wp-names-${process.pid}:1`;
const POD_LABELS = { 'io.kubernetes.pod.name': 'web-7d9f', 'io.kubernetes.pod.namespace': 'shop', 'io.kubernetes.pod.uid': '7d3c1e0a-52b4-4c9f-a8e6-0f1b2c3d4e5f', 'io.kubernetes.container.name': 'web' };
const POD_INFO = { podName: 'web-7d9f', podNamespace: 'shop', podUID: '7d3c1e0a-52b4-4c9f-a8e6-0f1b2c3d4e5f', podSandbox: false };
const NO_POD = { podName: '', podNamespace: '', podUID: '', podSandbox: false };

let payload: string | undefined;
/** An image root without a registry: one static binary that sleeps, or with "ioperm" calls ioperm every 50 ms. */
function payloadRootfs(): string {
  if (payload) return payload;
  const rootfs = join(dir, 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  writeFileSync(
    join(dir, 'payload.c'),
    '#include <string.h>\n#include <sys/io.h>\n#include <unistd.h>\n' +
      'int main(int argc, char **argv) {\n' +
      '  if (argc < 2 || strcmp(argv[1], "ioperm")) { sleep(300); return 0; }\n' +
      '  for (int i = 0; i < 6000; i++) { ioperm(0x80, 1, 0); usleep(50000); }\n' +
      '  return 0;\n}\n',
  );
  execFileSync('gcc', ['-static', '-O1', '-o', join(rootfs, 'bin/payload'), join(dir, 'payload.c')]);
  payload = rootfs;
  return rootfs;
}

/** Removes a cgroup directory tree in every v1 and v2 hierarchy, deepest first. */
function removeCgroup(parent: string): void {
  for (const hierarchy of readdirSync('/sys/fs/cgroup')) {
    const top = join('/sys/fs/cgroup', hierarchy, parent);
    if (!existsSync(top)) continue;
    const dirs: string[] = [];
    const walk = (d: string) => {
      dirs.push(d);
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
    };
    walk(top);
    for (const d of dirs.reverse()) {
      try {
        rmdirSync(d);
      } catch {
        // still populated: the leftover checks say so
      }
    }
  }
}

/** Waits until no process's command line mentions `path`: what a runtime left running after its containers went. */
async function processesGone(path: string): Promise<void> {
  const mentioning = () =>
    readdirSync('/proc').filter((pid) => {
      try {
        return /^\d+$/.test(pid) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(path);
      } catch {
        return false;
      }
    });
  for (let i = 0; i < 100 && mentioning().length; i++) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(mentioning(), [], `processes still running with ${path}`);
}

/** Removes directories a runtime made outside its private state (deepest first), only those that did not exist before. */
function removeIfMade(dirs: Array<[string, boolean]>): void {
  for (const [d, existed] of dirs) {
    try {
      if (!existed) rmdirSync(d); // not recursive: anything inside is someone else's
    } catch {
      // absent, or not ours to empty
    }
  }
}

const mountsUnder = (path: string) => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(path));

/** ioperm events of one process for 1.5 s, traced with WATCHPOST_RUNTIME_SOCKETS set as given (trace() reads it). */
async function traceIoperm(backend: 'tracefs' | 'ebpf', pid: number, sockets: string): Promise<SyscallEvent[]> {
  const saved = process.env[SOCKETS_ENV];
  process.env[SOCKETS_ENV] = sockets;
  const got: SyscallEvent[] = [];
  try {
    const t = trace({ backend, events: ['ioperm'], pids: [pid] });
    await t.ready;
    const timer = setTimeout(() => void t.stop(), 1500);
    for await (const ev of t) got.push(ev);
    clearTimeout(timer);
  } finally {
    if (saved === undefined) delete process.env[SOCKETS_ENV];
    else process.env[SOCKETS_ENV] = saved;
  }
  return got;
}

/** Every event has the container from its cgroup; the first has no names yet (nothing waited); later ones have them. */
function assertNamedLater(got: SyscallEvent[], pid: number, id: string, runtime: string, named: { container: object; kubernetes: object }) {
  assert.ok(got.length >= 5, `only ${got.length} ioperm events in 1.5 s`);
  for (const ev of got) {
    assert.equal(ev.hostProcessId, pid);
    assert.equal(ev.containerId, id);
    assert.equal(ev.containerRuntime, runtime);
  }
  assert.equal(got[0].container.name, '', 'the first event waited for the API');
  const last = got.at(-1)!;
  assert.deepEqual({ container: last.container, kubernetes: last.kubernetes }, named);
}

/** GET on a local HTTP API, to wait for it and to learn the truth independently of the module under test. */
function apiGet(socketPath: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('ContainerNames against a real podman (Docker-compatible API of `podman system service`)', { skip: !has('podman', 'runc') && 'needs root, podman and runc (scripts/test-setup.sh installs them)' }, () => {
  const CG_PARENT = `/wp-names-${process.pid}`;
  const pod = join(dir, 'podman');
  // runc, not crun: crun refuses hybrid cgroups while cgroup2 has a controller enabled (hugetlb here).
  const GLOBAL = ['--root', join(pod, 'root'), '--runroot', join(pod, 'run'), '--tmpdir', join(pod, 'tmp'), '--storage-driver=vfs', '--cgroup-manager=cgroupfs', '--events-backend=file', '--runtime', 'runc', '--runtime-flag', `root=${join(pod, 'runc')}`];
  const podman = (...args: string[]) => execFileSync('podman', [...GLOBAL, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  // The ulimits: podman's defaults (nofile/nproc 1048576) need CAP_SYS_RESOURCE, which this VM's root lacks.
  const runArgs = (name: string, labels: Record<string, string>) => [
    'run', '-d', '--network=none', `--cgroup-parent=${CG_PARENT}`, '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024',
    '--name', name, ...Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
  ];
  let service: ChildProcess | undefined;
  const apiSocket = join(pod, 'api.sock');
  const ids: Record<string, string> = {};
  let imageId = '';
  // Made whatever the flags say: containers/image's blob-info cache, and runc's default root, used by the
  // `podman container cleanup` that conmon runs when a container ends (it does not pass --runtime-flag on).
  const outside: Array<[string, boolean]> = ['/var/lib/containers/cache', '/var/lib/containers', '/run/runc'].map((d) => [d, existsSync(d)]);

  before(async () => {
    mkdirSync(pod, { recursive: true });
    execFileSync('tar', ['-C', payloadRootfs(), '-cf', join(pod, 'rootfs.tar'), '.']);
    imageId = podman('import', '-q', join(pod, 'rootfs.tar'), IMAGE).split('\n').pop()!.replace(/^sha256:/, '');
    ids.plain = podman(...runArgs(`wp-plain-${process.pid}`, {}), IMAGE, '/bin/payload');
    ids.pod = podman(...runArgs(`wp-pod-${process.pid}`, POD_LABELS), IMAGE, '/bin/payload');
    // Podman's default seccomp profile denies ioperm, and a call seccomp denies never reaches the syscall tracepoints.
    ids.caller = podman(...runArgs(`wp-ioperm-${process.pid}`, {}), '--security-opt', 'seccomp=unconfined', IMAGE, '/bin/payload', 'ioperm');
    service = spawn('podman', [...GLOBAL, 'system', 'service', '--time=0', `unix://${apiSocket}`], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      if (existsSync(apiSocket) && (await apiGet(apiSocket, '/_ping').catch(() => undefined))?.status === 200) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`podman system service did not answer on ${apiSocket} within 10 s`);
  });

  after(async () => {
    if (service && service.exitCode === null) {
      const exited = once(service, 'exit');
      service.kill('SIGTERM');
      await exited;
    }
    for (const id of Object.values(ids)) podman('rm', '-f', '-t', '0', id);
    if (imageId) podman('rmi', '-f', imageId);
    try {
      await processesGone(pod);
    } finally {
      removeCgroup(CG_PARENT);
      for (const f of existsSync('/var/lib/containers/cache') && !outside[0][1] ? readdirSync('/var/lib/containers/cache') : []) {
        rmSync(join('/var/lib/containers/cache', f)); // blob-info-cache-v1.boltdb
      }
      removeIfMade(outside);
    }
    assert.deepEqual(mountsUnder(pod), [], 'podman left mounts behind');
  });

  it('names a running container and its image, as the API reports them', async () => {
    const truth = JSON.parse((await apiGet(apiSocket, `/containers/${ids.plain}/json`)).body) as { Name: string; Image: string; Config: { Image: string } };
    const names = new ContainerNames({ sockets: { ...NO_SOCKETS, podman: [apiSocket] } });
    const { got, ms } = timedGet(names, ids.plain, 'podman');
    assert.equal(got, undefined);
    assert.ok(ms < 1, `first get() took ${ms.toFixed(3)} ms`);
    await names.idle();
    assert.deepEqual(names.get(ids.plain, 'podman'), {
      container: { name: `wp-plain-${process.pid}`, image: IMAGE, imageDigest: truth.Image },
      kubernetes: NO_POD,
    });
    assert.equal(truth.Name, `/wp-plain-${process.pid}`);
    assert.equal(truth.Image, `sha256:${imageId}`);
  });

  it('reads the pod name, namespace and uid, and the container name, from the io.kubernetes labels', async () => {
    const names = new ContainerNames({ sockets: { ...NO_SOCKETS, docker: [apiSocket] } });
    names.get(ids.pod, 'unknown');
    await names.idle();
    assert.deepEqual(names.get(ids.pod, 'unknown'), { container: { name: 'web', image: IMAGE, imageDigest: `sha256:${imageId}` }, kubernetes: POD_INFO });
  });

  it('says undefined for an id the runtime does not know', async () => {
    const names = new ContainerNames({ sockets: { ...NO_SOCKETS, podman: [apiSocket] } });
    names.get(ID(0xee), 'podman');
    await names.idle();
    assert.equal(names.get(ID(0xee), 'podman'), undefined);
    assert.equal((await apiGet(apiSocket, `/containers/${ID(0xee)}/json`)).status, 404);
  });

  for (const backend of ['tracefs', 'ebpf'] as const) {
    it(`traces ioperm from inside the container (${backend}): containerId at once, its name and image once the API answered`, async () => {
      const pid = Number(podman('inspect', '-f', '{{.State.Pid}}', ids.caller));
      const got = await traceIoperm(backend, pid, `podman=${apiSocket},docker=,crio=,containerd=`);
      assertNamedLater(got, pid, ids.caller, 'podman', {
        container: { id: ids.caller, name: `wp-ioperm-${process.pid}`, image: IMAGE, imageDigest: `sha256:${imageId}` },
        kubernetes: NO_POD,
      });
    });
  }
});

/** An OCI image layout archive of the payload (no registry, no other tool): its file and its manifest digest. */
function ociArchive(at: string, name: string): { file: string; digest: string } {
  const blobs = join(at, 'oci', 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const blob = (data: Buffer) => {
    const hex = createHash('sha256').update(data).digest('hex');
    writeFileSync(join(blobs, hex), data);
    return { digest: `sha256:${hex}`, size: data.length };
  };
  execFileSync('tar', ['-C', payloadRootfs(), '-cf', join(at, 'layer.tar'), '.']);
  const layer = blob(readFileSync(join(at, 'layer.tar')));
  const config = blob(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [layer.digest] } })));
  const manifest = blob(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
      }),
    ),
  );
  const index = { schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'io.containerd.image.name': name } }] };
  writeFileSync(join(at, 'oci', 'index.json'), JSON.stringify(index));
  writeFileSync(join(at, 'oci', 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  execFileSync('tar', ['-C', join(at, 'oci'), '-cf', join(at, 'image.tar'), '.']);
  return { file: join(at, 'image.tar'), digest: manifest.digest };
}

describe('ContainerNames against a real containerd (its gRPC API, over HTTP/2)', { skip: !has('containerd', 'ctr', 'runc') && 'needs root, containerd and runc (scripts/test-setup.sh installs them)' }, () => {
  const CG_PARENT = `/wp-names-ctd-${process.pid}`;
  const home = join(dir, 'containerd');
  const socket = join(home, 'containerd.sock');
  // containerd 1.6 puts its shims' sockets under /run/containerd/s whatever its state dir
  const outside: Array<[string, boolean]> = ['/run/containerd/s', '/run/containerd/fifo', '/run/containerd'].map((d) => [d, existsSync(d)]);
  let daemon: ChildProcess | undefined;
  let digest = '';
  const made: Array<{ ns: string; id: string }> = [];
  const ctr = (ns: string, ...args: string[]) => execFileSync('ctr', ['-a', socket, '-n', ns, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  const run = (ns: string, id: string, cgroup: string, labels: Record<string, string>, ...command: string[]) => {
    ctr(ns, 'run', '-d', '--snapshotter', 'native', '--runc-root', join(home, 'runc'), '--fifo-dir', join(home, 'fifo'), '--cgroup', cgroup, ...Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]), IMAGE, id, ...command);
    made.push({ ns, id });
  };
  const pidOf = (ns: string, id: string) => Number(/^\S+\s+(\d+)/m.exec(ctr(ns, 'task', 'ls').split('\n').find((l) => l.startsWith(id)) ?? '')?.[1]);
  const ids = { web: ID(0xa1), sandbox: ID(0xa2), nerdctl: ID(0xa3) };
  const podPath = `${CG_PARENT}/kubepods/besteffort/pod${POD_INFO.podUID}`;

  before(async () => {
    mkdirSync(home, { recursive: true });
    writeFileSync(
      join(home, 'config.toml'),
      [
        'version = 2',
        `root = "${join(home, 'root')}"`,
        `state = "${join(home, 'state')}"`,
        'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
        `[grpc]\n  address = "${socket}"`,
        `[ttrpc]\n  address = "${socket}.ttrpc"`,
      ].join('\n'),
    );
    daemon = spawn('containerd', ['--config', join(home, 'config.toml')], { stdio: 'ignore' });
    for (let i = 0; ; i++) {
      try {
        ctr('default', 'version');
        break;
      } catch (e) {
        if (i === 100) throw new Error(`containerd did not answer on ${socket} within 10 s: ${String(e)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const archive = ociArchive(home, IMAGE);
    digest = archive.digest;
    for (const ns of ['k8s.io', 'default']) ctr(ns, 'images', 'import', '--snapshotter', 'native', archive.file);
    // Shaped as the CRI plugin makes them: a cgroupfs kubepods path, the pod's labels on the container.
    run('k8s.io', ids.web, `${podPath}/${ids.web}`, { ...POD_LABELS, 'io.cri-containerd.kind': 'container' }, '/bin/payload', 'ioperm');
    run('k8s.io', ids.sandbox, `${podPath}/${ids.sandbox}`, { ...POD_LABELS, 'io.kubernetes.container.name': 'POD', 'io.cri-containerd.kind': 'sandbox' }, '/bin/payload');
    run('default', ids.nerdctl, `${CG_PARENT}/${ids.nerdctl}`, { 'nerdctl/name': 'cache' }, '/bin/payload');
  });

  after(async () => {
    for (const { ns, id } of made) {
      try {
        ctr(ns, 'task', 'kill', '-s', 'SIGKILL', id);
      } catch {
        // not running
      }
      for (let i = 0; i < 50; i++) {
        try {
          ctr(ns, 'task', 'delete', id);
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      ctr(ns, 'containers', 'delete', id);
    }
    if (daemon) for (const ns of ['k8s.io', 'default']) ctr(ns, 'images', 'rm', IMAGE);
    if (daemon && daemon.exitCode === null) {
      const exited = once(daemon, 'exit');
      daemon.kill('SIGTERM');
      await exited;
    }
    try {
      await processesGone(home);
    } finally {
      removeCgroup(CG_PARENT);
      removeIfMade(outside);
    }
    assert.deepEqual(mountsUnder(home), [], 'containerd left mounts behind');
  });

  it('names a Kubernetes container from its labels and its image digest from the image store', async () => {
    const names = new ContainerNames({ sockets: { ...NO_SOCKETS, containerd: [socket] } });
    const { got, ms } = timedGet(names, ids.web, 'containerd');
    assert.equal(got, undefined);
    assert.ok(ms < 1, `first get() took ${ms.toFixed(3)} ms`);
    await names.idle();
    assert.deepEqual(names.get(ids.web, 'containerd'), { container: { name: 'web', image: IMAGE, imageDigest: digest }, kubernetes: POD_INFO });
  });

  it('says podSandbox for the pod\'s sandbox container, and finds a container in another namespace (nerdctl\'s name label)', async () => {
    const names = new ContainerNames({ sockets: { ...NO_SOCKETS, containerd: [socket] } });
    names.get(ids.sandbox, 'containerd');
    names.get(ids.nerdctl, 'unknown');
    names.get(ID(0xee), 'containerd');
    await names.idle();
    assert.deepEqual(names.get(ids.sandbox, 'containerd'), { container: { name: 'POD', image: IMAGE, imageDigest: digest }, kubernetes: { ...POD_INFO, podSandbox: true } });
    assert.deepEqual(names.get(ids.nerdctl, 'unknown'), { container: { name: 'cache', image: IMAGE, imageDigest: digest }, kubernetes: NO_POD });
    assert.equal(names.get(ID(0xee), 'containerd'), undefined);
  });

  for (const backend of ['tracefs', 'ebpf'] as const) {
    it(`traces ioperm from inside a kubepods container (${backend}): id, pod UID at once; names once containerd answered`, async () => {
      const pid = pidOf('k8s.io', ids.web);
      const got = await traceIoperm(backend, pid, `containerd=${socket},docker=,podman=,crio=`);
      for (const ev of got) assert.equal(ev.kubernetes.podUID, POD_INFO.podUID);
      assertNamedLater(got, pid, ids.web, 'containerd', { container: { id: ids.web, name: 'web', image: IMAGE, imageDigest: digest }, kubernetes: POD_INFO });
    });
  }
});
