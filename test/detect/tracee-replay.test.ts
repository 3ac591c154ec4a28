import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseRecordedLine } from '../../src/detect/recording.js';
import { removeTree, tempDir } from './live.js';
import { replayJson, runCliUnprivileged } from './replay-cli.js';

/** Recordings from Tracee (`tracee -o json`): its field names, C type names and layout, mapped onto Watchpost's events. */

const dir = tempDir('wp-tracee-');
after(() => removeTree(dir));

const CID = '3f2a9c1e5b7d'.padEnd(64, '0');

// As Tracee 0.2x prints a syscall event: eventId a string, args with C type names, container and kubernetes objects.
const TRACEE_IOPERM = JSON.stringify({
  timestamp: 1732457712345678900, threadStartTime: 1732457700000000000, processorId: 3, processId: 7, cgroupId: 6789, threadId: 7,
  parentProcessId: 1, hostProcessId: 48211, hostThreadId: 48211, hostParentProcessId: 48190, userId: 0, mountNamespace: 4026532500,
  pidNamespace: 4026532503, processName: 'probe', executable: { path: '/opt/probe/probe' }, hostName: 'web-7d9f', containerId: CID,
  container: { id: CID, name: 'web', image: 'docker.io/library/nginx:1.25', imageDigest: 'sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31' },
  kubernetes: { podName: 'web-7d9f', podNamespace: 'shop', podUID: '6f1c2a3b-0c4d-4e5f-8a9b-0c1d2e3f4a5b', podSandbox: false },
  eventId: '173', eventName: 'ioperm', matchedPolicies: ['default'], argsNum: 3, returnValue: 0, syscall: 'ioperm', stackAddresses: null,
  contextFlags: { containerStarted: true, isCompat: false }, threadEntityId: 1423577811, processEntityId: 1423577811, parentEntityId: 2237148860,
  args: [{ name: 'from', type: 'unsigned long', value: 112 }, { name: 'num', type: 'unsigned long', value: 2 }, { name: 'turn_on', type: 'int', value: 1 }],
});
// Tracee before 0.20: container and pod fields flat.
const TRACEE_OLD_IOPL = JSON.stringify({
  timestamp: 1732457712345999900, processorId: 1, processId: 9, threadId: 9, parentProcessId: 1, hostProcessId: 48300, hostThreadId: 48300,
  hostParentProcessId: 48190, userId: 0, mountNamespace: 4026532500, pidNamespace: 4026532503, processName: 'xserver', hostName: 'web-7d9f',
  containerId: CID, containerImage: 'docker.io/library/nginx:1.25', containerName: 'web', podName: 'web-7d9f', podNamespace: 'shop',
  podUID: '6f1c2a3b-0c4d-4e5f-8a9b-0c1d2e3f4a5b', eventId: '172', eventName: 'iopl', argsNum: 1, returnValue: -1,
  args: [{ name: 'level', type: 'int', value: 3 }],
});
const TRACEE_FINDING = JSON.stringify({
  timestamp: 1732457712346000000, processId: 7, eventId: '6018', eventName: 'anti_debugging', returnValue: 0, args: [],
  metadata: { Version: '1', Description: 'x', Tags: null, Properties: { Severity: 1, signatureID: 'TRC-102', signatureName: 'Anti-Debugging detected' } },
});
// Not a syscall: an LSM hook event, which no Watchpost signature selects.
const TRACEE_LSM = JSON.stringify({ eventId: '730', eventName: 'security_file_open', returnValue: 0, args: [{ name: 'pathname', type: 'const char*', value: '/etc/shadow' }] });

describe('replay of Tracee JSON', () => {
  it('maps a Tracee event onto ours: catalog types, exact 64-bit values, container and pod, derived errno and ports', () => {
    const r = parseRecordedLine(TRACEE_IOPERM);
    assert.equal(r.kind, 'event');
    if (r.kind !== 'event') return;
    const ev = r.event;
    assert.deepEqual(ev.args, [
      { name: 'from', type: 'uint64', value: 112n },
      { name: 'num', type: 'uint64', value: 2n },
      { name: 'turn_on', type: 'int32', value: 1 },
    ]);
    assert.equal(ev.container.image, 'docker.io/library/nginx:1.25');
    assert.equal(ev.kubernetes.podNamespace, 'shop');
    assert.equal(ev.ports?.[0].first, 0x70);
    const old = parseRecordedLine(TRACEE_OLD_IOPL);
    assert.equal(old.kind === 'event' && old.event.container.name, 'web');
    assert.equal(old.kind === 'event' && old.event.errno, 'EPERM');
    const big = parseRecordedLine('{"eventId":"16","eventName":"ioctl","returnValue":0,"args":[{"name":"fd","type":"int","value":3},{"name":"request","type":"unsigned long","value":18446744073709551615},{"name":"arg","type":"unsigned long","value":"0x7ffd1234"}]}');
    assert.equal(big.kind === 'event' && big.event.args[1].value, 18446744073709551615n, 'uint64 kept exact, not rounded by JSON.parse');
    assert.equal(big.kind === 'event' && big.event.args[2].value, 0x7ffd1234n);
  });

  it('prints findings for a Tracee recording (no root), skips its findings and other events, counts malformed lines', async () => {
    const file = join(dir, 'tracee.jsonl');
    const bad = [
      '{"eventName":"ioperm","returnValue":0,"args":[{"name":"from","type":"unsigned long","value":{"x":1}}]}',
      '{"timestamp":1732457712,"eventName":"iopl","returnV',
      'Tracee 0.22.0 started',
    ];
    writeFileSync(file, [TRACEE_IOPERM, TRACEE_FINDING, bad[0], TRACEE_LSM, bad[1], TRACEE_OLD_IOPL, '', bad[2]].join('\n') + '\n');
    const r = await replayJson(file);
    assert.equal(r.code, 0, r.stderr);
    const found = r.lines.map((l) => JSON.parse(l) as { eventName: string; hostProcessId: number; container: { name: string }; kubernetes: { podName: string }; metadata: { Properties: { signatureID: string }; triggeredBy: { id: number; args: unknown[] } } });
    assert.deepEqual(
      found.map((f) => `${f.hostProcessId} ${f.metadata.Properties.signatureID}`),
      ['48211 WP-001', '48211 WP-002', '48211 WP-003', '48211 WP-005', '48300 WP-002', '48300 WP-004', '48300 WP-005'],
      'granted ioperm of the CMOS ports from a container by an unknown program; a refused iopl(3) from the same container',
    );
    assert.equal(found[0].container.name, 'web');
    assert.equal(found[0].kubernetes.podName, 'web-7d9f');
    assert.deepEqual(found[0].metadata.triggeredBy, { id: 173, name: 'ioperm', args: [{ name: 'from', type: 'uint64', value: 112 }, { name: 'num', type: 'uint64', value: 2 }, { name: 'turn_on', type: 'int32', value: 1 }], returnValue: 0 });
    const summary = JSON.parse(r.stderr.trim().split('\n')[0]) as { replay: Record<string, unknown> };
    assert.equal(summary.replay.lines, 8, r.stderr);
    assert.equal(summary.replay.events, 2, r.stderr);
    assert.equal(summary.replay.findingsInRecording, 1);
    assert.equal(summary.replay.otherLines, 2, 'security_file_open and the empty line');
    assert.equal(summary.replay.malformed, 3);
    assert.match(String(summary.replay.firstMalformed), /^line 3: ioperm: arg from has a value of the wrong kind/);
  });

  it('prints the same findings as a table, with the ! marker and severity and no colour off a terminal', async () => {
    const file = join(dir, 'tracee-table.jsonl');
    writeFileSync(file, `${TRACEE_IOPERM}\n`);
    const r = await runCliUnprivileged(['replay', file], [dir, file]);
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.trim().split('\n');
    assert.match(rows[0], /^TIME\s+UID\s+COMM\s+PID\s+TID\s+RET\s+EVENT\s+ARGS$/);
    assert.equal(rows.length, 5);
    assert.match(rows[3], /^\S+\s+0\s+probe\s+7\s+7\s+0\s+!critical io_port_critical WP-003: Critical I\/O ports requested, call: ioperm\(from=0x70, num=2, turn_on=1\) = 0, critical: 0x70-0x71 CMOS/);
    assert.ok(!r.stdout.includes('\x1b['), 'no ANSI colour when stdout is not a terminal');
    assert.match(r.stderr, /^watchpost replay: .*tracee-table\.jsonl: 1 events, 4 findings \(WP-001 1, WP-002 1, WP-003 1, WP-005 1\), 0 other lines skipped, 0 malformed\n$/);
  });

  it('says which recording cannot be read, exit 2', async () => {
    const r = await runCliUnprivileged(['replay', join(dir, 'nope.jsonl')]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^watchpost: replay .*nope\.jsonl: cannot read it \(ENOENT\); give a recording made with -o json:FILE/);
  });
});
