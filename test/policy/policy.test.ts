import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../src/model/errors.js';
import type { SyscallEvent } from '../../src/model/event.js';
import { parsePolicyText } from '../../src/policy/policy-file.js';
import { type PolicyEnvironment, Policies, policyFromFlags } from '../../src/policy/policy.js';
import type { ScopeSubject } from '../../src/policy/scope-fields.js';
import type { PolicySpec } from '../../src/policy/spec.js';
import { usage } from './brief.js';
import { inContainer, ioperm, syscallEvent } from '../support/synthetic-event.js';

function cli(events: string[], scope: string[] = [], env: PolicyEnvironment = {}): Policies {
  return Policies.compile([policyFromFlags({ events, scope })], env);
}

function matches(p: Policies, e: SyscallEvent): boolean {
  return p.evaluate(e).length > 0;
}

describe('evaluate: -e filters', () => {
  const table: [string, string[], SyscallEvent, boolean][] = [
    ['turn_on=1 matches a grant', ['ioperm.data.turn_on=1'], ioperm(0x3f8, 8, 1), true],
    ['turn_on=1 skips a revoke', ['ioperm.data.turn_on=1'], ioperm(0x3f8, 8, 0), false],
    ['from>=0x3f8 matches COM1', ['ioperm.data.from>=0x3f8'], ioperm(0x3f8, 8, 1), true],
    ['from>=0x3f8 skips the keyboard controller', ['ioperm.data.from>=0x3f8'], ioperm(0x60, 1, 1), false],
    ['comma values are OR', ['ioperm.data.from=0x3f8,0x2f8'], ioperm(0x2f8, 8, 1), true],
    ['!= list excludes each', ['ioperm.data.from!=0x70,0x71'], ioperm(0x71, 1, 1), false],
    ['!= list keeps the rest', ['ioperm.data.from!=0x70,0x71'], ioperm(0x80, 1, 1), true],
    ['repeated bounds AND: inside', ['ioperm.data.from>=0x3f8', 'ioperm.data.from<=0x3ff'], ioperm(0x3fa, 1, 1), true],
    ['repeated bounds AND: outside', ['ioperm.data.from>=0x3f8', 'ioperm.data.from<=0x3ff'], ioperm(0x400, 1, 1), false],
    ['repeated = accumulate, as in Tracee', ['ioperm.data.from=0x60', 'ioperm.data.from=0x64'], ioperm(0x64, 1, 1), true],
    ['different fields AND', ['ioperm.data.from=0x3f8', 'ioperm.data.turn_on=1'], ioperm(0x3f8, 8, 0), false],
    ['retval!=0 matches a failure', ['ioperm.retval!=0'], ioperm(0x3f8, 8, 1, { returnValue: -1 }), true],
    ['retval!=0 skips success', ['ioperm.retval!=0'], ioperm(0x3f8, 8, 1), false],
    ['retval<0', ['ioperm.retval<0'], ioperm(0x3f8, 8, 1, { returnValue: -38 }), true],
    ['per-event comm', ['ioperm.scope.comm=portprobe'], ioperm(0x3f8, 8, 1), true],
    ['per-event comm prefix', ['ioperm.scope.comm=port*'], ioperm(0x3f8, 8, 1), true],
    ['per-event comm suffix miss', ['ioperm.scope.comm=*bash'], ioperm(0x3f8, 8, 1), false],
    ['per-event comm contains', ['ioperm.scope.comm=*tpro*'], ioperm(0x3f8, 8, 1), true],
    ['per-event comm != ', ['ioperm.scope.comm!=bash,zsh'], ioperm(0x3f8, 8, 1), true],
    ['per-event uid range', ['ioperm.scope.uid>=1000'], ioperm(0x3f8, 8, 1, { userId: 1000 }), true],
    ['per-event container, from the host', ['ioperm.scope.container'], ioperm(0x3f8, 8, 1), false],
    ['per-event container, from a container', ['ioperm.scope.container'], ioperm(0x3f8, 8, 1, inContainer()), true],
    ['negative int32 (perf_event_open pid=-1)', ['perf_event_open.data.pid=-1'], syscallEvent('perf_event_open', ['0x7ffc0000', -1, 0, -1, 0n]), true],
    ['pointer compares as a number', ['perf_event_open.data.attr=0x7ffc0000'], syscallEvent('perf_event_open', ['0x7ffc0000', -1, 0, -1, 0n]), true],
    ['a null argument never matches', ['ioperm.data.from=0'], syscallEvent('ioperm', [null, 1n, 1]), false],
    ['a 64-bit bound beyond 2^53', ['ioctl.data.arg>9007199254740993'], syscallEvent('ioctl', [3, 0x5401n, 9007199254740994n]), true],
    ['another event is not filtered', ['ioperm,iopl', 'ioperm.data.turn_on=1'], syscallEvent('iopl', [3]), true],
    ['an event not selected is dropped', ['ioperm'], syscallEvent('iopl', [3]), false],
  ];
  for (const [what, flags, event, expected] of table) it(what, () => assert.equal(matches(cli(flags), event), expected));
});

describe('evaluate: --scope', () => {
  const parents = new Map<number, Partial<ScopeSubject>>([
    [4242, { hostProcessId: 1000, processName: 'bash', userId: 1000 }],
    [1000, { hostProcessId: 1, processName: 'sshd', userId: 0 }],
    [1, { hostProcessId: 1, processName: 'systemd', userId: 0 }],
  ]);
  const env: PolicyEnvironment = {
    parentOf: (pid) => {
      const p = parents.get(pid);
      return p ? ({ ...ioperm(0, 0, 0), ...p } as ScopeSubject) : undefined;
    },
    isNewContainer: (s) => s.containerId.startsWith('ab35'),
    startedAtNs: 1_650_000_000_000_000_000,
  };
  const table: [string, string[], Partial<SyscallEvent>, boolean][] = [
    ['uid=0', ['uid=0'], {}, true],
    ['uid>=1000 skips root', ['uid>=1000'], {}, false],
    ['u>0 and u!=1000: 1001', ['u>0', 'u!=1000'], { userId: 1001 }, true],
    ['u>0 and u!=1000: 1000', ['u>0', 'u!=1000'], { userId: 1000 }, false],
    ['pid=1,4242 (host pid)', ['pid=1,4242'], { processId: 7 }, true],
    ['pid>0 and pid<1000', ['pid>0', 'pid<1000'], {}, false],
    ['pid=new: thread started before tracing', ['pid=new'], {}, false],
    ['pid=new: thread started after tracing', ['pid=new'], { threadStartTime: 1_660_000_000_000_000_000 }, true],
    ['comm=bash misses portprobe', ['comm=bash'], {}, false],
    ['comm=bash with follow reaches the child', ['comm=bash', 'follow'], {}, true],
    ['comm=sshd with follow reaches the grandchild', ['comm=sshd', 'follow'], {}, true],
    ['comm=cron with follow', ['comm=cron', 'follow'], {}, false],
    ['tree=1000: a grandchild', ['tree=1000'], {}, true],
    ['tree=1000 but not tree!=4242', ['tree=1000', 'tree!=4242'], {}, false],
    ['tree=77', ['tree=77'], {}, false],
    ['executable', ['executable=/usr/local/bin/portprobe'], {}, true],
    ['executable=host: on the host', ['executable=host:/usr/local/bin/portprobe'], {}, true],
    ['executable=host: in a container', ['executable=host:/usr/local/bin/portprobe'], inContainer(), false],
    ['executable in its mount namespace', ['exec=4026532448:/usr/local/bin/portprobe'], inContainer(), true],
    ['executable in another mount namespace', ['exec=4026532448:/usr/local/bin/portprobe'], {}, false],
    ['container from the host', ['container'], {}, false],
    ['container', ['container'], inContainer(), true],
    ['not-container', ['not-container'], {}, true],
    ['container=<short id>', ['container=ab356bc4dd554'], inContainer(), true],
    ['container=<other id>', ['container=ffff'], inContainer(), false],
    ['container!=<id> on the host', ['container!=ab356bc4dd554'], {}, false],
    ['container=new', ['container=new'], inContainer(), true],
    ['container=started', ['container=started'], { ...inContainer(), contextFlags: { containerStarted: true, isCompat: false } }, true],
    ['mntns', ['mntns=4026531840'], {}, true],
    ['pidns!=', ['pidns!=4026531836'], {}, false],
    ['uts', ['uts=host1'], {}, true],
    ['flags AND: uid=0 and comm=bash', ['uid=0', 'comm=bash'], {}, false],
  ];
  for (const [what, scope, over, expected] of table) it(what, () => assert.equal(matches(cli(['ioperm'], scope, env), ioperm(0x3f8, 8, 1, over)), expected));

  it('without a process tree, tree= still sees the direct parent', () => {
    assert.equal(matches(cli(['ioperm'], ['tree=1000']), ioperm(0x3f8, 8, 1)), true);
    assert.equal(matches(cli(['ioperm'], ['tree=1']), ioperm(0x3f8, 8, 1)), false);
  });
});

describe('Policies', () => {
  function spec(name: string, events: string[], scope: string[] = []): PolicySpec {
    return { ...policyFromFlags({ events, scope }, name), origin: `${name}.yaml` };
  }

  it('lists the policies an event matches, in load order', () => {
    const p = Policies.compile([spec('grants', ['ioperm.data.turn_on=1']), spec('com1', ['ioperm.data.from=0x3f8']), spec('root', ['iopl'], ['uid=0'])]);
    assert.deepEqual(p.evaluate(ioperm(0x3f8, 8, 1)), ['grants', 'com1']);
    assert.deepEqual(p.evaluate(ioperm(0x60, 1, 1)), ['grants']);
    assert.deepEqual(p.evaluate(ioperm(0x60, 1, 0)), []);
    assert.deepEqual(p.evaluate(syscallEvent('iopl', [3])), ['root']);
    assert.deepEqual([...p.selectedEvents()].sort(), ['ioperm', 'iopl']);
  });

  it('refuses a 65th policy', () => {
    const many = Array.from({ length: 65 }, (_, i) => spec(`p${i}`, ['ioperm']));
    assert.throws(() => Policies.compile(many), (e: unknown) => e instanceof UsageError && /65 policies given \(from p64.yaml on\); at most 64/.test(e.message));
    assert.equal(Policies.compile(many.slice(0, 64)).evaluate(ioperm(1, 1, 1)).length, 64);
  });

  it('refuses two policies with one name', () => {
    assert.throws(() => Policies.compile([spec('a', ['ioperm']), spec('a', ['iopl'])]), /a.yaml: policy name 'a' is already used by a.yaml/);
  });

  it('evaluates quickly and allocates only the result', () => {
    const p = Policies.compile([
      spec('grants', ['ioperm.data.turn_on=1', 'ioperm.data.from>=0x3f8']),
      spec('users', ['ioperm'], ['uid>=1000', 'comm=port*']),
      spec('failures', ['ioperm.retval!=0']),
    ]);
    const e = ioperm(0x3f8, 8, 1, { userId: 1000 });
    const n = 200_000;
    let hits = 0;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) hits += p.evaluate(e).length;
    const perEvent = Number(process.hrtime.bigint() - t0) / n;
    assert.equal(hits, 2 * n);
    assert.ok(perEvent < 2000, `${perEvent.toFixed(0)} ns per event`);
  });
});

describe("a policy from Tracee's documentation, adapted to the ioperm family", () => {
  // Tracee docs (policies/index.md, rules.md): overview-policy with a global scope, a bare event, a data filter,
  // a scope filter and a return-value filter; the events are swapped for the ioperm family, nothing else changed.
  const yaml = `apiVersion: tracee.aquasec.com/v1beta1
kind: Policy
metadata:
    name: overview-policy
    annotations:
        description: sample overview policy
spec:
    scope:
      - global
    defaultActions:
      - log
    rules:
      - event: iopl
      - event: ioperm
        filters:
        - data.from=0x3f8*
      - event: perf_event_open
        filters:
        - uid=0
      - event: ioctl
        filters:
        - retval!=0
`;

  it('refuses a string wildcard on a numeric field, naming file, line and column', () => {
    assert.throws(() => parsePolicyText(yaml, 'overview.yaml'), usage(/^overview.yaml:16:21: ioperm.data.from value '0x3f8\*' is not a number; write a 64-bit unsigned integer/));
  });

  const fixed = yaml.replace('data.from=0x3f8*', 'data.from>=0x3f8');
  const p = Policies.compile(parsePolicyText(fixed, 'overview.yaml'));

  it('parses unchanged otherwise', () => {
    const [spec] = parsePolicyText(fixed, 'overview.yaml');
    assert.equal(spec.name, 'overview-policy');
    assert.equal(spec.description, 'sample overview policy');
    assert.deepEqual(spec.defaultActions, ['log']);
    assert.equal(spec.scope.global, true);
    assert.deepEqual(spec.rules.map((r) => r.event), ['iopl', 'ioperm', 'perf_event_open', 'ioctl']);
  });

  const table: [string, SyscallEvent, string[]][] = [
    ['every iopl call', syscallEvent('iopl', [3], { userId: 1000 }), ['overview-policy']],
    ['ioperm on COM1', ioperm(0x3f8, 8, 1), ['overview-policy']],
    ['ioperm on the keyboard controller', ioperm(0x60, 1, 1), []],
    ['perf_event_open by root', syscallEvent('perf_event_open', ['0x7ffc0000', -1, 0, -1, 0n]), ['overview-policy']],
    ['perf_event_open by a user', syscallEvent('perf_event_open', ['0x7ffc0000', -1, 0, -1, 0n], { userId: 1000 }), []],
    ['a failed ioctl', syscallEvent('ioctl', [3, 0x5401n, 0n], { returnValue: -25 }), ['overview-policy']],
    ['a successful ioctl', syscallEvent('ioctl', [3, 0x5401n, 0n]), []],
    ['userfaultfd is not in the policy', syscallEvent('userfaultfd', [0]), []],
  ];
  for (const [what, event, expected] of table) it(`matches ${what}: ${JSON.stringify(expected)}`, () => assert.deepEqual(p.evaluate(event), expected));
});

describe('evaluate: 32-bit arguments are judged as the kernel reads them', () => {
  const table: [string, string[], SyscallEvent, boolean][] = [
    ['ioctl request with junk in the upper half is still TCGETS', ['ioctl.data.request=0x5401'], syscallEvent('ioctl', [3, 0x1_0000_5401n, 0n]), true],
    ['turn_on with junk in the upper half is still 1', ['ioperm.data.turn_on=1'], syscallEvent('ioperm', [0x3f8n, 1n, 0x1_0000_0001]), true],
    ['turn_on 0x1_0000_0000 is 0 to the kernel', ['ioperm.data.turn_on=1'], syscallEvent('ioperm', [0x3f8n, 1n, 0x1_0000_0000]), false],
    ['a sign-extended -1 as bigint is -1', ['perf_event_open.data.pid=-1'], syscallEvent('perf_event_open', ['0x0', 0xffff_ffff_ffff_ffffn, 0, -1, 0n]), true],
    ['64-bit arguments keep every bit', ['ioperm.data.from=0x3f8'], syscallEvent('ioperm', [0x1_0000_03f8n, 1n, 1]), false],
  ];
  for (const [what, flags, event, expected] of table) it(what, () => assert.equal(cli(flags).evaluate(event).length > 0, expected));
});
