import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseRecordedLine, type RecordedLine } from '../../src/detect/recording.js';
import { removeTree, tempDir } from './live.js';
import { replayJson } from './replay-cli.js';

/** Every line Tracee writes is read (arrays of strings, structures, null args, older names); hostile lines are counted, never thrown. */

const dir = tempDir('wp-tracee-lines-');
after(() => removeTree(dir));

const base = { timestamp: 1732457712345678901, processId: 7, threadId: 7, hostProcessId: 48211, hostThreadId: 48211, userId: 0, processName: 'sh', returnValue: 0 };
const line = (o: Record<string, unknown>): string => JSON.stringify({ ...base, ...o });
const event = (r: RecordedLine) => {
  if (r.kind !== 'event') assert.fail(`not an event: ${JSON.stringify(r)}`);
  return r;
};

// Written the way Tracee's JSON output prints these syscalls (its field names and its types: string, []string, SockAddr, trace.Pointer).
const EXECVE = line({
  eventId: '59', eventName: 'execve', argsNum: 3, syscall: 'execve',
  args: [{ name: 'pathname', type: 'string', value: '/bin/ls' }, { name: 'argv', type: '[]string', value: ['ls', '-l', '/tmp'] }, { name: 'envp', type: '[]string', value: null }],
});
const CLONE = line({
  eventId: '56', eventName: 'clone', argsNum: 5, returnValue: 4242,
  args: [
    { name: 'flags', type: 'uint64', value: 18874385 }, { name: 'stack', type: 'trace.Pointer', value: '0x0' },
    { name: 'parent_tid', type: 'trace.Pointer', value: '0x0' }, { name: 'child_tid', type: 'trace.Pointer', value: '0x7f3a2c1e9a10' }, { name: 'tls', type: 'uint64', value: 0 },
  ],
});
const CONNECT = line({
  eventId: '42', eventName: 'connect', argsNum: 3, returnValue: -111,
  args: [{ name: 'sockfd', type: 'int32', value: 3 }, { name: 'addr', type: 'SockAddr', value: { sa_family: 'AF_INET', sin_port: '443', sin_addr: '10.0.0.1' } }, { name: 'addrlen', type: 'int32', value: 16 }],
});

describe('replay reads the lines Tracee writes', { timeout: 60_000 }, () => {
  it("execve with argv as an array of strings: kept, the pathname as text, Tracee's null envp as null", () => {
    const { event: ev, droppedArgs } = event(parseRecordedLine(EXECVE));
    assert.deepEqual(ev.args.map((a) => [a.name, a.value]), [['pathname', '/bin/ls'], ['argv', '["ls","-l","/tmp"]'], ['envp', null]]);
    assert.equal(droppedArgs, 0);
  });
  it("clone by Tracee's names keeps all five args; connect keeps the socket address; the errno is derived", () => {
    const clone = event(parseRecordedLine(CLONE));
    assert.deepEqual(clone.event.args.map((a) => a.name), ['flags', 'stack', 'parent_tid', 'child_tid', 'tls']);
    assert.equal(clone.event.args[0].value, 18874385n);
    assert.equal(clone.droppedArgs, 0);
    const connect = event(parseRecordedLine(CONNECT));
    assert.equal(JSON.parse(connect.event.args[1].value as string).sin_addr, '10.0.0.1');
    assert.equal(connect.event.errno, 'ECONNREFUSED');
  });
  it('args null or absent (Tracee when it read none) give an event without args', () => {
    assert.equal(event(parseRecordedLine(line({ eventId: '39', eventName: 'getpid', args: null }))).event.args.length, 0);
    assert.equal(event(parseRecordedLine(line({ eventId: '39', eventName: 'getpid' }))).event.args.length, 0);
  });
  it("an older recording's kernel names (dfd, filename) land on Tracee's names; an arg the catalog does not know is counted", () => {
    const r = event(parseRecordedLine(line({ eventName: 'openat', args: [{ name: 'dfd', type: 'int', value: -100 }, { name: 'filename', type: 'const char*', value: '/etc/passwd' }, { name: 'bogus', type: 'int', value: 1 }] })));
    assert.deepEqual(r.event.args.map((a) => [a.name, a.value]), [['dirfd', -100], ['pathname', '/etc/passwd']]);
    assert.equal(r.droppedArgs, 1);
  });
  it('keeps the ports recorded with the event instead of naming them from this machine', () => {
    const ports = [{ first: 0x70, last: 0x71, owner: 'rtc0 (recorded)', source: 'ioports' }];
    const r = event(parseRecordedLine(line({ eventName: 'ioperm', args: [{ name: 'from', type: 'uint64', value: 0x70 }, { name: 'num', type: 'uint64', value: 2 }, { name: 'turn_on', type: 'int32', value: 1 }], ports })));
    assert.deepEqual(r.event.ports, ports);
  });
});

describe('replay treats its input as hostile', { timeout: 60_000 }, () => {
  const ioperm = (extra: Record<string, unknown>): string => line({ eventName: 'ioperm', args: [{ name: 'from', type: 'uint64', value: 0x70 }, { name: 'num', type: 'uint64', value: 2 }, { name: 'turn_on', type: 'int32', value: 1 }], ...extra });
  const cases: [string, string, RegExp][] = [
    ['ports with an empty range', ioperm({ ports: [{}] }), /ports is not a list/],
    ['ports not a list', ioperm({ ports: 'x' }), /ports is not a list/],
    ['decoded with a number', ioperm({ decoded: { from: 1 } }), /decoded is not an object of strings/],
    ['errno a number', ioperm({ errno: 5 }), /errno is not a string/],
    ['args an object', line({ eventName: 'ioperm', args: {} }), /args is not a list/],
    ['an arg without a name', line({ eventName: 'ioperm', args: [1] }), /an arg has no name/],
    ['a number arg holding a structure', line({ eventName: 'ioperm', args: [{ name: 'from', value: { x: 1 } }] }), /arg from has a value of the wrong kind/],
    ['returnValue a string', ioperm({ returnValue: 'ok' }), /returnValue is not an integer/],
    ['not JSON', '{"eventName":', /not JSON/],
  ];
  for (const [what, text, why] of cases) {
    it(`${what}: malformed, with the reason`, () => {
      const r = parseRecordedLine(text);
      assert.equal(r.kind, 'malformed');
      assert.match(r.kind === 'malformed' ? r.why : '', why);
    });
  }
  it('never throws on a thousand mutations of a valid line', () => {
    const values: unknown[] = [null, {}, [], [{}], [null], 'x', -1, 1e300, true, { __proto__: { a: 1 } }, [[1]]];
    const fields = ['args', 'ports', 'decoded', 'metadata', 'container', 'kubernetes', 'contextFlags', 'executable', 'matchedPolicies', 'stackAddresses', 'errno', 'returnValue', 'timestamp'];
    let n = 0;
    for (const f of fields) for (const v of values) for (const t of [EXECVE, CLONE, CONNECT, ioperm({})]) {
      const o = JSON.parse(t) as Record<string, unknown>;
      o[f] = v;
      assert.doesNotThrow(() => parseRecordedLine(JSON.stringify(o)));
      n++;
    }
    assert.ok(n > 500);
  });
  it('the CLI skips and counts each bad line, and replays the good ones around it', async () => {
    const file = join(dir, 'mixed.jsonl');
    writeFileSync(file, [EXECVE, ioperm({ ports: [{}] }), CLONE, '{"eventName":', CONNECT, ioperm({})].join('\n') + '\n');
    const r = await replayJson(file);
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stderr.split('\n').find((l) => l.startsWith('{"replay"'))!).replay;
    assert.equal(summary.events, 4);
    assert.equal(summary.malformed, 2);
    assert.match(summary.firstMalformed, /^line 2: ioperm: ports is not a list/);
  });
});
