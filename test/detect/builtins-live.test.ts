import assert from 'node:assert/strict';
import { asTraceeEvents } from '../../src/detect/finding-event.js';
import { after, before, describe, it } from 'node:test';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { SyscallEvent } from '../../src/model/event.js';
import { builtinSignatures, type BuiltinOptions } from '../../src/detect/builtins.js';
import { Detector } from '../../src/detect/detector.js';
import { eventToJson } from '../../src/sinks/json.js';
import { helperCopy, isEnosys, liveRun, makeCgroup, record, removeTree, tempDir, unifiedCgroupRoot, type LiveRun } from './live.js';
import { replayJson } from './replay-cli.js';
import { NO_32BIT, where32 } from '../support/kernel-features.js';

/**
 * Each built-in on the real kernel: a live scenario driven by the C helper that must fire, its benign counterpart that
 * must not, and the replay of the live recording (as uid 65534, through the CLI) that must print the same findings.
 */

const isRoot = process.getuid?.() === 0;
const dir = isRoot ? tempDir('wp-detect-') : '';
const CONTAINER_ID = 'c0ffee'.padEnd(64, '1');

function findings(run: LiveRun, options: BuiltinOptions = {}): SyscallEvent[] {
  return asTraceeEvents(new Detector(builtinSignatures(options)).process(run.events, () => false));
}

const ids = (fs: readonly SyscallEvent[]): string[] => fs.map((f) => (f.metadata as { Properties: { signatureID: string } }).Properties.signatureID);
const of = (fs: readonly SyscallEvent[], id: string): SyscallEvent[] => fs.filter((f) => ids([f])[0] === id);

/** Every call the helper made was reported, with the result it saw. */
function assertReported(run: LiveRun): void {
  assert.equal(run.events.length, run.calls.length, `one event per call: ${JSON.stringify(run.calls)}`);
  for (const [i, c] of run.calls.entries()) assert.equal(run.events[i].returnValue, c.ret, `call ${i} (${c.call}) returned ${c.ret}`);
}

/** Replays the live recording as nobody and checks it prints exactly the live findings. */
async function assertReplaySame(run: LiveRun, live: readonly SyscallEvent[], name: string, extra: string[] = []): Promise<void> {
  const file = record(run.events, dir, `${name}.jsonl`);
  const r = await replayJson(file, extra);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.lines, live.map(eventToJson), 'replay prints the findings the live run made, byte for byte');
  assert.match(r.stderr, new RegExp(`"events":${run.events.length},`));
}

after(() => {
  if (dir) removeTree(dir);
});

describe('built-in signatures on the real kernel, and on replay of what it recorded', { skip: !isRoot && 'needs root to trace' }, () => {
  describe('WP-001 I/O port access granted (fires on success only)', () => {
    it('stays silent on ioperm(turn_on=1) and iopl(3) that the kernel refused with -ENOSYS', async () => {
      const run = await liveRun(where32(['ioperm:0x378:3:1', 'iopl:3', 'ioperm32:0x378:3:1']));
      assertReported(run);
      assert.ok(run.calls.every(isEnosys), 'ioperm/iopl are compiled out on this kernel');
      assert.deepEqual(of(findings(run), 'WP-001'), []);
      assert.ok(findings(run).length > 0, 'other signatures did see these events (not a vacuous silence)');
    });

    it('fires on recorded ioperm(turn_on=1) and iopl(3) events whose returnValue is 0 (cannot happen live here: every call is -ENOSYS)', async () => {
      const run = await liveRun(['ioperm:0x378:3:1', 'iopl:3', 'ioperm:0x378:3:0', 'iopl:0']);
      assertReported(run);
      // the same events as a kernel with ioperm/iopl compiled in would have reported them to root: granted
      const granted: LiveRun = { ...run, events: run.events.map((e) => { const g = { ...e, returnValue: 0 }; delete g.errno; return g; }) };
      const live = of(findings(granted), 'WP-001');
      assert.deepEqual(live.map((f) => (f.metadata as { triggeredBy: { name: string } }).triggeredBy.name), ['ioperm', 'iopl'], 'revoking (turn_on=0) and iopl(0) grant nothing');
      assert.equal(live[0].args.find((a) => a.name === 'ports')?.value, '0x378-0x37a parallel port LPT1');
      await assertReplaySame(granted, findings(granted), 'wp001');
    });
  });

  describe('WP-002 I/O port access attempted from a container (fires on any result)', () => {
    const root = unifiedCgroupRoot();
    let cg: ReturnType<typeof makeCgroup> | undefined;
    before(() => {
      if (root) cg = makeCgroup(root, `system.slice/docker-${CONTAINER_ID}.scope`);
    });
    after(() => cg?.remove());

    it('fires on ioperm and iopl from a process in a docker cgroup, refused or not', { skip: !root && 'no cgroup2 mount' }, async () => {
      const run = await liveRun(['ioperm:0x378:3:1', 'iopl:3', 'ioperm:0x378:3:0'], { cgroup: cg!.dir });
      assertReported(run);
      assert.ok(run.events.every((e) => e.containerId === CONTAINER_ID), `Watchpost saw the container: ${run.events.map((e) => e.containerId)}`);
      const live = of(findings(run), 'WP-002');
      assert.equal(live.length, 3, 'every ioperm/iopl call from the container, even the revoking one');
      assert.equal(live[0].containerId, CONTAINER_ID);
      assert.match(String(live[0].args.find((a) => a.name === 'outcome')?.value), /denied \(-38 ENOSYS\)/);
      await assertReplaySame(run, findings(run), 'wp002');
    });

    it('stays silent on the same calls from the host', async () => {
      const run = await liveRun(['ioperm:0x378:3:1', 'iopl:3']);
      assertReported(run);
      assert.ok(run.events.every((e) => e.containerId === ''));
      assert.deepEqual(of(findings(run), 'WP-002'), []);
    });
  });

  describe('WP-003 critical ports: i8042 0x64, CMOS/RTC 0x70-0x71, PCI configuration 0xCF8-0xCFF (fires on the attempt)', () => {
    it('fires on each critical range, natively, from a 32-bit caller, and on a range that only overlaps one', async () => {
      const commands = where32(['ioperm:0x64:1:1', 'ioperm:0x70:2:1', 'ioperm:0xcf8:8:1', 'ioperm32:0xcfc:4:1', 'ioperm:0x60:5:1', 'ioperm:0x71:1:1']);
      const run = await liveRun(commands);
      assertReported(run);
      const live = of(findings(run), 'WP-003');
      assert.equal(live.length, commands.length);
      const critical = live.map((f) => String(f.args.find((a) => a.name === 'critical')?.value));
      assert.match(critical[0], /^0x64 i8042/);
      assert.match(critical[1], /^0x70-0x71 CMOS/);
      assert.match(critical[2], /^0xcf8-0xcff PCI configuration/);
      assert.match(critical[commands.indexOf('ioperm:0x60:5:1')], /^0x64 i8042/, '0x60-0x64 reaches 0x64');
      assert.equal(live[0].metadata.Properties && (live[0].metadata.Properties as { Severity: number }).Severity, 3);
      await assertReplaySame(run, findings(run), 'wp003');
    });

    it('stays silent on ordinary ports, next-door ports and on revoking access to critical ones', async () => {
      const run = await liveRun(['ioperm:0x378:3:1', 'ioperm:0x65:0xb:1', 'ioperm:0x72:0x10:1', 'ioperm:0xcf0:8:1', 'ioperm:0x64:1:0', 'ioperm:0xd00:0x100:1']);
      assertReported(run);
      assert.deepEqual(of(findings(run), 'WP-003'), []);
      assert.equal(of(findings(run), 'WP-005').length, 5, 'the same events do reach the signatures');
    });
  });

  describe('WP-004 iopl(3): the whole port space (fires on the attempt)', () => {
    it('fires on iopl(3), native and 32-bit', async () => {
      const run = await liveRun(where32(['iopl:3', 'iopl32:3']));
      assertReported(run);
      const live = of(findings(run), 'WP-004');
      assert.equal(live.length, run.calls.length);
      if (!NO_32BIT) assert.equal(live[1].contextFlags.isCompat, true);
      await assertReplaySame(run, findings(run), 'wp004');
    });

    it('stays silent on iopl(0), iopl(1) and an invalid level', async () => {
      const run = await liveRun(['iopl:0', 'iopl:1', 'iopl:7']);
      assertReported(run);
      assert.deepEqual(of(findings(run), 'WP-004'), []);
    });
  });

  describe('WP-005 raw port access by a program not on the hardware-tool allow-list (fires on the attempt)', () => {
    const tool = '/usr/local/sbin/flashrom';
    const placed = isRoot && !existsSync(tool);
    after(() => {
      if (placed) rmSync(tool, { force: true });
    });

    it('fires for an unknown program, and for one named like a tool outside the system directories', async () => {
      const spoof = helperCopy(join(dir, 'bin', 'flashrom'));
      const run = await liveRun(['ioperm:0x378:3:1', 'iopl:3'], { exe: spoof });
      assertReported(run);
      const live = of(findings(run), 'WP-005');
      assert.equal(live.length, 2);
      assert.equal(live[0].args.find((a) => a.name === 'program')?.value, spoof);
      await assertReplaySame(run, findings(run), 'wp005');
    });

    it('stays silent for a default tool in a system directory, and for a path given with --allow-hw-tool', { skip: !placed && `${tool} already exists` }, async () => {
      helperCopy(tool);
      const run = await liveRun(['ioperm:0x378:3:1', 'iopl:3'], { exe: tool });
      assertReported(run);
      assert.equal(run.events[0].executable.path, tool);
      assert.deepEqual(of(findings(run), 'WP-005'), []);

      const mine = helperCopy(join(dir, 'tools', 'my-board-probe'));
      const run2 = await liveRun(['ioperm:0x378:3:1'], { exe: mine });
      assert.equal(of(findings(run2), 'WP-005').length, 1, 'not allowed by default');
      assert.deepEqual(of(findings(run2, { allowHwTools: [mine] }), 'WP-005'), []);
      const file = record(run2.events, dir, 'wp005-allowed.jsonl');
      const r = await replayJson(file, ['--allow-hw-tool', mine]);
      assert.deepEqual(r.lines.filter((l) => l.includes('"WP-005"')), [], r.stderr);
    });
  });

  describe('WP-006 userfaultfd by an unprivileged process (Falco parity: fires on the attempt)', () => {
    it('fires for uid 65534, whether the kernel refused (flags 0) or allowed (UFFD_USER_MODE_ONLY) the call', async () => {
      const run = await liveRun(['userfaultfd:0', 'userfaultfd:1'], { uid: 65534 });
      assertReported(run);
      assert.ok(run.events.every((e) => e.userId === 65534));
      const live = of(findings(run), 'WP-006');
      assert.equal(live.length, 2, `results seen: ${run.calls.map((c) => c.ret)}`);
      await assertReplaySame(run, findings(run), 'wp006');
    });

    it('stays silent for root', async () => {
      const run = await liveRun(['userfaultfd:0', 'userfaultfd:1']);
      assertReported(run);
      assert.ok(run.calls.every((c) => c.ret >= 0), 'root gets its fd');
      assert.deepEqual(of(findings(run), 'WP-006'), []);
    });
  });

  describe('WP-007 perf_event_open from a container (fires on any result)', () => {
    const root = unifiedCgroupRoot();
    let cg: ReturnType<typeof makeCgroup> | undefined;
    before(() => {
      if (root) cg = makeCgroup(root, `kubepods.slice/kubepods-besteffort.slice/cri-containerd-${CONTAINER_ID}.scope`);
    });
    after(() => cg?.remove());

    it('fires on perf_event_open from a containerd cgroup (a NULL attr: -EFAULT)', { skip: !root && 'no cgroup2 mount' }, async () => {
      const run = await liveRun(['perf_event_open:0:0:-1:-1:0'], { cgroup: cg!.dir });
      assertReported(run);
      assert.equal(run.events[0].containerId, CONTAINER_ID);
      const live = of(findings(run), 'WP-007');
      assert.equal(live.length, 1);
      await assertReplaySame(run, findings(run), 'wp007');
    });

    it('stays silent on the host', async () => {
      const run = await liveRun(['perf_event_open:0:0:-1:-1:0']);
      assertReported(run);
      assert.deepEqual(of(findings(run), 'WP-007'), []);
    });
  });
});
