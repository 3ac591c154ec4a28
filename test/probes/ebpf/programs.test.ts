import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EVENTS } from '../../../src/catalog/events.js';
import { exit, ldxDW, mov64Imm, R0, R2 } from '../../../src/probes/ebpf/asm.js';
import { Program, ProgramType, VerifierError, loadedPrograms } from '../../../src/probes/ebpf/programs.js';
import { RingBuffer } from '../../../src/probes/ebpf/ringbuf.js';
import { FLAG_COMPAT, Rec, RecordDecoder } from '../../../src/probes/ebpf/record.js';

describe('programs: loading', () => {
  it('surfaces the verifier message when it rejects a program', () => {
    // Reads through R2, which a program never has initialised: the verifier says "R2 !read_ok".
    const bad = [ldxDW(R0, R2, 0), exit()];
    assert.throws(
      () => new Program({ name: 'wp_bad', type: ProgramType.rawTracepoint, instructions: bad }),
      (e: unknown) => {
        assert.ok(e instanceof VerifierError);
        assert.match(e.message, /wp_bad/);
        assert.match(e.message, /R2 !read_ok/);
        assert.match(e.log, /R2 !read_ok/);
        return true;
      },
    );
  });

  it('loads a valid program, lists it by id and name, and unloads it on close', () => {
    const p = new Program({ name: 'wp_ok', type: ProgramType.rawTracepoint, instructions: [mov64Imm(R0, 0), exit()] });
    const mine = loadedPrograms().filter((i) => i.name === 'wp_ok');
    assert.equal(mine.length, 1);
    p.close();
    p.close();
    assert.equal(loadedPrograms().filter((i) => i.id === mine[0].id).length, 0);
  });
});

describe('ringbuf: mapping', () => {
  it('maps an empty ring buffer and reads nothing from it', () => {
    const rb = new RingBuffer('wp_test_rb', 1 << 16);
    try {
      assert.equal(rb.pending(), 0);
      assert.equal(rb.consume(() => assert.fail('no record expected')), 0);
    } finally {
      rb.close();
      rb.close();
    }
  });

  it('refuses a size that is not a power of two', () => {
    assert.throws(() => new RingBuffer('wp_test_rb', 5000), /power of two/);
  });
});

describe('record: decoding a ring-buffer record (synthetic bytes)', () => {
  const ioperm = EVENTS.find((e) => e.name === 'ioperm')!;
  const perf = EVENTS.find((e) => e.name === 'perf_event_open')!;

  function record(fill: (d: DataView) => void): DataView {
    const d = new DataView(new ArrayBuffer(16 + Rec.size));
    fill(d);
    return d;
  }
  const o = 16; // records start anywhere in the data area

  it('decodes a native ioperm with 64-bit args, context, and a negative return value', () => {
    const d = record((d) => {
      d.setBigUint64(o + Rec.enterNs, 123456789012345n, true);
      d.setBigUint64(o + Rec.startTime, 42n, true);
      d.setBigUint64(o + Rec.cgroupId, 7777n, true);
      d.setBigUint64(o + Rec.args, 0x1_0000_0378n, true);
      d.setBigUint64(o + Rec.args + 8, 3n, true);
      d.setBigUint64(o + Rec.args + 16, 0xffffffff_00000001n, true); // int: upper half is register garbage
      d.setBigInt64(o + Rec.ret, -38n, true);
      d.setUint32(o + Rec.tgid, 100, true);
      d.setUint32(o + Rec.tid, 101, true);
      d.setUint32(o + Rec.ppid, 1, true);
      d.setUint32(o + Rec.uid, 1000, true);
      d.setUint32(o + Rec.gid, 1001, true);
      d.setUint32(o + Rec.mntns, 4026531832, true);
      d.setUint32(o + Rec.pidns, 4026531836, true);
      d.setUint32(o + Rec.nsTid, 5, true);
      d.setUint32(o + Rec.nsPid, 4, true);
      d.setUint32(o + Rec.nsPpid, 0, true);
      d.setUint32(o + Rec.cpu, 3, true);
      d.setUint32(o + Rec.id, 173, true);
      new Uint8Array(d.buffer).set(new TextEncoder().encode('portscan'), o + Rec.comm);
    });
    const s = new RecordDecoder(EVENTS).decode(d, o);
    assert.deepEqual(s, {
      event: ioperm,
      monoNs: 123456789012345,
      cpu: 3,
      tid: 101,
      compat: false,
      args: [0x1_0000_0378n, 3n, 1],
      ret: -38,
      context: {
        pid: 100, ppid: 1, uid: 1000, gid: 1001, comm: 'portscan', cgroupId: 7777, mntns: 4026531832, pidns: 4026531836,
        nsPid: 4, nsTid: 5, nsPpid: 0, startTime: 42,
      },
    });
  });

  it('decodes a compat call by its i386 number and keeps only the low 32 bits of each register', () => {
    const d = record((d) => {
      d.setUint32(o + Rec.id, 101, true);
      d.setUint32(o + Rec.flags, FLAG_COMPAT, true);
      d.setBigUint64(o + Rec.args, 0xdead0000_00000378n, true);
      d.setBigUint64(o + Rec.args + 8, 0x1_00000008n, true);
      d.setBigUint64(o + Rec.args + 16, 0xffffffffn, true);
    });
    const s = new RecordDecoder(EVENTS).decode(d, o)!;
    assert.equal(s.event, ioperm);
    assert.equal(s.compat, true);
    assert.deepEqual(s.args, [0x378n, 8n, -1]);
  });

  it('prints pointers as lowercase hex and counts records of unselected syscalls instead of throwing', () => {
    const d = record((d) => {
      d.setUint32(o + Rec.id, 298, true);
      d.setBigUint64(o + Rec.args, 0x7ffeABCDn, true);
      d.setBigUint64(o + Rec.args + 8, 0xffffffffn, true);
    });
    const dec = new RecordDecoder([perf]);
    assert.deepEqual(dec.decode(d, o)!.args.slice(0, 2), ['0x7ffeabcd', -1]);
    d.setUint32(o + Rec.id, 173, true);
    assert.equal(dec.decode(d, o), undefined);
    assert.equal(dec.unknown, 1);
  });
});
