import { asTraceeEvents } from '../../../src/detect/finding-event.js';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseRecordedLine } from '../../../src/detect/recording.js';
import { createDetector } from '../../../src/detect/setup.js';
import type { SyscallEvent } from '../../../src/model/event.js';
import { inContainer, ioperm, syscallEvent } from '../../support/synthetic-event.js';

/** test/fixtures, found from dist/test/sinks/support at run time. */
export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../../../test/fixtures');

const UINT64_MAX = 0xffff_ffff_ffff_ffffn;
const ports = [{ first: 0x60, last: 0x60, owner: 'keyboard', source: 'ioports' as const }, { first: 0x61, last: 0x64, owner: 'unclaimed "x"', source: 'unknown' as const }];
const policies = Object.freeze(['cli', 'hw']) as unknown as string[];

/** Events whose JSON must not change: a real recording (events and the findings the detections make of them) and odd cases. */
export async function goldenEvents(): Promise<SyscallEvent[]> {
  const recorded: SyscallEvent[] = [];
  for (const line of readFileSync(join(FIXTURES, 'recording-sample.jsonl'), 'utf8').split('\n')) {
    const r = parseRecordedLine(line);
    if (r.kind === 'event') recorded.push(r.event);
  }
  const withFindings = asTraceeEvents((await createDetector({ findingWindow: false })).process(recorded, () => true)); // every finding, as outputs get them
  const thread = (over: Partial<SyscallEvent> = {}): Partial<SyscallEvent> => ({ threadId: 77, hostThreadId: 77, processId: 77, hostProcessId: 77, exactTimestamp: '1795994474357412314', ...over });
  const odd: SyscallEvent[] = [
    // one thread, its context changing under it: every cached part must follow
    ioperm(0x378, 3, 1, thread()),
    ioperm(0x378, 3, 1, thread({ processorId: 1, returnValue: -38, errno: 'ENOSYS' })),
    ioperm(0x378, 3, 1, thread({ processName: 'renamed' })),
    ioperm(0x378, 3, 1, thread({ executable: { path: '/usr/bin/other (deleted)' } })),
    ioperm(0x378, 3, 0, thread({ contextFlags: { containerStarted: false, isCompat: true } })),
    ioperm(0x378, 3, 0, thread({ contextFlags: { containerStarted: false, isCompat: true }, threadEntityId: 9, processEntityId: 10, parentEntityId: 11 })),
    ioperm(0x60, 5, 1, thread({ ports, matchedPolicies: policies })),
    ioperm(0x60, 5, 1, thread({ ports, matchedPolicies: ['cli', 'hw'] })),
    ioperm(0x60, 5, 1, thread({ ...inContainer(), containerRuntime: 'docker', contextFlags: { containerStarted: true, isCompat: false } })),
    ioperm(0x60, 5, 1, thread({ ...inContainer(), kubernetes: { podName: 'web-0', podNamespace: 'prod', podUID: 'f0e1-2', podSandbox: true } })),
    ioperm(0x60, 5, 1, thread({ threadStartTime: 1_600_000_000_000_000_123.5, timestamp: 1_795_994_474_357_412_300, exactTimestamp: undefined })),
    ioperm(0x60, 5, 1, thread({ userId: -1, cgroupId: 2 ** 40, mountNamespace: 0, pidNamespace: 4_294_967_295, stackAddresses: [0x401000, 0x402000] })),
    syscallEvent('iopl', [3], thread({ returnValue: -1, errno: 'EPERM' })),
    syscallEvent('iopl', [3], thread({ returnValue: -1, errno: 'EPERM', hostName: 'other-host' })),
    // strings that need escaping or are not ASCII, wide and negative numbers, pointers, nulls
    syscallEvent('ioctl', [-1, UINT64_MAX, 0n], { processName: 'ünï"co\\de\n\t\u0001', executable: { path: '/tmp/\u{1f600}/x\u2028y' } }),
    syscallEvent('ioctl', [2_147_483_647, 0x5401n, 2n ** 63n], { decoded: { request: 'TCGETS' }, returnValue: -25, errno: 'ENOTTY' }),
    syscallEvent('ioctl', [-2_147_483_648, 0x5401n, 1n], { decoded: { request: 'TCGETS' } }),
    syscallEvent('ioctl', [3, 'TCGETS', 1n], { decoded: { request: 'TCGETS' } }), // parse-arguments: a name for a value
    syscallEvent('perf_event_open', ['0x7ffd5e3c1a40', 0, -1, -1, 8n], { decoded: { attr: 'type=PERF_TYPE_SOFTWARE config=0', flags: 'PERF_FLAG_FD_CLOEXEC' } }),
    syscallEvent('openat', [-100, '/etc/pass\ud800wd', 0, 0], { truncatedArgs: ['pathname'] }), // a lone surrogate
    syscallEvent('openat', [-100, null, 0, 0], { unreadArgs: ['pathname'] }),
    syscallEvent('openat', [-100, '', 0x80000, 0o644], { processorId: 1023, returnValue: 3 }),
    syscallEvent('userfaultfd', [0], { metadata: { note: 'a "quoted" value', n: 12n, list: [1, 'two', null], nested: { big: 2n ** 64n } } }),
    syscallEvent('userfaultfd', [0], { threadStartTime: 0, processId: 0, threadId: 0, hostThreadId: 0, processName: '', executable: { path: '' }, hostName: '' }),
  ];
  // the same thread's event with one field changed, then back: each part of the cached text must notice its field
  const base = ioperm(0x70, 2, 1, thread({ ports, errno: 'ENOSYS', returnValue: -38, matchedPolicies: policies }));
  const one: Array<Partial<SyscallEvent>> = [
    { threadStartTime: 1_600_000_000_000_000_999 }, { processId: 78 }, { cgroupId: 9 }, { threadId: 79 }, { parentProcessId: 2 }, { hostProcessId: 80 },
    { hostParentProcessId: 3 }, { userId: 1000 }, { mountNamespace: 4026532000 }, { pidNamespace: 4026532001 }, { processName: 'portprob' },
    { executable: { path: '/usr/local/bin/portprobe2' } }, { hostName: 'host2' }, { containerId: 'abc' },
    { container: { id: 'abc', name: '', image: '', imageDigest: '' } }, { container: { id: '', name: 'n', image: '', imageDigest: '' } },
    { container: { id: '', name: '', image: 'i', imageDigest: '' } }, { container: { id: '', name: '', image: '', imageDigest: 'd' } },
    { kubernetes: { podName: 'p', podNamespace: '', podUID: '', podSandbox: false } }, { kubernetes: { podName: '', podNamespace: 'ns', podUID: '', podSandbox: false } },
    { kubernetes: { podName: '', podNamespace: '', podUID: 'u', podSandbox: false } }, { kubernetes: { podName: '', podNamespace: '', podUID: '', podSandbox: true } },
    { contextFlags: { containerStarted: true, isCompat: false } }, { threadEntityId: 5 }, { processEntityId: 6 }, { parentEntityId: 7 },
    { eventId: '9999' }, { syscall: 'ioperm2' }, { argsNum: 2 }, { matchedPolicies: ['cli'] }, { stackAddresses: [1] },
    { errno: 'EPERM' }, { errno: undefined }, { ports: [...ports] }, { ports: undefined }, { decoded: { from: 'x' } }, { containerRuntime: 'podman' },
    { truncatedArgs: ['from'] }, { unreadArgs: ['num'] }, { metadata: { k: 1 } }, { timestamp: 1, exactTimestamp: '2' }, { processorId: 3 }, { returnValue: 0 },
    { args: base.args.map((a, i) => (i === 1 ? { ...a, value: 3n } : a)) }, { args: base.args.map((a, i) => (i === 2 ? { ...a, name: 'turn' } : a)) },
    { args: base.args.map((a, i) => (i === 0 ? { ...a, type: 'uint32' as const } : a)) }, { args: base.args.slice(0, 2) },
  ];
  const varied = one.flatMap((over) => [base, { ...base, ...over }, base]);
  // decoded names: a value changed, the same names in another order
  const names: Array<Record<string, string>> = [{ from: 'a', num: 'b' }, { from: 'a', num: 'c' }, { from: 'a', num: 'b' }, { num: 'b', from: 'a' }, { from: 'a' }];
  const decoded = names.map((d) => ({ ...base, decoded: d }));
  return [...withFindings, ...odd, ...varied, ...decoded];
}
