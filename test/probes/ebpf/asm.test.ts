import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  add64Imm, alu32Imm, alu64Reg, assemble, atomicAdd64, call, exit, Helper, type Instruction, ja, jeqImm, jmp32Imm, jmpReg,
  jneImm, label, ldImm64, ldMapFd, ldxB, ldxDW, ldxH, ldxW, mov32Reg, mov64Imm, mov64Reg, R0, R1, R2, R3, R6, R9, R10,
  rsh64Imm, stDW, stW, stxB, stxDW, stxW,
} from '../../../src/probes/ebpf/asm.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// Expected bytes: op, dst|src<<4, off (le16), imm (le32) — as `llvm-objdump -d` prints BPF code.
const table: Array<[string, Instruction, string]> = [
  ['mov64Imm(R1, 22)', mov64Imm(R1, 22), 'b701000016000000'],
  ['mov64Imm(R0, -1)', mov64Imm(R0, -1), 'b7000000ffffffff'],
  ['mov64Reg(R6, R1)', mov64Reg(R6, R1), 'bf16000000000000'],
  ['mov32Reg(R2, R3)', mov32Reg(R2, R3), 'bc32000000000000'],
  ['add64Imm(R2, -8)', add64Imm(R2, -8), '07020000f8ffffff'],
  ['alu64Reg(add, R3, R1)', alu64Reg('add', R3, R1), '0f13000000000000'],
  ['rsh64Imm(R0, 32)', rsh64Imm(R0, 32), '7700000020000000'],
  ['alu32Imm(and, R1, 2)', alu32Imm('and', R1, 2), '5401000002000000'],
  ['ldxB(R0, R1, 3)', ldxB(R0, R1, 3), '7110030000000000'],
  ['ldxH(R0, R1, 2)', ldxH(R0, R1, 2), '6910020000000000'],
  ['ldxW(R0, R1, 8)', ldxW(R0, R1, 8), '6110080000000000'],
  ['ldxDW(R3, R6, 8)', ldxDW(R3, R6, 8), '7963080000000000'],
  ['stxB(R10, -1, R1)', stxB(R10, -1, R1), '731affff00000000'],
  ['stxW(R10, -4, R0)', stxW(R10, -4, R0), '630afcff00000000'],
  ['stxDW(R9, 72, R1)', stxDW(R9, 72, R1), '7b19480000000000'],
  ['stW(R10, -8, 1)', stW(R10, -8, 1), '620af8ff01000000'],
  ['stDW(R10, -16, 0)', stDW(R10, -16, 0), '7a0af0ff00000000'],
  ['atomicAdd64(R0, 0, R1)', atomicAdd64(R0, 0, R1), 'db10000000000000'],
  ['call(ringbufReserve)', call(Helper.ringbufReserve), '8500000083000000'],
  ['call(probeReadKernel)', call(Helper.probeReadKernel), '8500000071000000'],
  ['exit()', exit(), '9500000000000000'],
];

describe('asm: instruction encoding', () => {
  for (const [name, insn, bytes] of table) {
    it(`encodes ${name} as ${bytes}`, () => {
      assert.equal(hex(assemble([insn])), bytes);
    });
  }

  it('encodes a 64-bit constant in two slots, low half first', () => {
    assert.equal(hex(assemble([ldImm64(R2, 0x1122334455667788n)])), '1802000088776655' + '0000000044332211');
  });

  it('encodes a map fd load with BPF_PSEUDO_MAP_FD in the source field', () => {
    assert.equal(hex(assemble([ldMapFd(R1, 7)])), '1811000007000000' + '0000000000000000');
  });

  it('resolves forward and backward jumps to labels, counting wide slots', () => {
    const code = assemble([
      label('top'),
      jeqImm(R1, 173, 'hit'), // slot 0 -> slot 4: off 3
      ldMapFd(R2, 3), // slots 1-2
      ja('top'), // slot 3 -> slot 0: off -4
      label('hit'),
      jmpReg('jgt', R9, R2, 'top'), // slot 4 -> 0: off -5
      jmp32Imm('jne', R0, 0, 'end'), // slot 5 -> 7: off 1
      jneImm(R1, -1, 'end'), // slot 6 -> 7: off 0
      label('end'),
      exit(),
    ]);
    assert.equal(
      hex(code),
      [
        '150103' + '00ad000000',
        '1812000003000000', '0000000000000000',
        '0500fcff00000000',
        '2d29fbff00000000',
        '5600010000000000',
        '55010000ffffffff',
        '9500000000000000',
      ].join(''),
    );
  });

  it('refuses undefined and duplicate labels', () => {
    assert.throws(() => assemble([ja('nowhere')]), /undefined label "nowhere"/);
    assert.throws(() => assemble([label('a'), label('a'), exit()]), /defined twice/);
  });
});
