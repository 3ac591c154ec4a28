import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../src/model/errors.js';
import { parseEventsFlags } from '../../src/policy/events-grammar.js';
import { brief } from './brief.js';

function parsed(values: string[]): { events: string[]; filters: Record<string, string[]> } {
  const s = parseEventsFlags(values);
  return { events: s.events, filters: Object.fromEntries(Object.entries(s.filters).map(([k, v]) => [k, v.map(brief)])) };
}

describe('--events selects events as Tracee does', () => {
  const table: [string, string[], string[]][] = [
    ['no flag means the defaults', [], ['ioperm', 'iopl']],
    ['one name', ['ioperm'], ['ioperm']],
    ['a comma list (Tracee: --events execve,open)', ['ioperm,ioctl'], ['ioperm', 'ioctl']],
    ["a set, with Tracee's membership", ['fs_fd_ops'], ['ioctl', 'dup', 'dup2', 'fcntl', 'flock', 'dup3']],
    ["tag= selects sets (Tracee: --events tag=fs_fd_ops)", ['tag=fs_fd_ops'], ['ioctl', 'dup', 'dup2', 'fcntl', 'flock', 'dup3']],
    ['glob exclusions (Tracee: --events -open*,-dup*) trim the defaults', ['-iopl*'], ['ioperm']],
    ['repeated flags add up', ['ioperm', 'iopl'], ['ioperm', 'iopl']],
    ['a filter selects its event', ['ioperm.data.turn_on=1'], ['ioperm']],
  ];
  for (const [what, values, events] of table) {
    it(`${what}: ${JSON.stringify(values)}`, () => assert.deepEqual(parseEventsFlags(values).events, events));
  }

  // globs and the set "syscalls" reach every syscall the kernel can trace, not only the family
  it('a prefix glob (Tracee: --events open*): ["io*"]', () => {
    const events = parseEventsFlags(['io*']).events;
    for (const n of ['ioperm', 'iopl', 'ioctl', 'io_setup', 'ioprio_set']) assert.ok(events.includes(n), n);
    assert.ok(events.every((n) => n.startsWith('io')));
    assert.deepEqual(events.slice(0, 3), ['ioperm', 'iopl', 'ioctl'], 'the family first');
  });
  it('a suffix glob: ["*fd"]', () => {
    const events = parseEventsFlags(['*fd']).events;
    for (const n of ['userfaultfd', 'eventfd', 'signalfd']) assert.ok(events.includes(n), n);
    assert.ok(events.every((n) => n.endsWith('fd')));
  });
  it('a set minus an exclusion (Tracee: --events fs,-dup*): ["syscalls,-ioctl"]', () => {
    const events = parseEventsFlags(['syscalls,-ioctl']).events;
    assert.ok(events.length > 300);
    assert.ok(!events.includes('ioctl'));
    for (const n of ['ioperm', 'iopl', 'perf_event_open', 'userfaultfd', 'openat']) assert.ok(events.includes(n), n);
  });
  it('exclusions in their own flag (Tracee: --events tag=fs --events -open,-openat): ["syscalls","-ioctl,-iopl"]', () => {
    const events = parseEventsFlags(['syscalls', '-ioctl,-iopl']).events;
    assert.ok(!events.includes('ioctl') && !events.includes('iopl'));
    assert.ok(events.includes('ioperm') && events.includes('openat'));
  });
});

describe('--events filters', () => {
  const table: [string, string[], Record<string, string[]>][] = [
    ['a data equality (Tracee: close.data.fd=5)', ['ioperm.data.turn_on=1'], { ioperm: ['arg:turn_on = 1'] }],
    ['a hex lower bound', ['ioperm.data.from>=0x3f8'], { ioperm: ['arg:from >= 1016'] }],
    ['every numeric operator', ['ioperm.data.from<0x400', 'ioperm.data.from>0x3f7', 'ioperm.data.num<=8', 'ioperm.data.num!=0'], {
      ioperm: ['arg:from < 1024', 'arg:from > 1015', 'arg:num <= 8', 'arg:num != 0'],
    }],
    ['comma values (OR)', ['ioperm.data.from=0x3f8,0x2f8'], { ioperm: ['arg:from = 1016,760'] }],
    ['exclusion list (Tracee: pathname!=/tmp/1,/bin/ls)', ['ioperm.data.from!=0x70,0x71'], { ioperm: ['arg:from != 112,113'] }],
    ['negative int32 values', ['perf_event_open.data.pid=-1'], { perf_event_open: ['arg:pid = -1'] }],
    ['args. is Tracee\'s old name for data.', ['ioperm.args.num=1'], { ioperm: ['arg:num = 1'] }],
    ['return value (Tracee: close.retval!=0)', ['ioperm.retval!=0'], { ioperm: ['retval != 0'] }],
    ['negative return value', ['ioperm.retval=-1'], { ioperm: ['retval = -1'] }],
    ['return value range', ['ioperm.retval<0'], { ioperm: ['retval < 0'] }],
    ['per-event comm (Tracee: openat.scope.processName=ls)', ['ioperm.scope.processName=ls'], { ioperm: ['field:processName = exact:ls'] }],
    ['per-event comm alias', ['ioperm.scope.comm=x'], { ioperm: ['field:processName = exact:x'] }],
    ['per-event comm wildcard prefix', ['ioperm.scope.comm=port*'], { ioperm: ['field:processName = prefix:port'] }],
    ['per-event suffix and contains', ['ioperm.scope.executable=*probe,*local*'], { ioperm: ['field:executable = suffix:probe,contains:local'] }],
    ['per-event uid range', ['ioperm.scope.uid>=1000'], { ioperm: ['field:userId >= 1000'] }],
    ['per-event pid is the namespace pid', ['ioperm.scope.pid=1'], { ioperm: ['field:processId = 1'] }],
    ['per-event host thread', ['ioperm.scope.hostTid=42'], { ioperm: ['field:hostThreadId = 42'] }],
    ['per-event container (Tracee: security_file_open.scope.container)', ['ioperm.scope.container'], { ioperm: ['flag:container=true'] }],
    ['per-event not-container', ['ioperm.scope.not-container'], { ioperm: ['flag:container=false'] }],
    ['per-event container image', ['ioperm.scope.containerImage=nginx*'], { ioperm: ['field:containerImage = prefix:nginx'] }],
    ['filters on two events', ['ioperm.data.turn_on=1', 'iopl.data.level=3'], { ioperm: ['arg:turn_on = 1'], iopl: ['arg:level = 3'] }],
  ];
  for (const [what, values, filters] of table) {
    it(`${what}: ${JSON.stringify(values)}`, () => assert.deepEqual(parsed(values).filters, filters));
  }

  it('keeps unfiltered events selected beside filtered ones', () => {
    assert.deepEqual(parsed(['ioperm,iopl', 'ioperm.data.turn_on=1']), { events: ['ioperm', 'iopl'], filters: { ioperm: ['arg:turn_on = 1'] } });
  });

  it('drops the filters of an excluded event', () => {
    assert.deepEqual(parsed(['ioperm.data.turn_on=1', 'iopl', '-ioperm']), { events: ['iopl'], filters: {} });
  });
});

describe('--events errors name the input, the column and the fix', () => {
  const table: [string, string, RegExp][] = [
    ['unknown event, with the closest names', 'ioprem', /^--events 'ioprem' \(column 1\): unknown event 'ioprem'; did you mean ioperm\?$/],
    ['unknown event far from any', 'zzzzzzzz', /unknown event 'zzzzzzzz'; run `watchpost list --all`/],
    ['unknown exclusion', 'ioperm,-ioclt', /\(column 9\): unknown event 'ioclt'; did you mean ioctl\b/],
    ['glob matching nothing', 'xyz*', /'xyz\*' matches no event/],
    ['unknown data field', 'ioperm.data.turn_of=1', /\(column 13\): ioperm has no data field 'turn_of'; did you mean turn_on\?/],
    ['filter kind typo', 'ioperm.dta.from=1', /\(column 8\): unknown filter kind 'dta' for ioperm; did you mean data\?/],
    ['filter on an unknown event', 'ioprem.data.from=1', /unknown event 'ioprem' in filter; did you mean ioperm\?/],
    ['filter on a set', 'syscalls.data.from=1', /name one event/],
    ['not a number', 'ioperm.data.from=COM1', /\(column 18\): ioperm.data.from value 'COM1' is not a number; write a 64-bit unsigned integer/],
    ['int32 out of range', 'ioperm.data.turn_on=4294967296', /out of range; write a 32-bit signed integer between -2147483648 and 2147483647/],
    ['negative uint64', 'ioperm.data.from=-1', /out of range/],
    ['empty value', 'ioperm.data.from=', /empty value after 'from='/],
    ['empty comma value', 'ioperm.data.from=1,,2', /\(column 20\): empty value/],
    ['! without =', 'ioperm.data.from!1', /'!' must be followed by '='/],
    ['double =', 'ioperm.data.from==1', /unexpected '=' after operator =/],
    ['string operator on a string field', 'ioperm.scope.comm>a', /comm cannot be compared with >; use = or !=/],
    ['impossible bound', 'ioperm.data.from<0', /from<0 can never be true/],
    ['a field without its event', 'turn_on=1', /write a filter as <event>.data.<field>=<value>/],
    ['a field-less data filter', 'ioperm.data=1', /data needs a field name/],
    ['wildcard matching everything', 'ioperm.scope.comm=*', /matches everything/],
    ['follow is not per event', 'ioperm.scope.follow', /applies to a whole policy/],
    ['control characters are escaped', 'iop\nerm', /^--events 'iop\\u000aerm' \(column 1\): /],
  ];
  for (const [what, value, message] of table) {
    it(`${what}: ${JSON.stringify(value)}`, () => {
      assert.throws(() => parseEventsFlags([value]), (err: unknown) => {
        assert.ok(err instanceof UsageError, `not a UsageError: ${String(err)}`);
        assert.match(err.message, message);
        assert.ok(!err.message.includes('\n'), 'one line');
        return true;
      });
    });
  }

  it('refuses flags that exclude every event', () => {
    assert.throws(() => parseEventsFlags(['-ioperm,-iopl']), /exclude every event; drop an exclusion/);
  });
});
