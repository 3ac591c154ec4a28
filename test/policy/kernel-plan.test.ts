import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { findEvent } from '../../src/catalog/events.js';
import { parsePolicyText } from '../../src/policy/policy-file.js';
import { policyFromFlags } from '../../src/policy/policy.js';
import { type KernelPlan, MAX_COMPARISONS, explainPlan, planKernelFilters, probeFilters } from '../../src/policy/kernel-plan.js';
import type { PolicySpec } from '../../src/policy/spec.js';
import { tracefsFilter } from '../../src/probes/tracefs/filter.js';
import type { KernelCondition } from '../../src/probes/types.js';

/** Field names after __syscall_nr in this kernel's format files (ioctl's `request` is `cmd`). */
const FIELDS = { ioperm: ['from', 'num', 'turn_on'], iopl: ['level'], ioctl: ['fd', 'cmd', 'arg'], perf_event_open: ['attr_uptr', 'pid', 'cpu', 'group_fd', 'flags'], userfaultfd: ['flags'] };

/** The plan for the events the policies name, as trace() makes it. */
function planOf(policies: PolicySpec[]): KernelPlan {
  const events = [...new Set(policies.flatMap((p) => p.rules.map((r) => r.event)))].map((name) => findEvent(name)!);
  return planKernelFilters(policies, events);
}

function plan(events: string[], scope: string[] = []): KernelPlan {
  return planOf([policyFromFlags({ events, scope })]);
}

/** Every kernel filter the tables below produce, to be written to a real kernel at the end. */
const produced: { event: string; filter: string }[] = [];

/** The tracefs filter text, named with FIELDS as the probe names it with its format files. */
function filterOf(p: KernelPlan, event: string): string | undefined {
  const expr = p.events[event]?.tracefs;
  const f = expr && tracefsFilter(expr, FIELDS[event as keyof typeof FIELDS]);
  if (f !== undefined) produced.push({ event, filter: f });
  return f;
}

/** The conditions a backend does not decide in the kernel, as `policy: condition (why)`. */
function userSpace(p: KernelPlan, event: string, backend: 'tracefs' | 'ebpf'): string[] {
  return p.events[event].placements.filter((x) => x.where[backend] !== 'kernel').map((x) => `${x.policy}: ${x.condition} (${x.why[backend]})`);
}

const policies = (...docs: [string, string][]): PolicySpec[] =>
  docs.map(([name, rules]) => parsePolicyText(`apiVersion: tracee.aquasec.com/v1beta1\nkind: Policy\nmetadata: {name: ${name}}\nspec:\n  scope: [global]\n  rules:\n${rules}`, `${name}.yaml`)[0]);

describe('kernel plan: the tracefs filter for one policy', () => {
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
    assert.deepEqual(userSpace(p, 'ioperm', 'tracefs'), [
      'cli: uid=0 (not in the syscall record)',
      'cli: pid=42 (common_pid is the thread id: the other threads of the process would be lost)',
      'cli: data.turn_on=1 (the kernel compares all 8 bytes, so calls with upper bits set pass to user space, which re-checks)',
      'cli: retval<0 (the return value exists only at syscall exit)',
    ]);
  });

  it('leaves the filter out when the probe cannot name a field (no such slot in the format file)', () => {
    const p = plan(['ioperm.data.turn_on=1']);
    assert.equal(tracefsFilter(p.events.ioperm.tracefs!, ['from', 'num']), undefined);
    assert.equal(tracefsFilter(p.events.ioperm.tracefs!, ['from', 'num', 'turn on']), undefined);
  });
});

describe('kernel plan: several policies, for tracefs', () => {
  it('ORs what each policy needs', () => {
    const p = planOf(policies(['grants', '    - event: ioperm\n      filters: [data.turn_on=1]\n'], ['com1', '    - event: ioperm\n      filters: [data.from=0x3f8]\n']));
    assert.equal(filterOf(p, 'ioperm'), 'turn_on == 1 || turn_on > 0xffffffff || from == 1016');
  });

  it('keeps both branches whole', () => {
    const p = planOf(policies(['a', '    - event: ioperm\n      filters: [data.from>=0x3f8, data.num=8]\n'], ['b', '    - event: ioperm\n      filters: [data.from=0x60]\n']));
    assert.equal(filterOf(p, 'ioperm'), '(from >= 1016 && num == 8) || from == 96');
  });

  it('pushes nothing when one policy needs every call, and says which', () => {
    const p = planOf(policies(['grants', '    - event: ioperm\n      filters: [data.turn_on=1]\n'], ['failures', '    - event: ioperm\n      filters: [retval!=0]\n']));
    assert.equal(p.events.ioperm.tracefs, undefined);
    assert.deepEqual(userSpace(p, 'ioperm', 'tracefs'), [
      'grants: data.turn_on=1 (policy failures needs every ioperm call, so the kernel cannot filter)',
      'failures: retval!=0 (the return value exists only at syscall exit)',
    ]);
  });

  it('plans each event from the policies that select it', () => {
    const p = planOf(policies(['a', '    - event: ioperm\n      filters: [data.turn_on=1]\n    - event: iopl\n'], ['b', '    - event: ioctl\n      filters: [data.request=0x5401]\n']));
    assert.deepEqual(Object.keys(p.events), ['ioperm', 'iopl', 'ioctl']);
    assert.equal(p.events.iopl.tracefs, undefined);
    assert.equal(filterOf(p, 'ioctl'), 'cmd == 21505 || cmd > 0xffffffff');
  });

  it('drops identical branches', () => {
    const p = planOf(policies(['a', '    - event: ioperm\n      filters: [data.from=1]\n'], ['b', '    - event: ioperm\n      filters: [data.from=1]\n']));
    assert.equal(filterOf(p, 'ioperm'), 'from == 1');
  });
});

const arg = (index: number, width: 32 | 64, signed: boolean, op: KernelCondition['op'], ...values: bigint[]): KernelCondition => ({ on: 'arg', index, width, signed, op, values });

describe('kernel plan: the eBPF argument filter', () => {
  const from = (op: KernelCondition['op'], ...v: bigint[]) => arg(0, 64, false, op, ...v);
  const table: [string, string[], string, KernelCondition[][] | undefined][] = [
    ['no filter: every call', ['ioperm'], 'ioperm', undefined],
    ['a hex equality', ['ioperm.data.from=0x64'], 'ioperm', [[from('=', 0x64n)]]],
    ['comma values are any one', ['ioperm.data.from=0x3f8,0x2f8'], 'ioperm', [[from('=', 0x3f8n, 0x2f8n)]]],
    ['a != list is none of them', ['ioperm.data.num!=0,1'], 'ioperm', [[arg(1, 64, false, '!=', 0n, 1n)]]],
    ['a range', ['ioperm.data.from>=0x3f8', 'ioperm.data.from<=0x3ff'], 'ioperm', [[from('>=', 0x3f8n), from('<=', 0x3ffn)]]],
    ['= values or the rest: two clauses', ['ioperm.data.from=0x60', 'ioperm.data.from>=0x3f8', 'ioperm.data.from!=0x3fa'], 'ioperm', [[from('=', 0x60n)], [from('!=', 0x3fan), from('>=', 0x3f8n)]]],
    ['= with != only: the = values decide', ['ioperm.data.from=0x60', 'ioperm.data.from!=0x61'], 'ioperm', [[from('=', 0x60n)]]],
    ['a 32-bit int is compared exactly, in its low half, signed', ['ioperm.data.turn_on=1'], 'ioperm', [[arg(2, 32, true, '=', 1n)]]],
    ['a negative int32, which tracefs cannot push', ['perf_event_open.data.pid=-1'], 'perf_event_open', [[arg(1, 32, true, '=', -1n)]]],
    ['an int32 range, which tracefs cannot push', ['iopl.data.level>=1'], 'iopl', [[arg(0, 32, true, '>=', 1n)]]],
    ['ioctl request: unsigned int in the kernel, so 32 bits though Tracee types it uint64', ['ioctl.data.request=0xc0045877'], 'ioctl', [[arg(1, 32, false, '=', 0xc0045877n)]]],
    ['a value wider than a 32-bit argument stays in user space', ['ioctl.data.request=0x100005401'], 'ioctl', undefined],
    ['a pointer stays in user space', ['perf_event_open.data.attr=0'], 'perf_event_open', undefined],
    ['a thread id is not an argument: nothing pushed', ['ioperm.scope.hostTid=42'], 'ioperm', undefined],
    ['pushed and kept parts', ['ioperm.data.from=0x3f8', 'ioperm.retval<0', 'ioperm.scope.hostTid=42'], 'ioperm', [[from('=', 0x3f8n)]]],
    [
      'two fields with two alternatives each: every combination',
      ['ioperm.data.from=0x60', 'ioperm.data.from>=0x3f8', 'ioperm.data.num=8', 'ioperm.data.num>16'],
      'ioperm',
      [[from('=', 0x60n), arg(1, 64, false, '=', 8n)], [from('=', 0x60n), arg(1, 64, false, '>', 16n)], [from('>=', 0x3f8n), arg(1, 64, false, '=', 8n)], [from('>=', 0x3f8n), arg(1, 64, false, '>', 16n)]],
    ],
  ];
  for (const [what, events, event, expected] of table) {
    it(`${what}: ${JSON.stringify(events)}`, () => assert.deepEqual(plan(events).events[event].ebpf, expected));
  }

  it('ORs the policies: each keeps its own clause', () => {
    const p = planOf(policies(['grants', '    - event: ioperm\n      filters: [data.turn_on=1]\n'], ['kbd', '    - event: ioperm\n      filters: [data.from=0x64, data.num=1]\n']));
    assert.deepEqual(p.events.ioperm.ebpf, [[arg(2, 32, true, '=', 1n)], [arg(0, 64, false, '=', 0x64n), arg(1, 64, false, '=', 1n)]]);
    assert.deepEqual(probeFilters(p).argFilters, { ioperm: p.events.ioperm.ebpf });
  });

  it('pushes nothing for an event when one policy keeps every call of it, and says which', () => {
    const p = planOf(policies(['kbd', '    - event: ioperm\n      filters: [data.from=0x64]\n    - event: iopl\n      filters: [data.level=3]\n'], ['all', '    - event: ioperm\n']));
    assert.equal(p.events.ioperm.ebpf, undefined);
    assert.equal(p.events.ioperm.tracefs, undefined);
    assert.deepEqual(userSpace(p, 'ioperm', 'ebpf'), ['kbd: data.from=0x64 (policy all needs every ioperm call, so the kernel cannot filter)']);
    assert.deepEqual(p.events.iopl.ebpf, [[arg(0, 32, true, '=', 3n)]], 'the other event is still filtered');
    assert.deepEqual(Object.keys(probeFilters(p).argFilters ?? {}), ['iopl']);
  });

  it('a policy whose conditions the program cannot check (a thread id) leaves the event unfiltered for eBPF only', () => {
    const p = planOf(policies(['kbd', '    - event: ioperm\n      filters: [data.from=0x64]\n'], ['one-thread', '    - event: ioperm\n      filters: [hostTid=42]\n']));
    assert.equal(filterOf(p, 'ioperm'), 'from == 100 || common_pid == 42');
    assert.equal(p.events.ioperm.ebpf, undefined);
  });

  it(`pushes nothing past ${MAX_COMPARISONS} comparisons`, () => {
    const many = Array.from({ length: MAX_COMPARISONS + 1 }, (_, i) => `0x${(0x100 + i).toString(16)}`).join(',');
    const p = plan([`ioperm.data.from=${many}`]);
    assert.equal(p.events.ioperm.ebpf, undefined);
    assert.equal(p.events.ioperm.tracefs, undefined);
    assert.match(userSpace(p, 'ioperm', 'ebpf')[0], /more than 64 comparisons/);
    assert.deepEqual(plan([`ioperm.data.from=${many.split(',').slice(1).join(',')}`]).events.ioperm.ebpf?.[0][0].values.length, MAX_COMPARISONS);
  });
});

describe('kernel plan: no side effects', () => {
  /** The modules a compiled module imports, followed through relative imports. */
  function importsOf(file: string, seen = new Set<string>()): Set<string> {
    if (seen.has(file)) return seen;
    seen.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/gm)) {
      if (m[1].startsWith('.')) importsOf(resolve(dirname(file), m[1]), seen);
      else seen.add(m[1]);
    }
    return seen;
  }

  it('plans from the policies alone: it reaches no file system, process or mount, directly or through what it imports', () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const modules = [...importsOf(join(here, '../../src/policy/kernel-plan.js'))];
    assert.ok(modules.some((m) => m.endsWith('matchers.js')), modules.join(' '));
    assert.deepEqual(modules.filter((m) => !m.startsWith('/')), [], 'no package or node: module');
  });
});

describe('--explain', () => {
  it('prints each event, the filter each backend runs in the kernel, and where each condition runs', () => {
    const text = explainPlan(plan(['ioperm,iopl', 'ioperm.data.from>=0x3f8', 'ioperm.data.turn_on=1', 'ioperm.retval!=0', 'iopl.data.level=3'], ['comm=portprobe']), FIELDS);
    assert.equal(
      text,
      [
        'ioperm',
        '  tracefs filter: from >= 1016 && (turn_on == 1 || turn_on > 0xffffffff)',
        '  eBPF filter:    from >= 1016 && turn_on == 1',
        '  tracefs      eBPF',
        '  user         kernel+user  cli: comm=portprobe  (tracefs: string fields are not in the syscall record; eBPF: the program pre-filters the calling task to the values every policy allows; user space decides on the context read at exit)',
        '  kernel       kernel       cli: data.from>=0x3f8  (64-bit argument, compared exactly)',
        '  kernel+user  kernel       cli: data.turn_on=1  (tracefs: the kernel compares all 8 bytes, so calls with upper bits set pass to user space, which re-checks; eBPF: 32-bit argument: the program compares the low half of the register, as the syscall reads it)',
        '  user         user         cli: retval!=0  (the return value exists only at syscall exit)',
        'iopl',
        '  tracefs filter: level == 3 || level > 0xffffffff',
        '  eBPF filter:    level == 3',
        '  tracefs      eBPF',
        '  user         kernel+user  cli: comm=portprobe  (tracefs: string fields are not in the syscall record; eBPF: the program pre-filters the calling task to the values every policy allows; user space decides on the context read at exit)',
        '  kernel+user  kernel       cli: data.level=3  (tracefs: the kernel compares all 8 bytes, so calls with upper bits set pass to user space, which re-checks; eBPF: 32-bit argument: the program compares the low half of the register, as the syscall reads it)',
        'eBPF task pre-filter, every event: comms in {portprobe}',
        'User space evaluates every condition again to fill matchedPolicies.',
      ].join('\n'),
    );
  });

  it('shows two policies ORed, and the values of a set', () => {
    const p = planOf(policies(['grants', '    - event: ioperm\n      filters: [data.turn_on=1]\n'], ['kbd', '    - event: ioperm\n      filters: ["data.from=0x60,0x64", data.num=1]\n']));
    assert.match(explainPlan(p, FIELDS), /^  eBPF filter: {4}turn_on == 1 \|\| \(from in \{96, 100\} && num == 1\)$/m);
  });
});

describe('tracefs filters on the real kernel (private tracefs instance)', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
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
    const ours = filterOf(plan(['ioctl.data.request=0x5401']), 'ioctl') ?? 'unplanned';
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
