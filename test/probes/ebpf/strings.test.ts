import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { eventToJson } from '../../../src/sinks/json.js';
import { eventToRow } from '../../../src/sinks/table.js';
import { EbpfProbe, ebpfSupport } from '../../../src/probes/ebpf/probe.js';
import { Entry, entrySize, Rec, RecordDecoder, recordSize, STRING_MAX, StrSlot, stringSlots } from '../../../src/probes/ebpf/record.js';
import type { HookKind } from '../../../src/probes/ebpf/syscall-programs.js';
import { type SyscallEvent, trace } from '../../../src/trace.js';
import { CLI } from '../../support/cli.js';
import { syscallEvent } from '../../support/synthetic-event.js';
import { traced } from '../../support/traced.js';
import { startSyscaller } from '../../support/syscaller.js';
import { findEvent } from '../../../src/catalog/events.js';
import { byName, collect } from './probe-helpers.js';

const openatEvent = findEvent('openat')!;

/** String args (openat's pathname) read from user memory at syscall entry by the eBPF backend, and filters on them. */

const support = ebpfSupport();
const skip = process.getuid?.() !== 0 ? 'needs root to trace' : support.ok ? false : `needs eBPF: ${support.reason}`;

const PATHS = ['/tmp/wp-str-a', '/tmp/wp-str-shadow', '/tmp/other-pass-x', '/etc/passwd', '/etc/hostname'];
const calls = [...PATHS.map((p) => `openat:${p}:0`), 'openatfresh:0'];

/** The paths of the helper's openat calls a trace with these -e expressions reported, in order (null: unread). */
async function reported(events: string[]): Promise<{ got: SyscallEvent[]; paths: Array<string | null>; filtered: number }> {
  const run = await traced({ backend: 'ebpf', events }, calls);
  const got = run.got.filter((e) => e.eventName === 'openat');
  return { got, paths: got.map((e) => e.args[1].value as string | null), filtered: run.stats.filtered.openat ?? 0 };
}

describe('openat pathname filters on the live eBPF trace', { skip, timeout: 120_000 }, () => {
  it('reports every call with its path as a string arg, and a path in a page never touched as unread (null)', async () => {
    const { got, paths } = await reported(['openat']);
    assert.deepEqual(paths, [...PATHS, null]);
    assert.deepEqual(got[0].args[1], { name: 'pathname', type: 'string', value: '/tmp/wp-str-a' });
    // The kernel read "" there (it faults the page in): ENOENT; the BPF read at entry could not, and says so.
    assert.equal(got[5].returnValue, -2);
    assert.deepEqual(got[5].unreadArgs, ['pathname']);
    assert.equal(got[0].unreadArgs, undefined);
    assert.match(eventToJson(got[3]), /\{"name":"pathname","type":"string","value":"\/etc\/passwd"\}/);
  });

  it('--backend auto with a string filter traces with eBPF', async () => {
    const t = trace({ events: ['openat', 'openat.data.pathname=/tmp/wp-*'], pids: [process.pid] });
    try {
      await t.ready;
      assert.equal(t.backend, 'ebpf');
    } finally {
      await t.stop();
    }
  });

  const cases: Array<[string, string, string[]]> = [
    ['prefix', 'openat.data.pathname=/tmp/wp-*', ['/tmp/wp-str-a', '/tmp/wp-str-shadow']],
    ['suffix', 'openat.data.pathname=*shadow', ['/tmp/wp-str-shadow']],
    ['contains', 'openat.data.pathname=*pass*', ['/tmp/other-pass-x', '/etc/passwd']],
    ['exact', 'openat.data.pathname=/etc/passwd', ['/etc/passwd']],
    ['exact, two values', 'openat.data.pathname=/etc/passwd,/etc/hostname', ['/etc/passwd', '/etc/hostname']],
    ['!=', 'openat.data.pathname!=/etc/passwd,/tmp/wp-*', ['/tmp/other-pass-x', '/etc/hostname']],
    ['the kernel name (filename) as an alias', 'openat.data.filename=*hostname', ['/etc/hostname']],
  ];
  for (const [what, filter, want] of cases) {
    it(`${what}: ${filter} reports exactly ${want.join(', ')}; the unread path never matches and is counted as filtered`, async () => {
      const { paths, filtered } = await reported(['openat', filter]);
      assert.deepEqual(paths, want);
      assert.equal(filtered, calls.length - want.length); // the unread one included
    });
  }
});

describe('long paths: the first 255 bytes, marked truncated', { skip, timeout: 60_000 }, () => {
  it('keeps a 255-byte path whole, cuts a 256- and a 300-byte one and marks them; a prefix filter still matches them', async () => {
    const run = await traced({ backend: 'ebpf', events: ['openat', 'openat.data.pathname=/tmp/wp-long-*'] }, ['openatlong:255:0', 'openatlong:256:0', 'openatlong:300:0']);
    const got = run.got.filter((e) => e.eventName === 'openat');
    const full = (n: number): string => `/tmp/wp-long-${'a'.repeat(n - 13)}`;
    assert.deepEqual(
      got.map((e) => ({ value: e.args[1].value, truncated: e.truncatedArgs })),
      [
        { value: full(255), truncated: undefined },
        { value: full(255), truncated: ['pathname'] },
        { value: full(255), truncated: ['pathname'] },
      ],
    );
    assert.match(eventToRow(got[2]), /pathname: "\/tmp\/wp-long-a+"\.\.\. \(truncated\)/);
  });
});

describe('string reads on every hook', { skip, timeout: 60_000 }, () => {
  for (const hook of ['btf', 'raw', 'tracepoint'] as HookKind[]) {
    it(`reads openat's path on ${hook}; ioperm records in the same run carry no strings`, async () => {
      const helper = await startSyscaller(['openat:/tmp/wp-hook-x:0', 'ioperm:0x80:1:0', 'openatfresh:0']);
      const probe = new EbpfProbe({ events: [openatEvent, byName('ioperm')], compat: hook !== 'tracepoint', excludePids: [process.pid], pids: [helper.pid] }, hook);
      try {
        const made = await helper.go();
        const got = await collect(probe, () => true, (n) => n >= made.length);
        assert.deepEqual(
          got.map((s) => ({ event: s.event.name, args: s.args, strings: s.strings })),
          [
            { event: 'openat', args: [-100, '/tmp/wp-hook-x', 0, 0], strings: { read: 2, truncated: 0, unread: 0 } },
            { event: 'ioperm', args: [0x80n, 1n, 0], strings: undefined },
            { event: 'openat', args: [-100, null, 0, 0], strings: { read: 2, truncated: 0, unread: 2 } },
          ],
        );
        assert.equal(probe.inflightKind, hook === 'raw' ? 'hash' : 'task');
      } finally {
        probe.close();
        await helper.end();
      }
    });
  }
});

describe('string slots in the record (synthetic bytes)', { timeout: 10_000 }, () => {
  it('leaves the ioperm family records and entries as they were: no slots', () => {
    const family = ['ioperm', 'iopl', 'ioctl', 'perf_event_open', 'userfaultfd'].map(byName);
    assert.equal(stringSlots(family), 0);
    assert.equal(recordSize(0, false), Rec.size);
    assert.equal(recordSize(0, true), Rec.entryReadSize);
    assert.equal(entrySize(0), Entry.size);
    assert.equal(stringSlots([openatEvent, byName('ioperm')]), 1);
    assert.equal(recordSize(1, false), 168 + 264);
  });

  const openat = openatEvent;
  const record = (result: number, truncated: number, text: Uint8Array): DataView => {
    const d = new DataView(new ArrayBuffer(recordSize(1, false)));
    d.setUint32(Rec.id, openat.nr, true);
    d.setBigUint64(Rec.args + 8, 0x7ffd1234n, true);
    d.setInt32(Rec.strings + StrSlot.result, result, true);
    d.setUint32(Rec.strings + StrSlot.truncated, truncated, true);
    new Uint8Array(d.buffer).set(text, Rec.strings + StrSlot.text);
    return d;
  };
  const decode = (d: DataView) => new RecordDecoder([openat]).decode(d, 0)!;

  it('decodes the text as UTF-8 up to the length the read returned', () => {
    const text = new TextEncoder().encode('/tmp/caf\u00e9\0stale bytes');
    const s = decode(record(11, 0, text));
    assert.equal(s.args[1], '/tmp/caf\u00e9');
    assert.deepEqual(s.strings, { read: 2, truncated: 0, unread: 0 });
  });

  it('a failed read (-EFAULT) is null and unread, never the stale bytes or the address', () => {
    const s = decode(record(-14, 0, new TextEncoder().encode('/old/path\0')));
    assert.equal(s.args[1], null);
    assert.deepEqual(s.strings, { read: 2, truncated: 0, unread: 2 });
  });

  it('a full buffer with the truncation mark is its first STRING_MAX - 1 bytes, marked', () => {
    const text = new Uint8Array(STRING_MAX).fill(0x61);
    text[STRING_MAX - 1] = 0;
    const s = decode(record(STRING_MAX, 1, text));
    assert.equal(s.args[1], 'a'.repeat(STRING_MAX - 1));
    assert.deepEqual(s.strings, { read: 2, truncated: 2, unread: 0 });
  });
});

describe('string args in the outputs', { timeout: 10_000 }, () => {
  const ev = (value: string | null, over: Partial<SyscallEvent> = {}): SyscallEvent => {
    const e = syscallEvent('openat', [-100, value, 0, 0], over);
    e.args[1].type = 'string';
    return e;
  };
  it('JSON: a string value with type string; truncatedArgs and unreadArgs after Tracee\'s fields', () => {
    assert.match(eventToJson(ev('/tmp/a "q"\n')), /"args":\[\{"name":"dirfd","type":"int32","value":-100\},\{"name":"pathname","type":"string","value":"\/tmp\/a \\"q\\"\\n"\}/);
    assert.match(eventToJson(ev('/tmp/aa', { truncatedArgs: ['pathname'] })), /"truncatedArgs":\["pathname"\]\}$/);
    assert.match(eventToJson(ev(null, { unreadArgs: ['pathname'] })), /"value":null\}.*"unreadArgs":\["pathname"\]\}$/);
  });
  it('table: quoted and escaped (no control bytes reach the terminal), marked when cut or unread', () => {
    assert.match(eventToRow(ev('/tmp/a\u001b[2J')), /pathname: "\/tmp\/a\\u001b\[2J", flags/);
    assert.match(eventToRow(ev(null, { unreadArgs: ['pathname'] })), /pathname: null \(unreadable\), flags/);
  });
});

describe('string filters and backends (CLI)', { timeout: 60_000 }, () => {
  const watchpost = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });
  it('tracefs: one line, exit 2, pointing to the eBPF backend', () => {
    const r = watchpost(['-e', 'openat', '-e', 'openat.data.pathname=/tmp/*', '--backend', 'tracefs']);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /openat\.data\.pathname=\/tmp\/\*: --backend tracefs sees only the string's address, not its text; use --backend ebpf/);
  });
  it('--explain says where a string filter runs', () => {
    const r = watchpost(['-e', 'openat', '-e', 'openat.data.pathname=*shadow', '--explain']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /user +cli: data\.pathname=\*shadow +\(.*the eBPF backend reads its text \(up to 255 bytes\) at syscall entry and user space compares it/);
  });
});
