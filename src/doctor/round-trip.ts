import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ArgType, EventDefinition } from '../catalog/types.js';
import { errnoName } from '../enrich/errno.js';
import type { ArgValue, SyscallEvent } from '../model/event.js';
import { trace } from '../trace.js';
import type { CheckResult } from './check.js';
import type { TriggerCall, TriggerResult } from './trigger-child.js';

export type Backend = 'tracefs' | 'ebpf';

/** Distinctive, harmless args per event (a NULL attr, a closed fd, ports nobody drives from a child that exits at once). */
const TRIGGERS: Readonly<Record<string, { args: number[]; close?: boolean }>> = {
  ioperm: { args: [0x378, 3, 1] }, // turn_on=1: shows ENOSYS (no CONFIG_X86_IOPL_IOPERM) or EPERM (lockdown)
  iopl: { args: [3] },
  ioctl: { args: [987_654, 0x5413, 0x5741_5450] }, // TIOCGWINSZ on a closed fd: EBADF
  perf_event_open: { args: [0, -1, 0, -1, 8] }, // attr NULL: EFAULT before anything is opened
  userfaultfd: { args: [0x80800], close: true }, // O_CLOEXEC|O_NONBLOCK; the fd is closed at once
};

export interface RoundTripCall {
  event: string;
  abi: 'native' | 'compat';
  ret: number;
}

const list = (calls: readonly RoundTripCall[]): string => calls.map((c) => `${c.event} (= ${retText(c.ret)})`).join(', ');

function compatText(seen: readonly RoundTripCall[], compat: boolean): string {
  if (!compat) return ' (no 32-bit calls: this kernel runs none)';
  const calls = seen.filter((x) => x.abi === 'compat');
  return calls.length ? `, and as a 32-bit caller (int $0x80) ${calls.map((c) => c.event).join(', ')}` : '';
}

export interface RoundTripResult {
  result: CheckResult;
  /** What each call returned in the child (only calls Watchpost reported correctly). */
  seen: RoundTripCall[];
}

const CHILD = fileURLToPath(new URL('./trigger-child.js', import.meta.url));
const TIMEOUT_MS = 15_000;

export function canTrigger(name: string): boolean {
  return name in TRIGGERS;
}

/** The value Watchpost reports for a raw argument of the given JSON type. */
function expected(type: ArgType, raw: number): ArgValue {
  const big = BigInt(raw);
  switch (type) {
    case 'int32':
      return Number(BigInt.asIntN(32, big));
    case 'uint32':
      return Number(BigInt.asUintN(32, big));
    case 'int64':
      return BigInt.asIntN(64, big);
    case 'uint64':
      return BigInt.asUintN(64, big);
    case 'pointer':
      return `0x${BigInt.asUintN(64, big).toString(16)}`;
  }
}

const show = (v: ArgValue): string => String(v);
const retText = (ret: number): string => `${ret}${errnoName(ret) ? ` ${errnoName(ret)}` : ''}`;

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS)));
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Pairs each call the child made with what Watchpost reported: exactly one event, same thread, ABI, args and return value. */
export function compareCalls(
  events: readonly EventDefinition[],
  calls: readonly TriggerCall[],
  results: readonly TriggerResult[],
  got: readonly SyscallEvent[],
): { problems: string[]; seen: RoundTripCall[] } {
  const problems: string[] = [];
  const seen: RoundTripCall[] = [];
  calls.forEach((c, i) => {
    const e = events.find((x) => x.name === c.name)!;
    const r = results[i];
    const compat = c.abi === 'compat';
    const want = c.args.map((raw, k) => expected(e.args[k]?.type ?? 'uint64', raw));
    const wantText = `${compat ? '32-bit ' : ''}${e.name}(${want.map(show).join(', ')})`;
    if (!r) {
      problems.push(`${wantText}: the child did not report the call`);
      return;
    }
    const mine = got.filter((ev) => ev.eventName === e.name && ev.hostThreadId === r.tid && ev.contextFlags.isCompat === compat);
    const exact = mine.filter((ev) => ev.args.length === want.length && ev.args.every((a, k) => show(a.value) === show(want[k])));
    if (exact.length === 0) {
      const near = mine.map((ev) => `${e.name}(${ev.args.map((a) => show(a.value)).join(', ')})`);
      problems.push(`${wantText} = ${retText(r.ret)} not seen${near.length ? `; saw ${near.join(', ')}` : ''}`);
    } else if (exact.length > 1) {
      problems.push(`${wantText} reported ${exact.length} times`);
    } else if (exact[0].returnValue !== r.ret) {
      problems.push(`${wantText}: the child got ${retText(r.ret)}, Watchpost reported ${retText(exact[0].returnValue)}`);
    } else {
      seen.push({ event: e.name, abi: c.abi, ret: r.ret });
    }
  });
  return { problems, seen };
}

/**
 * Starts a child `node` that makes each event's syscall, traces it with `backend`, and checks that Watchpost
 * reported each call once, from the child's thread, with the args passed and the return value the child saw.
 */
export async function roundTrip(backend: Backend, events: readonly EventDefinition[], options: { compat: boolean }): Promise<RoundTripResult> {
  const name = `round trip (${backend})`;
  const selected = events.filter((e) => canTrigger(e.name));
  const skipped = events.filter((e) => !canTrigger(e.name)).map((e) => e.name);
  if (selected.length === 0) return { result: { status: 'warn', name, detail: `no trigger known for ${skipped.join(', ')}`, fix: 'select some of ioperm, iopl, ioctl, perf_event_open, userfaultfd with -e' }, seen: [] };
  const call = (e: EventDefinition, abi: TriggerCall['abi'], nr: number): TriggerCall => ({ name: e.name, abi, nr, args: TRIGGERS[e.name].args, close: TRIGGERS[e.name].close ?? false });
  const calls: TriggerCall[] = [
    ...selected.map((e) => call(e, 'native', e.nr)),
    ...(options.compat ? selected.flatMap((e) => (e.compatNr === undefined ? [] : [call(e, 'compat', e.compatNr)])) : []),
  ];
  const child = spawn(process.execPath, [CHILD, JSON.stringify(calls)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const got: SyscallEvent[] = [];
  const results: TriggerResult[] = [];
  try {
    const first = await withTimeout(lines.next(), 'the trigger child');
    if (first.done || first.value !== 'ready') throw new Error(`the trigger child did not start (${String(first.value)})`);
    const t = trace({ backend, events: selected.map((e) => e.name), pids: [child.pid!], compat: 'auto' });
    try {
      await withTimeout(t.ready, `trace() with the ${backend} backend`);
      if (t.backend !== backend) throw new Error(`trace() ran on ${t.backend}, not ${backend}`);
      let failure: unknown;
      const collecting = (async () => {
        for await (const ev of t) got.push(ev);
      })().catch((err: unknown) => {
        failure = err;
      });
      child.stdin.write('go\n');
      for (;;) {
        const r = await withTimeout(lines.next(), 'the trigger child');
        if (r.done) {
          await exited;
          const sig = child.signalCode;
          throw new Error(
            sig ? `the trigger child was killed by ${sig}${options.compat ? ' (a 32-bit int $0x80 call on a kernel without IA32 emulation?)' : ''}` : 'the trigger child ended before "done"',
          );
        }
        if (r.value === 'done') break;
        results.push(JSON.parse(r.value) as TriggerResult);
      }
      await new Promise((resolve) => setTimeout(resolve, 300)); // the probe reads its buffers every 10 ms
      await t.stop();
      await collecting;
      if (failure) throw failure;
    } finally {
      await t.stop();
    }
  } catch (err) {
    const why = String((err as Error)?.message ?? err).split('\n')[0];
    child.kill();
    await exited;
    return {
      result: { status: 'fail', name, detail: why, fix: backend === 'ebpf' ? 'see the BPF and BTF lines above' : 'see the root and tracefs lines above' },
      seen: [],
    };
  }
  child.stdin.end();
  await withTimeout(exited, 'the trigger child exit').catch(() => child.kill());

  const { problems, seen } = compareCalls(selected, calls, results, got);
  const skip = skipped.length ? `; not exercised (no trigger known): ${skipped.join(', ')}` : '';
  if (problems.length) {
    return {
      result: { status: 'fail', name, detail: `${problems.join('; ')}${skip}`, fix: 'run the tests (`sudo npm test`) and report the output with `uname -r`' },
      seen,
    };
  }
  return {
    result: {
      status: 'ok',
      name,
      detail: `a child made ${list(seen.filter((x) => x.abi === 'native'))}${compatText(seen, options.compat)}; Watchpost reported each once with the args passed and the return value the child saw${skip}`,
    },
    seen,
  };
}
