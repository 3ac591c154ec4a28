/**
 * eBPF instructions as values, with a tiny DSL in the style of cilium/ebpf's asm package:
 * `mov64Imm(R1, 22)`, `ldxW(R0, R1, 8)`, `jeqImm(R0, 0, 'out')`, `label('out')`, `exit()`.
 * Jumps name labels; `assemble` resolves them and encodes the 8-byte little-endian slots.
 */

export type Register = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10;
export const R0: Register = 0;
export const R1: Register = 1;
export const R2: Register = 2;
export const R3: Register = 3;
export const R4: Register = 4;
export const R5: Register = 5;
export const R6: Register = 6;
export const R7: Register = 7;
export const R8: Register = 8;
export const R9: Register = 9;
/** Read-only frame pointer; the stack is the 512 bytes below it. */
export const R10: Register = 10;
export const RFP = R10;

// Instruction classes, sizes, modes and operations (linux/bpf_common.h, linux/bpf.h).
const LD = 0x00, LDX = 0x01, ST = 0x02, STX = 0x03, ALU = 0x04, JMP = 0x05, JMP32 = 0x06, ALU64 = 0x07;
const W = 0x00, H = 0x08, B = 0x10, DW = 0x18;
const IMM = 0x00, MEM = 0x60, ATOMIC = 0xc0;
const K = 0x00, X = 0x08;

export const AluOp = {
  add: 0x00, sub: 0x10, mul: 0x20, div: 0x30, or: 0x40, and: 0x50, lsh: 0x60, rsh: 0x70,
  neg: 0x80, mod: 0x90, xor: 0xa0, mov: 0xb0, arsh: 0xc0,
} as const;
export const JumpOp = {
  ja: 0x00, jeq: 0x10, jgt: 0x20, jge: 0x30, jset: 0x40, jne: 0x50, jsgt: 0x60, jsge: 0x70,
  call: 0x80, exit: 0x90, jlt: 0xa0, jle: 0xb0, jslt: 0xc0, jsle: 0xd0,
} as const;
export type AluOpName = keyof typeof AluOp;
export type JumpCond = Exclude<keyof typeof JumpOp, 'ja' | 'call' | 'exit'>;

/** Kernel helper ids (enum bpf_func_id) that our programs call. */
export const Helper = {
  mapLookupElem: 1,
  mapUpdateElem: 2,
  mapDeleteElem: 3,
  ktimeGetNs: 5,
  getSmpProcessorId: 8,
  getCurrentPidTgid: 14,
  getCurrentUidGid: 15,
  getCurrentComm: 16,
  getCurrentTask: 35,
  getCurrentCgroupId: 80,
  sendSignal: 109,
  probeReadUser: 112,
  probeReadKernel: 113,
  probeReadUserStr: 114,
  probeReadKernelStr: 115,
  ringbufReserve: 131,
  ringbufSubmit: 132,
  ringbufDiscard: 133,
  taskStorageGet: 156,
  getCurrentTaskBtf: 158,
} as const;

/** One instruction slot (ld_imm64 takes two: `wide` carries the upper 32 bits of its constant). */
export interface Instruction {
  op: number;
  dst: Register;
  src: number;
  off: number;
  imm: number;
  /** Jump target, resolved into `off` by assemble(). */
  target?: string;
  /** ld_imm64: the upper 32 bits, emitted as a second slot. */
  wide?: number;
  /** A label naming this position (no code emitted). */
  label?: string;
}

function ins(op: number, dst: Register, src: number, off: number, imm: number): Instruction {
  return { op, dst, src, off, imm };
}

// ALU: 64-bit (alu64*) and 32-bit (alu32*) forms with an immediate or a register source.
export const alu64Imm = (op: AluOpName, dst: Register, imm: number): Instruction => ins(ALU64 | AluOp[op] | K, dst, 0, 0, imm);
export const alu64Reg = (op: AluOpName, dst: Register, src: Register): Instruction => ins(ALU64 | AluOp[op] | X, dst, src, 0, 0);
export const alu32Imm = (op: AluOpName, dst: Register, imm: number): Instruction => ins(ALU | AluOp[op] | K, dst, 0, 0, imm);
export const alu32Reg = (op: AluOpName, dst: Register, src: Register): Instruction => ins(ALU | AluOp[op] | X, dst, src, 0, 0);
export const mov64Imm = (dst: Register, imm: number): Instruction => alu64Imm('mov', dst, imm);
export const mov64Reg = (dst: Register, src: Register): Instruction => alu64Reg('mov', dst, src);
export const mov32Imm = (dst: Register, imm: number): Instruction => alu32Imm('mov', dst, imm);
export const mov32Reg = (dst: Register, src: Register): Instruction => alu32Reg('mov', dst, src);
export const add64Imm = (dst: Register, imm: number): Instruction => alu64Imm('add', dst, imm);
export const add64Reg = (dst: Register, src: Register): Instruction => alu64Reg('add', dst, src);
export const rsh64Imm = (dst: Register, imm: number): Instruction => alu64Imm('rsh', dst, imm);
export const lsh64Imm = (dst: Register, imm: number): Instruction => alu64Imm('lsh', dst, imm);
export const and64Imm = (dst: Register, imm: number): Instruction => alu64Imm('and', dst, imm);
export const mul64Imm = (dst: Register, imm: number): Instruction => alu64Imm('mul', dst, imm);

// Memory: ldx dst = *(size *)(src + off); stx *(size *)(dst + off) = src; st *(size *)(dst + off) = imm.
export const ldxB = (dst: Register, src: Register, off: number): Instruction => ins(LDX | MEM | B, dst, src, off, 0);
export const ldxH = (dst: Register, src: Register, off: number): Instruction => ins(LDX | MEM | H, dst, src, off, 0);
export const ldxW = (dst: Register, src: Register, off: number): Instruction => ins(LDX | MEM | W, dst, src, off, 0);
export const ldxDW = (dst: Register, src: Register, off: number): Instruction => ins(LDX | MEM | DW, dst, src, off, 0);
export const stxB = (dst: Register, off: number, src: Register): Instruction => ins(STX | MEM | B, dst, src, off, 0);
export const stxH = (dst: Register, off: number, src: Register): Instruction => ins(STX | MEM | H, dst, src, off, 0);
export const stxW = (dst: Register, off: number, src: Register): Instruction => ins(STX | MEM | W, dst, src, off, 0);
export const stxDW = (dst: Register, off: number, src: Register): Instruction => ins(STX | MEM | DW, dst, src, off, 0);
export const stW = (dst: Register, off: number, imm: number): Instruction => ins(ST | MEM | W, dst, 0, off, imm);
export const stDW = (dst: Register, off: number, imm: number): Instruction => ins(ST | MEM | DW, dst, 0, off, imm);
/** lock *(u64 *)(dst + off) += src */
export const atomicAdd64 = (dst: Register, off: number, src: Register): Instruction => ins(STX | ATOMIC | DW, dst, src, off, AluOp.add);

/** 64-bit constant (two slots). */
export function ldImm64(dst: Register, value: bigint): Instruction {
  const v = BigInt.asUintN(64, value);
  return { op: LD | IMM | DW, dst, src: 0, off: 0, imm: Number(BigInt.asIntN(32, v)), wide: Number(BigInt.asIntN(32, v >> 32n)) };
}
/** dst = the map behind this fd (BPF_PSEUDO_MAP_FD; the loader replaces it with the map's address). */
export function ldMapFd(dst: Register, fd: number): Instruction {
  return { op: LD | IMM | DW, dst, src: 1, off: 0, imm: fd, wide: 0 };
}

// Jumps: conditional on an immediate or a register, to a named label.
export const jmpImm = (cond: JumpCond, dst: Register, imm: number, target: string): Instruction => ({ ...ins(JMP | JumpOp[cond] | K, dst, 0, 0, imm), target });
export const jmpReg = (cond: JumpCond, dst: Register, src: Register, target: string): Instruction => ({ ...ins(JMP | JumpOp[cond] | X, dst, src, 0, 0), target });
export const jmp32Imm = (cond: JumpCond, dst: Register, imm: number, target: string): Instruction => ({ ...ins(JMP32 | JumpOp[cond] | K, dst, 0, 0, imm), target });
export const jeqImm = (dst: Register, imm: number, target: string): Instruction => jmpImm('jeq', dst, imm, target);
export const jneImm = (dst: Register, imm: number, target: string): Instruction => jmpImm('jne', dst, imm, target);
export const ja = (target: string): Instruction => ({ ...ins(JMP | JumpOp.ja, 0, 0, 0, 0), target });
export const call = (helper: number): Instruction => ins(JMP | JumpOp.call, 0, 0, 0, helper);
export const exit = (): Instruction => ins(JMP | JumpOp.exit, 0, 0, 0, 0);
/** Marks the next instruction as `name` for jumps. */
export const label = (name: string): Instruction => ({ op: -1, dst: 0, src: 0, off: 0, imm: 0, label: name });

/** Resolves labels and encodes the program: 8 bytes per slot, little endian (op, dst|src<<4, off, imm). */
export function assemble(program: readonly Instruction[]): Uint8Array {
  const slotOf = new Map<string, number>();
  let slots = 0;
  for (const i of program) {
    if (i.label !== undefined) {
      if (slotOf.has(i.label)) throw new Error(`assemble: label "${i.label}" defined twice`);
      slotOf.set(i.label, slots);
    } else {
      slots += i.wide === undefined ? 1 : 2;
    }
  }
  const out = new Uint8Array(slots * 8);
  const view = new DataView(out.buffer);
  let slot = 0;
  for (const i of program) {
    if (i.label !== undefined) continue;
    let off = i.off;
    if (i.target !== undefined) {
      const to = slotOf.get(i.target);
      if (to === undefined) throw new Error(`assemble: jump to undefined label "${i.target}"`);
      off = to - slot - 1;
      if (off < -32768 || off > 32767) throw new Error(`assemble: jump to "${i.target}" out of range`);
    }
    writeSlot(view, slot++, i.op, i.dst, i.src, off, i.imm);
    if (i.wide !== undefined) writeSlot(view, slot++, 0, 0, 0, 0, i.wide);
  }
  return out;
}

function writeSlot(view: DataView, slot: number, op: number, dst: number, src: number, off: number, imm: number): void {
  const at = slot * 8;
  view.setUint8(at, op);
  view.setUint8(at + 1, (dst & 0xf) | ((src & 0xf) << 4));
  view.setInt16(at + 2, off, true);
  view.setInt32(at + 4, imm | 0, true);
}
