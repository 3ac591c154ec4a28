import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { parsePolicyText } from '../../src/policy/policy-file.js';
import { policyFromFlags } from '../../src/policy/policy.js';
import { type PushdownPlan, explainPlan, planPushdown } from '../../src/policy/pushdown.js';
import type { PolicySpec } from '../../src/policy/spec.js';

/** Field names after __syscall_nr in this kernel's format files (ioctl's `request` is `cmd`). */
const FIELDS = { ioperm: ['from', 'num', 'turn_on'], iopl: ['level'], ioctl: ['fd', 'cmd', 'arg'], perf_event_open: ['attr_uptr', 'pid', 'cpu', 'group_fd', 'flags'], userfaultfd: ['flags'] };

function plan(events: string[], scope: string[] = []): PushdownPlan {
  return planPushdown([policyFromFlags({ events, scope })], FIELDS);
}

/** Every kernel filter the tables below produce, to be written to a real kernel at the end. */
const produced: { event: string; filter: string }[] = [];

function filterOf(p: PushdownPlan, event: string): string | undefined {
  const f = p.perEvent[event]?.kernelFilter;
  if (f !== undefined) produced.push({ event, filter: f });
  return f;
}

describe('push-down: the tracefs filter for one policy', () => {
  const table: [string, string[], string[], string, string | undefined][] = [
    ['no filter: every call', ['ioperm'], [], 'ioperm', undefined],
    ['a 64-bit equality', ['ioperm.data.from=0x3f8'], [], 'ioperm', 'from == 1016'],
    ['a 64-bit lower bound', ['ioperm.data.from>=0x3f8'], [], 'ioperm', 'from >= 1016'],
    ['a 64-bit range', ['ioperm.data.from>=0x3f8', 'ioperm.data.from<=0x3ff'], [], 'ioperm', 'from >= 1016 && from <= 1023'],
    ['comma values are OR', ['ioperm.data.from=0x3f8,0x2f8'], [], 'ioperm', 'from == 1016 || from == 760'],
    ['a != list', ['ioperm.data.num!=0,1'], [], 'ioperm', 'num != 0 && num != 1'],
    ['comma bounds widen', ['ioperm.data.from<0x100,0x400'], [], 'ioperm', 'from < 1024'],
    ['= values or the rest', ['ioperm.data.from=0x60', 'ioperm.data.from>=0x3f8', 'ioperm.data.from!=0x3fa'], [], 'ioperm', 'from == 96 || (from >= 1016 && from != 1018)'],
    ['a 32-bit equality gets the upper-bits guard', ['ioperm.data.turn_on=1'], [], 'ioperm', 'turn_on == 1 || turn_on > 0xffffffff'],
    ['a 32-bit inequality is already a superset', ['ioperm.data.turn_on!=0'], [], 'ioperm', 'turn_on != 0'],
    ['different fields AND', ['ioperm.data.from>=0x3f8', 'ioperm.data.turn_on=1'], [], 'ioperm', 'from >= 1016 && (turn_on == 1 || turn_on > 0xffffffff)'],
    ['ioctl request is the kernel field cmd', ['ioctl.data.request=0x5401'], [], 'ioctl', 'cmd == 21505 || cmd > 0xffffffff'],
    ['an unsigned 32-bit value above 2^31', ['ioctl.data.request=0xc0045877'], [], 'ioctl', 'cmd == 3221510263 || cmd > 0xffffffff'],
    ['ioctl fd and arg', ['ioctl.data.fd=3', 'ioctl.data.arg=0'], [], 'ioctl', '(fd == 3 || fd > 0xffffffff) && arg == 0'],
    ['iopl level', ['iopl.data.level=3'], [], 'iopl', 'level == 3 || level > 0xffffffff'],
    ['a host thread id is common_pid', ['ioperm.scope.hostTid=42'], [], 'ioperm', 'common_pid == 42'],
    ['data and thread id', ['ioperm.data.turn_on=1', 'ioperm.scope.hostTid=42,43'], [], 'ioperm', '(turn_on == 1 || turn_on > 0xffffffff) && (common_pid == 42 || common_pid == 43)'],
    ['a negative int32 stays in user space', ['perf_event_open.data.pid=-1'], [], 'perf_event_open', undefined],
    ['a non-negative int32 is pushed', ['perf_event_open.data.cpu=0'], [], 'perf_event_open', 'cpu == 0 || cpu > 0xffffffff'],
    ['an int32 range stays in user space', ['iopl.data.level>=1'], [], 'iopl', undefined],
    ['a pointer stays in user space', ['perf_event_open.data.attr=0'], [], 'perf_event_open', undefined],
    ['retval stays in user space', ['ioperm.retval!=0'], [], 'ioperm', undefined],
    ['comm stays in user space', ['ioperm.scope.comm=x'], [], 'ioperm', undefined],
    ['pushed and kept parts', ['ioperm.data.from=0x3f8', 'ioperm.retval<0'], ['uid=0'], 'ioperm', 'from == 1016'],
    ['a pid scope stays in user space (common_pid is the thread)', ['ioperm'], ['pid=42'], 'ioperm', undefined],
    ['follow keeps scope in user space, data still pushed', ['ioperm.data.turn_on=1', 'ioperm.scope.hostTid=42'], ['comm=bash', 'follow'], 'ioperm', '(turn_on == 1 || turn_on > 0xffffffff) && common_pid == 42'],
  ];
  for (const [what, events, scope, event, expected] of table) {
    it(`${what}: ${JSON.stringify([...events, ...scope])} -> ${expected ?? 'none'}`, () => assert.equal(filterOf(plan(events, scope), event), expected));
  }

  it('lists what stays in user space, and why', () => {
    const p = plan(['ioperm.data.from=0x3f8', 'ioperm.data.turn_on=1', 'ioperm.retval<0'], ['uid=0', 'pid=42']);
    assert.deepEqual(p.perEvent.ioperm.userSpace, [
      'cli: uid=0 (not in the syscall record)',
      'cli: pid=42 (common_pid is the thread id: the other threads of the process would be lost)',
      'cli: data.turn_on=1 (the kernel compares all 8 bytes, so calls with upper bits set pass to user space, which re-checks)',
      'cli: retval<0 (the return value exists only at syscall exit)',
    ]);
  });

  it('keeps everything in user space when the field names are unknown', () => {
    const p = planPushdown([policyFromFlags({ events: ['ioperm.data.from=1'] })], {});
    assert.equal(p.perEvent.ioperm.kernelFilter, undefined);
    assert.deepEqual(p.perEvent.ioperm.userSpace, ['cli: data.from=1 (the kernel field names of this event are unknown)']);
  });
});

describe('push-down: several policies', () => {
  const policies = (...docs: [string, string][]): PolicySpec[] =>
    docs.map(([name, rules]) => parsePolicyText(`apiVersion: tracee.aquasec.com/v1beta1\nkind: Policy\nmetadata: {name: ${name}}\nspec:\n  scope: [global]\n  rules:\n${rules}`, `${name}.yaml`)[0]);

  it('ORs what each policy needs', () => {
    const p = planPushdown(policies(['grants', '    - event: ioperm\n      filters: [data.turn_on=1]\n'], ['com1', '    - event: ioperm\n      filters: [data.from=0x3f8]\n']), FIELDS);
    assert.equal(filterOf(p, 'ioperm'), 'turn_on == 1 || turn_on > 0xffffffff || from == 1016');
  });

  it('keeps both branches whole', () => {
    const p = planPushdown(policies(['a', '    - event: ioperm\n      filters: [data.from>=0x3f8, data.num=8]\n'], ['b', '    - event: ioperm\n      filters: [data.from=0x60]\n']), FIELDS);
    assert.equal(filterOf(p, 'ioperm'), '(from >= 1016 && num == 8) || from == 96');
  });

  it('pushes nothing when one policy needs every call, and says which', () => {
    const p = planPushdown(policies(['grants', '    - event: ioperm\n      filters: [data.turn_on=1]\n'], ['failures', '    - event: ioperm\n      filters: [retval!=0]\n']), FIELDS);
    assert.equal(p.perEvent.ioperm.kernelFilter, undefined);
    assert.deepEqual(p.perEvent.ioperm.userSpace, [
      'grants: data.turn_on=1 (policy failures needs every ioperm call, so the kernel cannot filter)',
      'failures: retval!=0 (the return value exists only at syscall exit)',
    ]);
  });

  it('plans each event from the policies that select it', () => {
    const p = planPushdown(policies(['a', '    - event: ioperm\n      filters: [data.turn_on=1]\n    - event: iopl\n'], ['b', '    - event: ioctl\n      filters: [data.request=0x5401]\n']), FIELDS);
    assert.deepEqual(Object.keys(p.perEvent), ['ioperm', 'iopl', 'ioctl']);
    assert.equal(p.perEvent.iopl.kernelFilter, undefined);
    assert.equal(filterOf(p, 'ioctl'), 'cmd == 21505 || cmd > 0xffffffff');
  });

  it('drops identical branches', () => {
    const p = planPushdown(policies(['a', '    - event: ioperm\n      filters: [data.from=1]\n'], ['b', '    - event: ioperm\n      filters: [data.from=1]\n']), FIELDS);
    assert.equal(filterOf(p, 'ioperm'), 'from == 1');
  });
});

describe('--explain', () => {
  it('prints each event, its kernel filter, and where each condition runs', () => {
    const text = explainPlan(plan(['ioperm,iopl', 'ioperm.data.from>=0x3f8', 'ioperm.data.turn_on=1', 'ioperm.retval!=0'], ['comm=portprobe']));
    assert.equal(
      text,
      [
        'ioperm',
        '  kernel filter: from >= 1016 && (turn_on == 1 || turn_on > 0xffffffff)',
        '  user         cli: comm=portprobe  (string fields are not in the syscall record)',
        '  kernel       cli: data.from>=0x3f8  (64-bit argument, compared exactly)',
        '  kernel+user  cli: data.turn_on=1  (the kernel compares all 8 bytes, so calls with upper bits set pass to user space, which re-checks)',
        '  user         cli: retval!=0  (the return value exists only at syscall exit)',
        'iopl',
        '  kernel filter: none (every call reaches user space)',
        '  user  cli: comm=portprobe  (string fields are not in the syscall record)',
        'User space evaluates every condition again to fill matchedPolicies.',
      ].join('\n'),
    );
  });
});

describe('push-down on the real kernel (private tracefs instance)', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  const root = '/sys/kernel/tracing';
  const instance = `${root}/instances/watchpost-test-${process.pid}`;
  const touched = new Set<string>();

  before(() => {
    try {
      execFileSync('mountpoint', ['-q', root]);
    } catch {
      execFileSync('mount', ['-t', 'tracefs', 'nodev', root]);
    }
    mkdirSync(instance);
  });

  after(() => {
    if (!existsSync(instance)) return;
    for (const dir of touched) writeFileSync(`${instance}/events/syscalls/${dir}/enable`, '0');
    writeFileSync(`${instance}/events/enable`, '0');
    rmdirSync(instance);
  });

  function fieldsFromFormat(event: string): string[] {
    const format = readFileSync(`${instance}/events/syscalls/sys_enter_${event}/format`, 'utf8');
    const names = [...format.matchAll(/field:[^;]*?(\w+);/g)].map((m) => m[1]);
    return names.slice(names.indexOf('__syscall_nr') + 1);
  }

  function setFilter(event: string, filter: string): string {
    const dir = `sys_enter_${event}`;
    touched.add(dir);
    writeFileSync(`${instance}/events/syscalls/${dir}/filter`, filter);
    return readFileSync(`${instance}/events/syscalls/${dir}/filter`, 'utf8').trim();
  }

  const present = (event: string) => existsSync(`${instance}/events/syscalls/sys_enter_${event}`);

  it('has the field names the tables assume', () => {
    assert.ok(present('ioperm') && present('ioctl'));
    for (const [event, fields] of Object.entries(FIELDS)) if (present(event)) assert.deepEqual(fieldsFromFormat(event), fields);
  });

  it('accepts every filter the push-down produced (ioperm, ioctl and the rest of the family), and reads each back unchanged', () => {
    const ours = produced.filter((p) => present(p.event));
    assert.ok(ours.filter((p) => p.event === 'ioperm' || p.event === 'ioctl').length >= 15, `${ours.length} filters`);
    for (const { event, filter } of ours) assert.equal(setFilter(event, filter), filter);
    for (const { event } of ours) setFilter(event, '0');
  });

  it('lets a call with upper bits set in a 32-bit argument through to user space, where a plain comparison would miss it', (t) => {
    let koffi: typeof import('koffi');
    try {
      koffi = createRequire(import.meta.url)('koffi');
    } catch {
      t.skip('koffi not loadable');
      return;
    }
    const syscall = koffi.load('libc.so.6').func('long syscall(long, ...)');
    // ioctl(-1, cmd, 0) fails with EBADF: harmless. The kernel reads cmd as `unsigned int`, so 0x1_0000_5401 is TCGETS to it.
    const ioctl = (cmd: bigint) => syscall(16, 'long', -1, 'unsigned long', cmd, 'unsigned long', 0n);
    const ours = planPushdown([policyFromFlags({ events: ['ioctl.data.request=0x5401'] })], FIELDS).perEvent.ioctl.kernelFilter ?? 'unplanned';
    const seen = (filter: string): number => {
      const dir = `${instance}/events/syscalls/sys_enter_ioctl`;
      writeFileSync(`${instance}/trace`, '');
      setFilter('ioctl', `(${filter}) && common_pid == ${process.pid}`);
      writeFileSync(`${dir}/enable`, '1');
      ioctl(0x5401n);
      ioctl(0x1_0000_5401n);
      ioctl(0x5402n);
      writeFileSync(`${dir}/enable`, '0');
      return readFileSync(`${instance}/trace`, 'utf8').split('\n').filter((l) => l.includes('sys_ioctl(')).length;
    };
    assert.equal(seen('cmd == 21505'), 1, 'a plain comparison misses the crafted call');
    assert.equal(seen(ours), 2, 'the guarded filter passes it, and user space re-checks');
  });
});
