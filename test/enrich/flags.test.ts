import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadPmuTypes, perfConfigName, perfEventOpenFlags, perfTypeName, userfaultfdFlags } from '../../src/enrich/flags.js';
import { hasCompiler, headerValues } from './c-oracle.js';

describe('userfaultfd and perf_event_open flags', () => {
  it('spells userfaultfd flags', () => {
    assert.equal(userfaultfdFlags(0), '0');
    assert.equal(userfaultfdFlags(0x80000), 'O_CLOEXEC');
    assert.equal(userfaultfdFlags(0x80800), 'O_CLOEXEC|O_NONBLOCK');
    assert.equal(userfaultfdFlags(0x80801), 'O_CLOEXEC|O_NONBLOCK|UFFD_USER_MODE_ONLY');
    assert.equal(userfaultfdFlags(1 | 0x40), 'UFFD_USER_MODE_ONLY|0x40');
    assert.equal(userfaultfdFlags(-1), 'O_CLOEXEC|O_NONBLOCK|UFFD_USER_MODE_ONLY|0xfff7f7fe');
  });

  it('spells perf_event_open flags, 64-bit values included', () => {
    assert.equal(perfEventOpenFlags(0n), '0');
    assert.equal(perfEventOpenFlags(8n), 'PERF_FLAG_FD_CLOEXEC');
    assert.equal(perfEventOpenFlags(15), 'PERF_FLAG_FD_NO_GROUP|PERF_FLAG_FD_OUTPUT|PERF_FLAG_PID_CGROUP|PERF_FLAG_FD_CLOEXEC');
    assert.equal(perfEventOpenFlags(0x100000004n), 'PERF_FLAG_PID_CGROUP|0x100000000');
  });

  it('names perf_event_attr types and the generic configs', () => {
    assert.equal(perfTypeName(0), 'PERF_TYPE_HARDWARE');
    assert.equal(perfTypeName(2), 'PERF_TYPE_TRACEPOINT');
    assert.equal(perfTypeName(5), 'PERF_TYPE_BREAKPOINT');
    assert.equal(perfTypeName(8), 'type 8');
    assert.equal(perfTypeName(8, new Map([[8, 'uprobe']])), 'PMU uprobe');
    assert.equal(perfConfigName(0, 1), 'PERF_COUNT_HW_INSTRUCTIONS');
    assert.equal(perfConfigName(0, 0x4_00000000n), 'PERF_COUNT_HW_CPU_CYCLES (PMU 4)');
    assert.equal(perfConfigName(1, 10n), 'PERF_COUNT_SW_BPF_OUTPUT');
    assert.equal(perfConfigName(1, 9), 'PERF_COUNT_SW_DUMMY');
    assert.equal(perfConfigName(2, 1234), 'tracepoint id 1234');
    assert.equal(perfConfigName(3, 0x10002), 'PERF_COUNT_HW_CACHE_LL:READ:MISS');
    assert.equal(perfConfigName(3, 0x10104), 'PERF_COUNT_HW_CACHE_ITLB:WRITE:MISS');
    assert.equal(perfConfigName(3, 0x20002), '0x20002');
    assert.equal(perfConfigName(4, 0x1c4), '0x1c4');
    assert.equal(perfConfigName(1, 99), '0x63');
  });

  it('reads dynamic PMU types from a sysfs-shaped directory', () => {
    const root = mkdtempSync(join(tmpdir(), 'wp-pmu-'));
    try {
      for (const [name, type] of [['kprobe', '6\n'], ['uprobe', '7\n'], ['broken', 'x\n']]) {
        mkdirSync(join(root, name));
        writeFileSync(join(root, name, 'type'), type);
      }
      mkdirSync(join(root, 'notype'));
      const pmus = loadPmuTypes(root);
      assert.deepEqual([...pmus].sort(), [[6, 'kprobe'], [7, 'uprobe']]);
      assert.equal(perfTypeName(6, pmus), 'PMU kprobe');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('reads this host\'s PMUs: the software PMU is always type 1', () => {
    assert.equal(loadPmuTypes().get(1), 'software');
  });

  it('uses the bit values of the system headers', { skip: !hasCompiler() && 'no C compiler' }, () => {
    const macros = ['O_CLOEXEC', 'O_NONBLOCK', 'UFFD_USER_MODE_ONLY', 'PERF_FLAG_FD_NO_GROUP', 'PERF_FLAG_FD_OUTPUT', 'PERF_FLAG_PID_CGROUP', 'PERF_FLAG_FD_CLOEXEC'];
    const enums = [
      'PERF_TYPE_HARDWARE', 'PERF_TYPE_SOFTWARE', 'PERF_TYPE_TRACEPOINT', 'PERF_TYPE_HW_CACHE', 'PERF_TYPE_RAW', 'PERF_TYPE_BREAKPOINT',
      'PERF_COUNT_HW_CPU_CYCLES', 'PERF_COUNT_HW_REF_CPU_CYCLES', 'PERF_COUNT_HW_STALLED_CYCLES_BACKEND',
      'PERF_COUNT_SW_CPU_CLOCK', 'PERF_COUNT_SW_DUMMY', 'PERF_COUNT_SW_BPF_OUTPUT', 'PERF_COUNT_SW_CGROUP_SWITCHES',
      'PERF_COUNT_HW_CACHE_NODE', 'PERF_COUNT_HW_CACHE_OP_PREFETCH', 'PERF_COUNT_HW_CACHE_RESULT_MISS',
    ];
    const h = headerValues(['fcntl.h', 'linux/userfaultfd.h', 'linux/perf_event.h'], macros, enums);
    const v = (n: string) => Number(h.get(n));
    assert.equal(userfaultfdFlags(v('O_CLOEXEC')), 'O_CLOEXEC');
    assert.equal(userfaultfdFlags(v('O_NONBLOCK')), 'O_NONBLOCK');
    assert.equal(userfaultfdFlags(v('UFFD_USER_MODE_ONLY')), 'UFFD_USER_MODE_ONLY');
    for (const n of macros.slice(3)) assert.equal(perfEventOpenFlags(v(n)), n);
    for (const n of enums.slice(0, 6)) assert.equal(perfTypeName(v(n)), n);
    for (const n of enums.slice(6, 9)) assert.equal(perfConfigName(0, v(n)), n);
    for (const n of enums.slice(9, 13)) assert.equal(perfConfigName(1, v(n)), n);
    const cache = v('PERF_COUNT_HW_CACHE_NODE') | (v('PERF_COUNT_HW_CACHE_OP_PREFETCH') << 8) | (v('PERF_COUNT_HW_CACHE_RESULT_MISS') << 16);
    assert.equal(perfConfigName(3, cache), 'PERF_COUNT_HW_CACHE_NODE:PREFETCH:MISS');
  });
});
