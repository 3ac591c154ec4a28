import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allEventNames, eventSets, findEvent } from '../../src/catalog/events.js';
import { traceeType } from '../../src/catalog/kernel-syscalls.js';
import { idRangesFilter } from '../../src/probes/tracefs/probe.js';

describe('every syscall by name', () => {
  it('maps kernel C types to Tracee types', () => {
    const cases: Array<[string, string]> = [
      ['const char *', 'pointer'], ['struct stat *', 'pointer'], ['unsigned long', 'uint64'], ['size_t', 'uint64'],
      ['long', 'int64'], ['loff_t', 'int64'], ['unsigned int', 'uint32'], ['umode_t', 'uint32'], ['uid_t', 'uint32'],
      ['int', 'int32'], ['pid_t', 'int32'],
    ];
    for (const [c, t] of cases) assert.equal(traceeType(c), t, c);
  });

  it("builds openat from the table and the kernel format file, with Tracee's names and sets (the kernel's names kept as aliases)", () => {
    const e = findEvent('openat')!;
    assert.equal(e.nr, 257);
    assert.equal(e.compatNr, 295);
    assert.deepEqual(e.args.map((a) => `${a.type} ${a.name}`), ['int32 dirfd', 'pointer pathname', 'int32 flags', 'uint32 mode']);
    assert.deepEqual(e.args.map((a) => a.aliases ?? []), [['dfd'], ['filename'], [], []]);
    assert.deepEqual(e.args.map((a) => a.traceeType ?? a.type), ['int32', 'string', 'int32', 'uint16']);
    assert.deepEqual(e.sets, ['syscalls', 'fs', 'fs_file_ops']);
  });

  it('finds the tracepoint x86_64 kept under another name (stat is newstat)', () => {
    const e = findEvent('stat')!;
    assert.equal(e.tracepoint, 'newstat');
    assert.equal(e.args[0].name, 'pathname');
    assert.deepEqual(e.args[0].aliases, ['filename']);
  });

  it('the set "syscalls" holds the family and every traceable syscall', () => {
    const names = allEventNames().filter((n) => eventSets(n).includes('syscalls'));
    assert.ok(names.length > 300, `${names.length}`);
    for (const n of ['ioperm', 'iopl', 'ioctl', 'openat', 'getppid', 'stat']) assert.ok(names.includes(n), n);
  });

  it('folds runs of ids into ranges for the raw_syscalls filter', () => {
    assert.equal(idRangesFilter([110, 101]), 'id == 101 || id == 110');
    assert.equal(idRangesFilter([3, 1, 2, 4, 9, 10]), '(id >= 1 && id <= 4) || id == 9 || id == 10');
  });
});
