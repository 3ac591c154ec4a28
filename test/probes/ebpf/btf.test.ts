import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { before, describe, it } from 'node:test';
import { Btf, BtfKind } from '../../../src/probes/ebpf/btf.js';
import { kernelLayout } from '../../../src/probes/ebpf/kernel-layout.js';
import { valueBtfBlob } from '../../../src/probes/ebpf/btf-blob.js';

/** The second source: bpftool's raw dump of the same file (bpftool is installed by scripts/test-setup.sh). */
interface RawType {
  kind: string;
  name: string;
  size?: number;
  members: Array<{ name: string; typeId: number; bitOffset: number; bitSize: number }>;
}

function bpftoolRaw(): Map<number, RawType> {
  const text = execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'raw'], {
    maxBuffer: 1 << 30,
    encoding: 'utf8',
  });
  const types = new Map<number, RawType>();
  let current: RawType | undefined;
  for (const line of text.split('\n')) {
    const head = /^\[(\d+)\] (\w+) '([^']*)'(?:.*? size=(\d+))?/.exec(line);
    if (head) {
      current = { kind: head[2], name: head[3], size: head[4] === undefined ? undefined : Number(head[4]), members: [] };
      types.set(Number(head[1]), current);
      continue;
    }
    const m = /^\t'([^']*)' type_id=(\d+) bits_offset=(\d+)(?: bitfield_size=(\d+))?/.exec(line);
    if (m && current && (current.kind === 'STRUCT' || current.kind === 'UNION')) {
      current.members.push({ name: m[1] === '(anon)' ? '' : m[1], typeId: Number(m[2]), bitOffset: Number(m[3]), bitSize: Number(m[4] ?? 0) });
    }
  }
  return types;
}

/** Resolves a dotted member path through bpftool's data, looking inside anonymous members. */
function rawOffsetBits(raw: Map<number, RawType>, structName: string, path: string): number {
  const find = (id: number, name: string): { bits: number; typeId: number } | undefined => {
    for (const m of raw.get(id)!.members) {
      if (m.name === name) return { bits: m.bitOffset, typeId: m.typeId };
      if (m.name === '' && ['STRUCT', 'UNION'].includes(raw.get(m.typeId)?.kind ?? '')) {
        const inner = find(m.typeId, name);
        if (inner) return { bits: m.bitOffset + inner.bits, typeId: inner.typeId };
      }
    }
    return undefined;
  };
  let id = [...raw.entries()].find(([, t]) => t.kind === 'STRUCT' && t.name === structName)![0];
  let bits = 0;
  for (const part of path.split('.')) {
    const hit = find(id, part);
    assert.ok(hit, `bpftool: ${structName}.${path}`);
    bits += hit.bits;
    id = hit.typeId;
  }
  return bits;
}

describe('btf: kernel struct layouts from /sys/kernel/btf/vmlinux', () => {
  let btf: Btf;
  let raw: Map<number, RawType>;
  let parseMs = 0;

  before(() => {
    const t0 = performance.now();
    btf = Btf.load();
    btf.idsByName('task_struct'); // includes building the name index
    parseMs = performance.now() - t0;
    raw = bpftoolRaw();
  });

  it('parses the whole file quickly and counts the same types as bpftool', (t) => {
    t.diagnostic(`BTF parse + name index: ${parseMs.toFixed(1)} ms for ${btf.count - 1} types`);
    assert.equal(btf.count - 1, raw.size);
    assert.ok(parseMs < 2000, `parse took ${parseMs} ms`);
  });

  for (const name of ['task_struct', 'pt_regs', 'thread_info', 'pid', 'upid', 'nsproxy', 'ns_common', 'mnt_namespace', 'pid_namespace', 'cred']) {
    it(`reads every member of struct ${name} (name, type id, bit offset, bitfield width) as bpftool does`, () => {
      const id = btf.typeId(name, BtfKind.struct);
      const theirs = raw.get(id);
      assert.ok(theirs, `bpftool has type ${id}`);
      assert.equal(theirs.kind, 'STRUCT');
      assert.equal(theirs.name, name);
      assert.equal(btf.sizeOf(id), theirs.size);
      assert.ok(theirs.members.length > 0);
      assert.deepEqual(btf.members(id), theirs.members);
    });
  }

  it('decodes bitfields (task_struct has some) with their widths', () => {
    const bitfields = btf.members(btf.typeId('task_struct', BtfKind.struct)).filter((m) => m.bitSize > 0);
    assert.ok(bitfields.length > 0);
    const loc = btf.member('task_struct', bitfields[0].name);
    assert.equal(loc.bitSize, bitfields[0].bitSize);
    assert.throws(() => btf.offsetOf('task_struct', bitfields[1]?.name ?? bitfields[0].name), /bitfield/);
  });

  it('finds members nested in anonymous structs and unions, and named nested paths', () => {
    for (const [s, path] of [
      ['ns_common', 'ns_id'],
      ['ns_common', 'inum'],
      ['task_struct', 'thread_info.status'],
      ['task_struct', 'real_parent'],
      ['task_struct', 'start_time'],
      ['pid', 'numbers'],
      ['mnt_namespace', 'ns.inum'],
    ] as const) {
      assert.equal(btf.member(s, path).bitOffset, rawOffsetBits(raw, s, path), `${s}.${path}`);
    }
  });

  it('yields the layout the programs use, matching bpftool', () => {
    const L = kernelLayout(btf);
    const off = (s: string, p: string): number => rawOffsetBits(raw, s, p) / 8;
    assert.equal(L.task.threadInfoStatus, off('task_struct', 'thread_info.status'));
    assert.equal(L.task.realParent, off('task_struct', 'real_parent'));
    assert.equal(L.task.groupLeader, off('task_struct', 'group_leader'));
    assert.equal(L.task.tgid, off('task_struct', 'tgid'));
    assert.equal(L.task.startTime, off('task_struct', 'start_time'));
    assert.equal(L.task.nsproxy, off('task_struct', 'nsproxy'));
    assert.equal(L.task.threadPid, off('task_struct', 'thread_pid'));
    assert.equal(L.nsproxyMntNs, off('nsproxy', 'mnt_ns'));
    assert.equal(L.mntNsInum, off('mnt_namespace', 'ns.inum'));
    assert.equal(L.pidNsInum, off('pid_namespace', 'ns.inum'));
    assert.equal(L.pidLevel, off('pid', 'level'));
    assert.equal(L.pidNumbers, off('pid', 'numbers'));
    assert.equal(L.upidNs, off('upid', 'ns'));
    assert.deepEqual(L.regsNative, ['di', 'si', 'dx', 'r10', 'r8', 'r9'].map((r) => off('pt_regs', r)));
    assert.deepEqual(L.regsCompat, ['bx', 'cx', 'dx', 'si', 'di', 'bp'].map((r) => off('pt_regs', r)));
    assert.equal(L.regsOrigAx, off('pt_regs', 'orig_ax'));
    const upid = [...raw.values()].find((t) => t.kind === 'STRUCT' && t.name === 'upid');
    assert.equal(L.upidSize, upid?.size);
    assert.equal(L.exitHasGroupDead, true);
  });

  it('says which struct and member it could not find', () => {
    assert.throws(() => btf.offsetOf('task_struct', 'no_such_member'), /task_struct has no member "no_such_member"/);
    assert.throws(() => btf.typeId('no_such_struct_xyz', BtfKind.struct), /no type "no_such_struct_xyz"/);
  });

  it('writes a map-value BTF blob that reads back as int, unsigned char and unsigned char[72]', () => {
    const own = new Btf(valueBtfBlob(72));
    assert.equal(own.count, 4);
    assert.deepEqual([1, 2, 3].map((id) => [own.kind(id), own.name(id), own.sizeOf(id)]), [
      [BtfKind.int, 'int', 4],
      [BtfKind.int, 'uchar', 1],
      [BtfKind.array, '', 72],
    ]);
  });
});
