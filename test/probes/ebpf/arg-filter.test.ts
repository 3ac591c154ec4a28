import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { findEvent } from '../../../src/catalog/events.js';
import { parsePolicyText } from '../../../src/policy/policy-file.js';
import { policyFromFlags } from '../../../src/policy/policy.js';
import { planKernelFilters, probeFilters } from '../../../src/policy/kernel-plan.js';
import type { PolicySpec } from '../../../src/policy/spec.js';
import { currentKernelLayout, EbpfProbe } from '../../../src/probes/ebpf/probe.js';
import { enterProgram, type HookKind } from '../../../src/probes/ebpf/syscall-programs.js';
import type { CompletedSyscall } from '../../../src/probes/types.js';
import { NO_32BIT, where32 } from '../../support/kernel-features.js';
import { type ObservedCall, startSyscaller, type Syscaller } from '../../support/syscaller.js';
import { collect, expected, seen } from './probe-helpers.js';

/**
 * The eBPF argument filters on the real kernel: the plan of a policy goes to the probe as trace() hands it over, the
 * helper makes matching and other calls, and only the matching ones may come out of the ring buffer; the others must
 * be counted as filtered in the kernel (so they were dropped at entry, not lost or dropped later).
 */

const HOOKS = ['btf', 'raw', 'tracepoint'] as const;
/** Events of the probe: ioperm and ioctl share a tracepoint program (three args each), the others do not. */
const EVENTS = ['ioperm', 'ioctl', 'iopl', 'perf_event_open', 'ptrace'].map((n) => findEvent(n)!);

const probes: EbpfProbe[] = [];
const helpers: Syscaller[] = [];
after(async () => {
  for (const p of probes) p.close();
  for (const h of helpers) await h.end();
});

const kept = (c: ObservedCall): string => `${c.call}(${c.args.slice(0, 3).map((a) => `0x${BigInt.asUintN(64, BigInt(a)).toString(16)}`).join(',')})`;

/** Traces the helper with the policies' plan; returns what arrived and what was counted as filtered, by event. */
async function run(policies: PolicySpec[], commands: string[], hook: HookKind): Promise<{ calls: ObservedCall[]; got: CompletedSyscall[]; filtered: Record<string, number> }> {
  const h = await startSyscaller(commands);
  helpers.push(h);
  const compat = hook !== 'tracepoint';
  const { argFilters } = probeFilters(planKernelFilters(policies, EVENTS));
  assert.ok(argFilters, 'the plan pushes an argument filter');
  const probe = new EbpfProbe({ events: EVENTS, compat, excludePids: [process.pid], pids: [h.pid], argFilters }, hook);
  probes.push(probe);
  const calls = (await h.go()).filter((c) => compat || c.abi === 'native');
  const got = await collect(probe, () => true, (n) => n >= calls.length);
  const filtered = probe.losses().filteredByEvent ?? {};
  probe.close();
  return { calls, got, filtered };
}

/** What the probe reports for a call: ioctl's request is an `unsigned int` in the kernel, so only its low half. */
function reported(c: ObservedCall): ReturnType<typeof expected> {
  const e = expected(c);
  if (e.event === 'ioctl') e.args[1] = BigInt.asUintN(32, e.args[1] as bigint);
  return e;
}

const cli = (...events: string[]): PolicySpec[] => [policyFromFlags({ events })];

interface Case {
  what: string;
  policies: PolicySpec[];
  commands: string[];
  /** The calls user space keeps (its own evaluation, as the policies define it). */
  keep: (c: ObservedCall) => boolean;
  /** Hooks the case needs (32-bit calls: the raw hooks only). */
  hooks?: readonly HookKind[];
}

const CASES: Case[] = [
  {
    what: 'ioperm.data.from=0x64: a 64-bit equality',
    policies: cli('ioperm.data.from=0x64'),
    commands: where32(['ioperm:0x80:1:0', 'ioperm:0x64:1:0', 'ioperm32:0x80:1:0', 'ioperm32:0x64:1:0', 'iopl:0']),
    keep: (c) => c.call.startsWith('iopl') || c.args[0] === 0x64,
  },
  {
    what: 'ioctl.data.request=0x5401: compared in the low 32 bits the kernel reads, so upper bits hide nothing',
    policies: cli('ioctl.data.request=0x5401'),
    commands: where32(['ioctl:-1:0x5401:0', 'ioctl:-1:0x100005401:0', 'ioctl:-1:0x5402:0', 'ioctl32:-1:0x5401:0', 'ioctl32:-1:0x5402:0', 'ioperm:0x80:1:0']),
    keep: (c) => c.call === 'ioperm' || (c.args[1] & 0xffffffff) === 0x5401,
  },
  {
    what: 'perf_event_open.data.pid=-1: a negative int32 (tracefs keeps it in user space)',
    policies: cli('perf_event_open.data.pid=-1'),
    commands: ['perf_event_open:0:-1:0:-1:0', 'perf_event_open:0:7:0:-1:0'],
    keep: (c) => c.args[1] === -1,
  },
  {
    what: 'ioperm.data.num>=2 and <=4: a range',
    policies: cli('ioperm.data.num>=2', 'ioperm.data.num<=4'),
    commands: ['ioperm:0x80:1:0', 'ioperm:0x80:3:0', 'ioperm:0x80:8:0'],
    keep: (c) => c.args[1] === 3,
  },
  {
    what: 'ioctl.data.fd!=-1 and ioperm.data.num!=1,2: none of the values',
    policies: cli('ioctl.data.fd!=-1', 'ioperm.data.num!=1,2'),
    commands: ['ioctl:-1:0x5401:0', 'ioctl:-2:0x5401:0', 'ioperm:0x80:1:0', 'ioperm:0x80:2:0', 'ioperm:0x80:3:0'],
    keep: (c) => (c.call === 'ioctl' ? c.args[0] !== -1 : c.args[1] > 2),
  },
  {
    what: 'two policies: either one keeps the call',
    policies: parsePolicyText(
      ['kbd', 'port80'].map((name, i) => `apiVersion: tracee.aquasec.com/v1beta1\nkind: Policy\nmetadata: {name: ${name}}\nspec:\n  scope: [global]\n  rules:\n    - event: ioperm\n      filters: [${i === 0 ? 'data.from=0x64' : 'data.from=0x80, data.num=8'}]\n`).join('---\n'),
      'two.yaml',
    ),
    commands: ['ioperm:0x64:1:0', 'ioperm:0x80:8:0', 'ioperm:0x80:1:0', 'ioperm:0x60:8:0'],
    keep: (c) => c.args[0] === 0x64 || (c.args[0] === 0x80 && c.args[1] === 8),
  },
  {
    what: "ptrace.data.request=-1 from 32-bit callers: a 64-bit signed argument is its register's low half, sign-extended",
    policies: cli('ptrace.data.request=-1'),
    commands: ['ptrace:-1:0:0:0', 'ptrace:-2:0:0:0', 'ptrace32:-1:0:0:0', 'ptrace32:-2:0:0:0'],
    keep: (c) => c.args[0] === -1,
    hooks: NO_32BIT ? [] : ['btf', 'raw'],
  },
];

describe('ebpf argument filters: only calls some policy keeps leave the kernel', { timeout: 120_000 }, () => {
  for (const c of CASES) {
    for (const hook of c.hooks ?? HOOKS) {
      it(`${c.what} (${hook})`, async () => {
        const { calls, got, filtered } = await run(c.policies, c.commands, hook);
        const want = calls.filter(c.keep);
        assert.ok(want.length > 0 && want.length < calls.length, `the case keeps some calls and drops others: ${calls.map(kept).join(' ')}`);
        assert.deepEqual(got.map(seen), want.map(reported), `kept: ${want.map(kept).join(' ')}`);
        const dropped: Record<string, number> = {};
        for (const x of calls.filter((x) => !c.keep(x))) dropped[expected(x).event] = (dropped[expected(x).event] ?? 0) + 1;
        assert.deepEqual(filtered, dropped, 'each dropped call is counted as filtered in the kernel');
      });
    }
  }

  for (const hook of HOOKS) {
    it(`a call a kill rule matches is recorded whatever the filters say (dry run, ${hook})`, async () => {
      const h = await startSyscaller(['ioperm:0x80:1:0', 'ioperm:0x64:1:0', 'ioperm:0x60:1:0', 'ioctl:-1:0x5401:0']);
      helpers.push(h);
      const { argFilters } = probeFilters(planKernelFilters(cli('ioperm.data.from=0x64', 'ioctl.data.request=0x5402'), EVENTS));
      const enforce = { rules: [{ nr: 173, conditions: [{ on: 'arg' as const, index: 0, width: 64 as const, signed: false, op: '=' as const, values: [0x80n] }] }], armed: false, allowExecutables: [] };
      const probe = new EbpfProbe({ events: EVENTS, compat: hook !== 'tracepoint', excludePids: [process.pid], pids: [h.pid], argFilters, enforce }, hook);
      probes.push(probe);
      await h.go();
      const got = await collect(probe, () => true, (n) => n >= 2);
      assert.deepEqual(got.map((s) => [s.event.name, s.args[0], s.enforcement]), [['ioperm', 0x80n, { rule: 0, killed: false }], ['ioperm', 0x64n, undefined]]);
      assert.deepEqual(probe.losses().filteredByEvent, { ioperm: 1, ioctl: 1 });
      probe.close();
    });
  }

  it('emits no instruction without an argument filter (the verifier refuses unreachable code)', () => {
    const layout = currentKernelLayout();
    const maps = { inflight: 3, inflightKind: 'task' as const, ringbuf: 4, losses: 5, eventLosses: 6, filtered: 7 };
    const plain = enterProgram({ hook: 'btf', nativeIds: [173], compatIds: [101], layout, maps });
    assert.deepEqual(enterProgram({ hook: 'btf', nativeIds: [173], compatIds: [101], layout, maps, argFilters: [] }), plain);
    const filtered = enterProgram({ hook: 'btf', nativeIds: [173], compatIds: [101], layout, maps, argFilters: [{ nr: 173, compatNr: 101, clauses: [[{ on: 'arg', index: 0, width: 64, signed: false, op: '=', values: [0x64n] }]] }] });
    assert.ok(filtered.length > plain.length);
  });
});
