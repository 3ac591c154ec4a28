import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseFormat } from '../../../src/catalog/tracepoint-format.js';

const IOPERM = `name: sys_enter_ioperm
ID: 169
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;
\tfield:unsigned long from;\toffset:16;\tsize:8;\tsigned:0;
\tfield:unsigned long num;\toffset:24;\tsize:8;\tsigned:0;
\tfield:int turn_on;\toffset:32;\tsize:8;\tsigned:0;

print fmt: "from: 0x%08lx, num: 0x%08lx, turn_on: 0x%08lx", ((unsigned long)(REC->from)), ((unsigned long)(REC->num)), ((unsigned long)(REC->turn_on))
`;

describe('tracefs format parser', () => {
  it('reads names, ids, offsets and sizes; turn_on is an int in an 8-byte slot', () => {
    const f = parseFormat(IOPERM);
    assert.equal(f.name, 'sys_enter_ioperm');
    assert.equal(f.id, 169);
    assert.deepEqual(
      f.argFields.map((x) => [x.name, x.cType, x.offset, x.size, x.signed]),
      [
        ['from', 'unsigned long', 16, 8, false],
        ['num', 'unsigned long', 24, 8, false],
        ['turn_on', 'int', 32, 8, false],
      ],
    );
  });

  it('reads array and pointer fields', () => {
    const f = parseFormat(`name: x\nID: 1\n\tfield:unsigned long args[6];\toffset:16;\tsize:48;\tsigned:0;\n\tfield:struct perf_event_attr * attr_uptr;\toffset:64;\tsize:8;\tsigned:0;\n`);
    assert.deepEqual(f.fields.map((x) => [x.name, x.cType, x.arrayLength]), [
      ['args', 'unsigned long', 6],
      ['attr_uptr', 'struct perf_event_attr *', undefined],
    ]);
  });

  it('parses the running kernel\'s format files for every raw and ioperm-family event', () => {
    for (const path of ['raw_syscalls/sys_enter', 'raw_syscalls/sys_exit', 'syscalls/sys_enter_ioperm', 'syscalls/sys_exit_ioctl']) {
      const f = parseFormat(readFileSync(`/sys/kernel/tracing/events/${path}/format`, 'utf8'));
      assert.equal(f.name, path.split('/')[1]);
      assert.ok(f.id > 0);
      assert.equal(f.fields[0].name, 'common_type');
    }
  });

  it('refuses text that is not a format file', () => {
    assert.throws(() => parseFormat('hello'), /not a tracefs event format file/);
  });
});
