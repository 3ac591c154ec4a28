import { readFileSync } from 'node:fs';
import { bpf, bpfErrno, closeFd, NativeBuffer, possibleCpus } from './sys.js';

/** BPF maps: create, update, look up, close. Keys and values are raw bytes. */

export const MapType = { hash: 1, array: 2, percpuArray: 6, ringbuf: 27, taskStorage: 29 } as const;
/** Allocate elements on demand (required by task storage). */
export const BPF_F_NO_PREALLOC = 1;

const BPF_MAP_CREATE = 0;
const BPF_MAP_LOOKUP_ELEM = 1;
const BPF_MAP_UPDATE_ELEM = 2;
const BPF_MAP_DELETE_ELEM = 3;
const BPF_MAP_GET_NEXT_KEY = 4;
const BPF_ANY = 0;

export interface MapSpec {
  name: string;
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags?: number;
  /** BTF naming key and value types (task storage needs it). */
  btf?: { fd: number; keyTypeId: number; valueTypeId: number };
}

export class BpfMap {
  private fdValue: number;
  /** Scratch native memory for key and value (the kernel reads them through pointers in bpf_attr). */
  private readonly key: NativeBuffer;
  private readonly value: NativeBuffer;
  private readonly attr = new Uint8Array(32);
  private readonly attrView = new DataView(this.attr.buffer);
  /** Bytes of one lookup result: per-CPU maps return one 8-byte-aligned slot per possible CPU. */
  readonly valueBytes: number;

  constructor(readonly spec: MapSpec) {
    const attr = new Uint8Array(72);
    const v = new DataView(attr.buffer);
    v.setUint32(0, spec.type, true);
    v.setUint32(4, spec.keySize, true);
    v.setUint32(8, spec.valueSize, true);
    v.setUint32(12, spec.maxEntries, true);
    v.setUint32(16, spec.flags ?? 0, true);
    attr.set(new TextEncoder().encode(spec.name.slice(0, 15)), 28);
    if (spec.btf) {
      v.setUint32(48, spec.btf.fd, true);
      v.setUint32(52, spec.btf.keyTypeId, true);
      v.setUint32(56, spec.btf.valueTypeId, true);
    }
    this.fdValue = bpf(BPF_MAP_CREATE, attr, `creating BPF map ${spec.name}`);
    this.valueBytes = spec.type === MapType.percpuArray ? Math.ceil(spec.valueSize / 8) * 8 * cpuCount() : spec.valueSize;
    this.key = new NativeBuffer(Math.max(spec.keySize, 8));
    this.value = new NativeBuffer(Math.max(this.valueBytes, 8));
  }

  get fd(): number {
    return this.fdValue;
  }

  private prepare(key: Uint8Array): void {
    this.key.bytes.set(key);
    this.attrView.setUint32(0, this.fdValue, true);
    this.attrView.setBigUint64(8, this.key.addr, true);
    this.attrView.setBigUint64(16, this.value.addr, true);
    this.attrView.setBigUint64(24, BigInt(BPF_ANY), true);
  }

  update(key: Uint8Array, value: Uint8Array): void {
    this.prepare(key);
    this.value.bytes.set(value);
    bpf(BPF_MAP_UPDATE_ELEM, this.attr, `updating BPF map ${this.spec.name}`);
  }

  /** The value bytes (a copy), or undefined if the key is absent. */
  lookup(key: Uint8Array): Uint8Array | undefined {
    this.prepare(key);
    const r = bpfErrno(BPF_MAP_LOOKUP_ELEM, this.attr);
    return r < 0 ? undefined : this.value.bytes.slice(0, this.valueBytes);
  }

  delete(key: Uint8Array): boolean {
    this.prepare(key);
    return bpfErrno(BPF_MAP_DELETE_ELEM, this.attr) >= 0;
  }

  /** Every key, by BPF_MAP_GET_NEXT_KEY (for inspection and tests; the set may change while walking). */
  keys(): Uint8Array[] {
    const out: Uint8Array[] = [];
    const next = new NativeBuffer(Math.max(this.spec.keySize, 8));
    try {
      let first = true;
      for (;;) {
        this.attrView.setUint32(0, this.fdValue, true);
        this.attrView.setBigUint64(8, first ? 0n : this.key.addr, true);
        this.attrView.setBigUint64(16, next.addr, true);
        if (bpfErrno(BPF_MAP_GET_NEXT_KEY, this.attr) < 0) return out;
        const k = next.bytes.slice(0, this.spec.keySize);
        out.push(k);
        this.key.bytes.set(k);
        first = false;
      }
    } finally {
      next.free();
    }
  }

  close(): void {
    if (this.fdValue < 0) return;
    closeFd(this.fdValue);
    this.fdValue = -1;
    this.key.free();
    this.value.free();
  }
}

let cpus: number | undefined;
export function cpuCount(): number {
  cpus ??= possibleCpus(readFileSync('/sys/devices/system/cpu/possible', 'utf8'));
  return cpus;
}

export function u32Key(n: number): Uint8Array {
  const k = new Uint8Array(4);
  new DataView(k.buffer).setUint32(0, n >>> 0, true);
  return k;
}
