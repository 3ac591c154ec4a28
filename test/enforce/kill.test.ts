import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import koffi from 'koffi';
import { ebpfSupport } from '../../src/probes/ebpf/probe.js';
import { asTraceeEvents } from '../../src/detect/finding-event.js';
import { trace, type StreamItem, type SyscallEvent, type Trace } from '../../src/trace.js';
import { helperCopy, startCaller, type CallerEnd } from './caller.js';
import { NO_32BIT } from '../support/kernel-features.js';

after(() => rmSync(join(tmpdir(), `wp-enforce-${process.pid}`), { recursive: true, force: true })); // the helper copies

/**
 * Kill rules on the real kernel: a matching caller dies by SIGKILL before it prints the line it writes after its
 * call; a dry run, a caller that does not match and the exempt ones live. Rules name a comm of our own (a copy of
 * the helper), so no process but the ones these tests start can match.
 */

const support = ebpfSupport();
const skip = process.getuid?.() !== 0 ? 'needs root to load BPF programs' : support.ok ? false : `needs eBPF: ${support.reason}`;

const K = `wpk${process.pid}`; // the comm the rules name
const killer = helperCopy(`wp-enforce-${process.pid}`, K);
const allowed = helperCopy(`wp-enforce-${process.pid}/allowed`, K); // same comm, another file: allow-listed below
const EVENTS = ['ioperm', 'iopl', 'perf_event_open', 'userfaultfd'];

/** A trace of its own, read in the background until stop(); events of our callers only. */
function background(t: Trace<StreamItem>): { events: () => SyscallEvent[]; done: Promise<void> } {
  const got: SyscallEvent[] = [];
  const done = (async () => {
    for await (const batch of t.batches()) got.push(...asTraceeEvents(batch)); // findings as outputs print them
  })();
  return { events: () => got, done };
}

async function run(commands: string[], options: { exe?: string; wrap?: string[] } = {}): Promise<{ pid: number; end: CallerEnd }> {
  const c = await startCaller(commands, { exe: options.exe ?? killer, wrap: options.wrap });
  try {
    return { pid: c.pid, end: await c.go() };
  } finally {
    c.stop();
  }
}

/** Waits until `check` holds on the events (the drain runs every 5 ms), at most 3 s. */
async function eventually<T>(events: () => SyscallEvent[], pick: (evs: SyscallEvent[]) => T | undefined): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const hit = pick(events());
    if (hit !== undefined) return hit;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('the expected events did not arrive within 3 s');
}

const of = (pid: number) => (evs: SyscallEvent[]) => evs.filter((e) => e.hostProcessId === pid);
const findingOf = (evs: SyscallEvent[]): SyscallEvent | undefined => evs.find((e) => e.eventName === 'enforcement');
const argOf = (ev: SyscallEvent, name: string): unknown => ev.args.find((a) => a.name === name)?.value;

describe('kill rules armed with --enforce (eBPF)', { skip, timeout: 120_000 }, () => {
  let t: Trace<StreamItem>;
  let bg: ReturnType<typeof background>;
  before(async () => {
    t = trace({
      backend: 'ebpf',
      events: EVENTS,
      kill: ['ioperm.data.from=0x64', `ioperm.scope.comm=${K}`, 'ioperm.scope.uid=0', `perf_event_open.scope.comm=${K}`, `userfaultfd.scope.comm=${K}`],
      enforce: true,
      allowHwTools: [allowed],
    });
    await t.ready;
    bg = background(t);
  });
  after(async () => {
    await t?.stop();
    await bg?.done;
  });

  it('kills a caller of ioperm(0x64, 1, 1) before it writes its next line, and reports it', async () => {
    const { pid, end } = await run(['ioperm:0x64:1:1', 'ioperm:0x70:1:1']);
    assert.equal(end.signal, 'SIGKILL');
    assert.deepEqual(end.lines, [], 'the caller printed a line after its call: it ran on in user space');
    const mine = await eventually(bg.events, (evs) => (findingOf(of(pid)(evs)) ? of(pid)(evs) : undefined));
    const call = mine.find((e) => e.eventName === 'ioperm')!;
    assert.equal(Number(argOf(call, 'from')), 0x64);
    assert.ok(call.matchedPolicies?.includes('kill'));
    assert.equal(mine.filter((e) => e.eventName === 'ioperm').length, 1, 'the second call was made');
    const f = findingOf(mine)!;
    assert.equal(argOf(f, 'action'), 'killed');
    assert.equal(argOf(f, 'policy'), 'kill');
    assert.match(String(argOf(f, 'rule')), /^ioperm data\.from=0x64 comm=wpk\d+ uid=0$/);
    assert.equal((f.metadata as { Properties: { signatureID: string } }).Properties.signatureID, 'WP-100');
    assert.ok(t.stats().enforcements!.killed.kill >= 1);
  });

  it('kills a 32-bit (int $0x80) caller of ioperm(0x64, 1, 1) too: switching ABI does not evade a kill rule', { skip: NO_32BIT }, async () => {
    const { pid, end } = await run(['ioperm32:0x64:1:1', 'ioperm:0x70:1:1']);
    assert.equal(end.signal, 'SIGKILL');
    assert.deepEqual(end.lines, [], 'the caller printed a line after its call: it ran on in user space');
    const mine = await eventually(bg.events, (evs) => (findingOf(of(pid)(evs)) ? of(pid)(evs) : undefined));
    const call = mine.find((e) => e.eventName === 'ioperm')!;
    assert.equal(call.contextFlags.isCompat, true);
    assert.equal(argOf(findingOf(mine)!, 'action'), 'killed');
  });

  it('kills callers of perf_event_open and userfaultfd under their rules', async () => {
    for (const cmd of ['perfattr:1:0', 'userfaultfd:0']) {
      const { pid, end } = await run([cmd, cmd]);
      assert.equal(end.signal, 'SIGKILL', cmd);
      assert.deepEqual(end.lines, [], cmd);
      const f = await eventually(bg.events, (evs) => findingOf(of(pid)(evs)));
      assert.equal(argOf(f, 'action'), 'killed');
      assert.equal(f.metadata && (f.metadata as { triggeredBy: { name: string } }).triggeredBy.name, cmd.startsWith('perf') ? 'perf_event_open' : 'userfaultfd');
    }
  });

  it('lets a caller that does not match live and reports it as usual: other args, other uid, other comm', async () => {
    const cases: Array<[string, string[], { exe?: string; wrap?: string[] }]> = [
      ['other port', ['ioperm:0x70:1:1'], {}],
      ['other uid (setpriv)', ['ioperm:0x64:1:1'], { wrap: ['/usr/bin/setpriv', '--reuid', '65534', '--regid', '65534', '--clear-groups'] }],
      ['other comm', ['ioperm:0x64:1:1'], { exe: helperCopy(`wp-enforce-${process.pid}`, `wpo${process.pid}`) }],
    ];
    for (const [what, commands, opts] of cases) {
      const { pid, end } = await run(commands, opts);
      assert.equal(end.signal, null, what);
      assert.equal(end.code, 0, what);
      assert.equal(end.lines.length, 1, what);
      const mine = await eventually(bg.events, (evs) => (of(pid)(evs).some((e) => e.eventName === 'ioperm') ? of(pid)(evs) : undefined));
      assert.equal(findingOf(mine), undefined, `${what}: an enforcement finding for a caller that does not match`);
    }
  });

  it('never kills an allow-listed executable, though its comm, uid and call match', async () => {
    const { pid, end } = await run(['ioperm:0x64:1:1'], { exe: allowed });
    assert.equal(end.signal, null);
    assert.equal(end.lines.length, 1);
    const mine = await eventually(bg.events, (evs) => (of(pid)(evs).some((e) => e.eventName === 'ioperm') ? of(pid)(evs) : undefined));
    assert.equal(findingOf(mine), undefined);
  });

  it('never kills Watchpost itself, though its thread takes the comm and makes the call', () => {
    const libc = koffi.load('libc.so.6');
    const syscall = libc.func('long syscall(long, ...)');
    const prctl = libc.func('int prctl(int, ...)');
    const old = readFileSync('/proc/thread-self/comm', 'utf8').trim();
    prctl(15, 'str', K); // PR_SET_NAME
    try {
      assert.equal(readFileSync('/proc/thread-self/comm', 'utf8').trim(), K);
      syscall(173, 'ulong', 0x64, 'ulong', 1, 'long', 1); // ioperm(0x64, 1, 1): we are still here
    } finally {
      prctl(15, 'str', old);
    }
  });
});

describe('kill rules without --enforce: a dry run (eBPF)', { skip, timeout: 120_000 }, () => {
  it('lets the caller live and reports `would kill`', async () => {
    const t = trace({ backend: 'ebpf', events: EVENTS, kill: ['ioperm.data.from=0x64', `ioperm.scope.comm=${K}`] });
    await t.ready;
    const bg = background(t);
    try {
      const { pid, end } = await run(['ioperm:0x64:1:1', 'ioperm:0x70:1:1']);
      assert.equal(end.signal, null);
      assert.equal(end.lines.length, 2);
      const f = await eventually(bg.events, (evs) => findingOf(of(pid)(evs)));
      assert.equal(argOf(f, 'action'), 'would kill');
      assert.equal(t.stats().enforcements!['would kill'].kill, 1);
      assert.deepEqual(t.stats().enforcements!.killed, {});
    } finally {
      await t.stop();
      await bg.done;
    }
  });
});

describe('kill rules in Policy YAML: container and cgroup scopes (eBPF)', { skip, timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'wp-kill-policy-'));
  const myCgroup = (): number => {
    const path = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'))!.slice(3);
    return Number(statSync(join('/sys/fs/cgroup/unified', path)).ino);
  };
  const policy = (name: string, scope: string[], event: string, filters: string[]): string =>
    `apiVersion: tracee.aquasec.com/v1beta1\nkind: Policy\nmetadata:\n  name: ${name}\nspec:\n  scope:\n${scope.map((s) => `    - ${s}\n`).join('')}  rules:\n    - event: ${event}\n      actions: [kill]\n${filters.length ? `      filters:\n${filters.map((f) => `        - ${f}\n`).join('')}` : ''}`;

  it('kills in a container (another mount namespace than pid 1) and not on the host; by cgroup id only in that cgroup', async () => {
    writeFileSync(join(dir, 'a.yaml'), policy('ports-in-containers', ['container', `comm=${K}`], 'ioperm', []));
    writeFileSync(join(dir, 'b.yaml'), policy('uffd-in-other-cgroup', [`comm=${K}`], 'userfaultfd', ['cgroupId=987654321']));
    writeFileSync(join(dir, 'c.yaml'), policy('perf-in-my-cgroup', [`comm=${K}`], 'perf_event_open', [`cgroupId=${myCgroup()}`]));
    const t = trace({ backend: 'ebpf', policyFiles: [dir], enforce: true });
    await t.ready;
    const bg = background(t);
    try {
      const host = await run(['ioperm:0x64:1:1']);
      assert.equal(host.end.signal, null, 'a host process was killed by a container rule');
      const inNs = await run(['ioperm:0x64:1:1'], { wrap: ['/usr/bin/unshare', '--mount', '--'] });
      assert.equal(inNs.end.signal, 'SIGKILL');
      assert.deepEqual(inNs.end.lines, []);
      const f = await eventually(bg.events, (evs) => findingOf(of(inNs.pid)(evs)));
      assert.equal(argOf(f, 'policy'), 'ports-in-containers');
      const otherCgroup = await run(['userfaultfd:0']);
      assert.equal(otherCgroup.end.signal, null);
      const sameCgroup = await run(['perfattr:1:0']);
      assert.equal(sameCgroup.end.signal, 'SIGKILL');
    } finally {
      await t.stop();
      await bg.done;
    }
  });
});
