import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { findEvent } from '../../src/catalog/events.js';
import type { SyscallEvent } from '../../src/model/event.js';
import { parseEventsFlags } from '../../src/policy/events-grammar.js';
import { loadPolicies } from '../../src/policy/policy-file.js';
import { compilePolicies, policyFromFlags } from '../../src/policy/policy.js';
import { traced } from '../support/traced.js';
import { CLI } from '../support/cli.js';
import { replayJson } from '../detect/replay-cli.js';
import { brief, usage } from './brief.js';

/** Filters, sets and policies written the way Tracee's docs write them (our own cases, from its documented syntax). */

const isRoot = process.getuid?.() === 0;
const filters = (values: string[], event: string): string[] => (parseEventsFlags(values).filters[event] ?? []).map(brief);

describe("Tracee's argument names, with the kernel's kept as aliases", { timeout: 30_000 }, () => {
  it("names openat's arguments as Tracee does (dirfd, pathname, flags, mode) whether or not tracefs is readable", () => {
    assert.deepEqual(findEvent('openat')!.args.map((a) => a.name), ['dirfd', 'pathname', 'flags', 'mode']);
    assert.deepEqual(findEvent('execve')!.args.map((a) => a.name), ['pathname', 'argv', 'envp']);
    assert.deepEqual(findEvent('clone')!.args.map((a) => a.name), ['flags', 'stack', 'parent_tid', 'child_tid', 'tls']);
  });
  it("accepts Tracee's names and the kernel's in filters, both meaning the same argument", () => {
    assert.deepEqual(filters(['openat.data.dirfd=-100'], 'openat'), ['arg:dirfd = -100']);
    assert.deepEqual(filters(['openat.data.dfd=-100'], 'openat'), ['arg:dirfd = -100']);
    assert.deepEqual(filters(['ioctl.data.cmd=0x5413'], 'ioctl'), ['arg:request = 21523']);
    assert.deepEqual(filters(['clone.data.clone_flags=0x11'], 'clone'), ['arg:flags = 17']);
  });
  it('says which fields exist when neither name fits', () => {
    assert.throws(() => parseEventsFlags(['openat.data.path=/tmp']), usage(/openat has no data field 'path'.*pathname/));
  });
});

describe("string filters with Tracee's = != x* *x *x* forms", { timeout: 30_000 }, () => {
  it('parses the example of Tracee\'s CLI docs and every wildcard form, on every string argument', () => {
    assert.deepEqual(filters(['openat.data.pathname=/tmp*'], 'openat'), ['arg:pathname = prefix:/tmp']);
    assert.deepEqual(filters(['openat.data.pathname=*shadow'], 'openat'), ['arg:pathname = suffix:shadow']);
    assert.deepEqual(filters(['openat.data.pathname=*pass*'], 'openat'), ['arg:pathname = contains:pass']);
    assert.deepEqual(filters(['openat.data.pathname!=/etc/passwd,/etc/group'], 'openat'), ['arg:pathname != exact:/etc/passwd,exact:/etc/group']);
    assert.deepEqual(filters(['execve.data.filename=/bin/ls'], 'execve'), ['arg:pathname = exact:/bin/ls']);
    assert.deepEqual(filters(['unlinkat.data.pathname=/var/log/*'], 'unlinkat'), ['arg:pathname = prefix:/var/log/']);
  });
  it('refuses each bad form in one line', () => {
    assert.throws(() => parseEventsFlags(['openat.data.pathname>/tmp']), usage(/cannot be compared with >/));
    assert.throws(() => parseEventsFlags(['openat.data.pathname=*']), usage(/matches everything/));
    assert.throws(() => parseEventsFlags(['execve.data.argv=ls']), usage(/argv is a \[\]string in the caller's memory/));
    assert.throws(() => parseEventsFlags(['openat.data.dirfd=cwd']), usage(/is not a number/));
  });

  const ev = (pathname: string | null): SyscallEvent =>
    ({ eventName: 'openat', args: [{ name: 'dirfd', type: 'int32', value: -100 }, { name: 'pathname', type: 'pointer', value: pathname }] }) as unknown as SyscallEvent;
  const matches = (filter: string, pathname: string | null): boolean => compilePolicies([policyFromFlags({ events: [filter] })]).evaluate(ev(pathname)).length > 0;
  it('matches the text of the argument by each form; an argument the line left out matches nothing', () => {
    assert.equal(matches('openat.data.pathname=/tmp*', '/tmp/x'), true);
    assert.equal(matches('openat.data.pathname=/tmp*', '/etc/tmp'), false);
    assert.equal(matches('openat.data.pathname=*shadow', '/etc/shadow'), true);
    assert.equal(matches('openat.data.pathname=*shadow', '/etc/shadow-'), false);
    assert.equal(matches('openat.data.pathname=*pass*', '/etc/passwd'), true);
    assert.equal(matches('openat.data.pathname!=/etc/passwd', '/etc/passwd'), false);
    assert.equal(matches('openat.data.pathname!=/etc/passwd', '/etc/group'), true);
    assert.equal(matches('openat.data.filename=/etc/group', '/etc/group'), true);
    assert.equal(matches('openat.data.pathname=/tmp*', null), false);
  });

  it('reads string filters from a Tracee policy file rule', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wp-tracee-policy-'));
    try {
      const file = join(dir, 'p.yaml');
      writeFileSync(
        file,
        [
          'apiVersion: tracee.aquasec.com/v1beta1',
          'kind: Policy',
          'metadata:',
          '  name: sensitive-files',
          'spec:',
          '  scope:',
          '    - global',
          '  rules:',
          '    - event: openat',
          '      filters:',
          '        - data.pathname=/etc/shadow',
          '        - data.pathname=*.key',
          '    - event: execve',
          '      filters:',
          '        - data.pathname=/tmp/*',
          '',
        ].join('\n'),
      );
      const [spec] = loadPolicies([file]);
      assert.deepEqual(spec.rules.map((r) => [r.event, r.conditions.map(brief)]), [
        ['openat', ['arg:pathname = exact:/etc/shadow', 'arg:pathname = suffix:.key']],
        ['execve', ['arg:pathname = prefix:/tmp/']],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("Tracee's sets, with Tracee's membership", { timeout: 30_000 }, () => {
  const has = (set: string, names: string[], not: string[] = []): void => {
    const events = parseEventsFlags([set]).events;
    for (const n of names) assert.ok(events.includes(n), `${set} has ${n}`);
    for (const n of not) assert.ok(!events.includes(n), `${set} lacks ${n}`);
  };
  it('fs holds openat and the other file syscalls, not only ioctl', () => has('fs', ['openat', 'ioctl', 'read', 'unlinkat', 'stat'], ['socket', 'execve']));
  it('net, proc, ipc and signals hold what Tracee puts in them', () => {
    has('net', ['socket', 'connect', 'bind', 'accept4'], ['openat']);
    has('proc', ['execve', 'clone', 'fork', 'setuid'], ['openat']);
    has('ipc', ['pipe', 'shmget', 'msgsnd'], ['openat']);
    has('signals', ['kill', 'tgkill', 'rt_sigaction'], ['openat']);
    has('fs_file_ops', ['openat', 'creat', 'rename'], ['read']);
  });
  it('tag=time is the set even though time is also a syscall; -e time is the syscall, as a name comes first', () => {
    has('tag=time', ['nanosleep', 'clock_gettime', 'time']);
    assert.deepEqual(parseEventsFlags(['time']).events, ['time']);
  });
  it('system still holds the ioperm family', () => has('system', ['ioperm', 'iopl', 'perf_event_open', 'userfaultfd', 'reboot']));
});

describe('string filters in replay and live', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'wp-tracee-replay-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const line = (pid: number, pathname: string): string =>
    JSON.stringify({
      timestamp: 1700000000123456789, processId: pid, threadId: pid, hostProcessId: pid, hostThreadId: pid, userId: 0, processName: 'cat',
      executable: { path: '/usr/bin/cat' }, eventId: '257', eventName: 'openat', matchedPolicies: [''], argsNum: 4, returnValue: 3, syscall: 'openat',
      args: [{ name: 'dirfd', type: 'int32', value: -100 }, { name: 'pathname', type: 'string', value: pathname }, { name: 'flags', type: 'int32', value: 0 }, { name: 'mode', type: 'uint16', value: 0 }],
    });

  it('replay -e keeps the lines whose pathname matches, and counts the rest as filtered', async () => {
    const file = join(dir, 'tracee.jsonl');
    writeFileSync(file, [line(10, '/tmp/a'), line(11, '/etc/shadow'), line(12, '/etc/passwd'), line(13, '/tmp/b')].join('\n') + '\n');
    const summary = async (filter: string): Promise<{ events: number; filtered: number; malformed: number }> => {
      const r = await replayJson(file, ['-e', filter]);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stderr.split('\n').find((l) => l.startsWith('{"replay"'))!).replay;
    };
    assert.deepEqual(await summary('openat.data.pathname=/tmp*'), { ...(await summary('openat.data.pathname=/tmp*')), events: 2, filtered: 2, malformed: 0 });
    assert.equal((await summary('openat.data.pathname=*shadow')).events, 1);
    assert.equal((await summary('openat.data.filename=*pass*')).events, 1);
    assert.equal((await summary('openat.data.pathname!=/tmp/a')).events, 3);
  });

  it('--explain says where a string filter runs (eBPF reads the text, user space compares it), and exits 0', () => {
    const out = execFileSync(process.execPath, [CLI, 'trace', '-e', 'openat.data.pathname=/tmp*', '--explain'], { encoding: 'utf8' });
    assert.match(out, /user +cli: data\.pathname=\/tmp\* +\(the syscall record holds the string's address: the eBPF backend reads its text .*tracefs cannot read it, so live tracing needs eBPF\)/);
  });

  it('a live trace on tracefs refuses a string filter in one line with exit 2, instead of matching nothing', { skip: !isRoot && 'needs root to trace' }, () => {
    const r = spawnSync(process.execPath, [CLI, 'trace', '-e', 'openat.data.pathname=/tmp*', '--backend', 'tracefs'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /--backend tracefs sees only the string's address, not its text; use --backend ebpf.*watchpost replay FILE -e 'openat\.data\.pathname=\/tmp\*'/);
  });
});

for (const backend of ['tracefs', 'ebpf'] as const) {
  describe(`filters by Tracee's argument names on the live kernel (${backend})`, { timeout: 120_000, skip: !isRoot && 'needs root to trace' }, () => {
    it('openat.data.dirfd and its alias dfd select the same calls; flags by value', async () => {
      for (const name of ['dirfd', 'dfd']) {
        const { calls, got, pid } = await traced({ backend, events: [`openat.data.${name}=-100`, 'openat.data.flags=0x80000'] }, ['openat:/etc/hostname:0x80000', 'openat:/etc/hostname:0']);
        assert.equal(calls.length, 2);
        const mine = got.filter((e) => e.eventName === 'openat' && e.hostProcessId === pid);
        assert.equal(mine.length, 1, `${name}: ${JSON.stringify(mine.map((e) => e.args))}`);
        assert.deepEqual(mine[0].args.map((a) => a.name), ['dirfd', 'pathname', 'flags', 'mode']);
        assert.equal(mine[0].args[2].value, 0x80000);
        assert.equal(mine[0].returnValue, calls[0].ret);
      }
    });
    it('ioctl.data.cmd (the kernel name) filters request in the kernel', async () => {
      const { calls, got, pid } = await traced({ backend, events: ['ioctl.data.cmd=0x5413'] }, ['ioctl:0:0x5413:0', 'ioctl:0:0x5401:0']);
      assert.equal(calls.length, 2);
      const mine = got.filter((e) => e.eventName === 'ioctl' && e.hostProcessId === pid);
      assert.deepEqual(mine.map((e) => e.args[1].value), [0x5413n]);
    });
  });
}
