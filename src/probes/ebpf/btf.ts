import { readFileSync } from 'node:fs';

/**
 * A reader of kernel BTF (/sys/kernel/btf/vmlinux): struct layouts and type ids, enough for CO-RE without clang.
 * Types are indexed once (offsets only, in one typed array); names are decoded on demand and looked up by comparing
 * bytes, so reading ~126k types makes no JS object per type: a name index of strings raised a cold start's peak RSS
 * by ~14 MB, the offsets gathered in a JS array by ~5 MB.
 */

export const VMLINUX_BTF = '/sys/kernel/btf/vmlinux';

export const BtfKind = {
  int: 1, ptr: 2, array: 3, struct: 4, union: 5, enum: 6, fwd: 7, typedef: 8, volatile: 9, const: 10,
  restrict: 11, func: 12, funcProto: 13, var: 14, datasec: 15, float: 16, declTag: 17, typeTag: 18, enum64: 19,
} as const;

/** A struct or union member as BTF states it. */
export interface BtfMember {
  name: string;
  typeId: number;
  /** Offset from the start of the enclosing struct, in bits. */
  bitOffset: number;
  /** Width in bits for a bitfield, 0 otherwise. */
  bitSize: number;
}

/** Where a (possibly nested) member lives: byte offset from the outer struct and its size. */
export interface MemberLocation {
  offset: number;
  size: number;
  bitOffset: number;
  bitSize: number;
  typeId: number;
}

const MAGIC = 0xeb9f;

export class Btf {
  private readonly view: DataView;
  private readonly typeStart: number;
  private readonly strStart: number;
  private readonly strEnd: number;
  /** Byte offset of each type record in the file, by type id (id 0 is void). */
  private readonly offsets: Uint32Array;
  /** The names asked for so far, with their ids. */
  private readonly byName = new Map<string, number[]>();
  readonly count: number;

  constructor(private readonly data: Uint8Array) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    if (this.view.getUint16(0, true) !== MAGIC) throw new Error('BTF: bad magic (is this a BTF file?)');
    const hdrLen = this.view.getUint32(4, true);
    const typeOff = this.view.getUint32(8, true);
    const typeLen = this.view.getUint32(12, true);
    const strOff = this.view.getUint32(16, true);
    const strLen = this.view.getUint32(20, true);
    this.typeStart = hdrLen + typeOff;
    this.strStart = hdrLen + strOff;
    this.strEnd = this.strStart + strLen;
    const end = this.typeStart + typeLen;
    // A type record takes at least 12 bytes: room for the most the section can hold, then only what was used is kept.
    const offs = new Uint32Array(Math.floor(typeLen / 12) + 1);
    let n = 1;
    for (let p = this.typeStart; p < end; p += this.recordSize(p)) offs[n++] = p;
    this.offsets = offs.slice(0, n);
    this.count = n;
  }

  static load(path = VMLINUX_BTF): Btf {
    return new Btf(readFileSync(path));
  }

  private recordSize(p: number): number {
    const info = this.view.getUint32(p + 4, true);
    const vlen = info & 0xffff;
    switch ((info >>> 24) & 0x1f) {
      case BtfKind.int: case BtfKind.var: case BtfKind.declTag: return 16;
      case BtfKind.array: return 24;
      case BtfKind.struct: case BtfKind.union: case BtfKind.datasec: case BtfKind.enum64: return 12 + 12 * vlen;
      case BtfKind.enum: case BtfKind.funcProto: return 12 + 8 * vlen;
      default: return 12;
    }
  }

  private str(off: number): string {
    let e = this.strStart + off;
    while (e < this.strEnd && this.data[e] !== 0) e++;
    return Buffer.from(this.data.buffer, this.data.byteOffset + this.strStart + off, e - this.strStart - off).toString('latin1');
  }

  kind(id: number): number {
    return id === 0 ? 0 : (this.view.getUint32(this.offsets[id] + 4, true) >>> 24) & 0x1f;
  }

  name(id: number): string {
    return id === 0 ? '' : this.str(this.view.getUint32(this.offsets[id], true));
  }

  /** Ids of every type with this name (structs and typedefs may share names with other kinds). */
  idsByName(name: string): number[] {
    let ids = this.byName.get(name);
    if (ids) return ids;
    ids = [];
    const want = Buffer.from(name, 'latin1');
    const data = this.data;
    // one pass over the types per name asked (a start asks ~20): ~1 ms each, where an index of every name cost ~14 MB
    for (let id = 1; id < this.count; id++) {
      const at = this.strStart + this.view.getUint32(this.offsets[id], true);
      if (data[at] !== want[0] || data[at + want.length] !== 0) continue;
      let i = 1;
      while (i < want.length && data[at + i] === want[i]) i++;
      if (i === want.length) ids.push(id);
    }
    this.byName.set(name, ids);
    return ids;
  }

  /** The id of the type named `name` of this kind; throws with the name if the kernel has none. */
  typeId(name: string, kind: number): number {
    const id = this.idsByName(name).find((i) => this.kind(i) === kind);
    if (id === undefined) throw new Error(`BTF: no type "${name}" of kind ${kind} in kernel BTF`);
    return id;
  }

  /** Follows typedef/const/volatile/restrict/type-tag to the underlying type. */
  resolve(id: number): number {
    for (;;) {
      const k = this.kind(id);
      if (k !== BtfKind.typedef && k !== BtfKind.volatile && k !== BtfKind.const && k !== BtfKind.restrict && k !== BtfKind.typeTag) return id;
      id = this.view.getUint32(this.offsets[id] + 8, true);
    }
  }

  /** Size in bytes of a type (pointers are 8 on x86_64). */
  sizeOf(id: number): number {
    id = this.resolve(id);
    const p = this.offsets[id];
    switch (this.kind(id)) {
      case BtfKind.ptr: return 8;
      case BtfKind.array: {
        const elem = this.view.getUint32(p + 12, true);
        return this.sizeOf(elem) * this.view.getUint32(p + 20, true);
      }
      case BtfKind.int: case BtfKind.struct: case BtfKind.union: case BtfKind.enum: case BtfKind.enum64: case BtfKind.float:
        return this.view.getUint32(p + 8, true);
      default: throw new Error(`BTF: type ${id} (kind ${this.kind(id)}) has no size`);
    }
  }

  /** Members of a struct or union, with bitfield widths decoded. */
  members(id: number): BtfMember[] {
    id = this.resolve(id);
    const k = this.kind(id);
    if (k !== BtfKind.struct && k !== BtfKind.union) throw new Error(`BTF: type ${id} is not a struct or union`);
    const p = this.offsets[id];
    const info = this.view.getUint32(p + 4, true);
    const kindFlag = info >>> 31 === 1;
    const out: BtfMember[] = [];
    for (let i = 0, m = p + 12; i < (info & 0xffff); i++, m += 12) {
      const raw = this.view.getUint32(m + 8, true);
      out.push({
        name: this.str(this.view.getUint32(m, true)),
        typeId: this.view.getUint32(m + 4, true),
        bitOffset: kindFlag ? raw & 0xffffff : raw,
        bitSize: kindFlag ? raw >>> 24 : 0,
      });
    }
    return out;
  }

  /**
   * Locates `path` ("thread_info.status", "numbers") inside struct `structName`,
   * looking through anonymous structs and unions on the way.
   */
  member(structName: string, path: string): MemberLocation {
    let id = this.typeId(structName, BtfKind.struct);
    let bits = 0;
    let found: BtfMember | undefined;
    for (const part of path.split('.')) {
      const hit = this.find(id, part);
      if (!hit) throw new Error(`BTF: struct ${structName} has no member "${path}" on this kernel`);
      bits += hit.bitOffset;
      found = hit.member;
      id = hit.member.typeId;
    }
    const m = found as BtfMember;
    const size = m.bitSize ? Math.ceil(m.bitSize / 8) : this.sizeOf(m.typeId);
    return { offset: Math.floor(bits / 8), size, bitOffset: bits, bitSize: m.bitSize, typeId: m.typeId };
  }

  private find(id: number, name: string): { member: BtfMember; bitOffset: number } | undefined {
    for (const m of this.members(id)) {
      if (m.name === name) return { member: m, bitOffset: m.bitOffset };
      if (m.name === '') {
        const k = this.kind(this.resolve(m.typeId));
        if (k === BtfKind.struct || k === BtfKind.union) {
          const inner = this.find(m.typeId, name);
          if (inner) return { member: inner.member, bitOffset: m.bitOffset + inner.bitOffset };
        }
      }
    }
    return undefined;
  }

  /** Byte offset of a member; throws if it is a bitfield not on a byte boundary. */
  offsetOf(structName: string, path: string): number {
    const loc = this.member(structName, path);
    if (loc.bitOffset % 8 !== 0) throw new Error(`BTF: ${structName}.${path} is a bitfield, not byte-addressable`);
    return loc.offset;
  }

  /** Parameter count of the function prototype a pointer type points to (0 if it is not one). */
  funcProtoParams(ptrId: number): number {
    const target = this.resolve(this.view.getUint32(this.offsets[ptrId] + 8, true));
    if (this.kind(target) !== BtfKind.funcProto) return 0;
    return this.view.getUint32(this.offsets[target] + 4, true) & 0xffff;
  }

  structSize(structName: string): number {
    return this.sizeOf(this.typeId(structName, BtfKind.struct));
  }
}
