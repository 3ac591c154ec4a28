import { assemble, type Instruction } from './asm.js';
import { bpfErrno, closeFd, NativeBuffer, SyscallError } from './sys.js';

/** Loading programs into the kernel; a rejected program throws with the verifier's log. */

export const ProgramType = { tracepoint: 5, rawTracepoint: 17, tracing: 26 } as const;
/** expected_attach_type of a tp_btf program. */
export const BPF_TRACE_RAW_TP = 23;

const BPF_PROG_LOAD = 5;
const LOG_SIZE = 1 << 20;

export interface ProgramSpec {
  name: string;
  type: number;
  instructions: readonly Instruction[];
  license?: string;
  expectedAttachType?: number;
  attachBtfId?: number;
}

/** The kernel refused a program; `log` is the verifier's explanation. */
export class VerifierError extends Error {
  override name = 'VerifierError';
  constructor(
    readonly program: string,
    readonly errno: number,
    readonly log: string,
  ) {
    super(`loading BPF program ${program} failed (errno ${errno}); verifier log:\n${log.trim() || '(empty)'}`);
  }
}

export class Program {
  private fdValue: number;

  constructor(readonly spec: ProgramSpec) {
    this.fdValue = load(spec);
  }

  get fd(): number {
    return this.fdValue;
  }

  close(): void {
    if (this.fdValue < 0) return;
    closeFd(this.fdValue);
    this.fdValue = -1;
  }
}

function load(spec: ProgramSpec): number {
  const code = NativeBuffer.from(assemble(spec.instructions));
  const license = NativeBuffer.cString(spec.license ?? 'GPL');
  const attr = new Uint8Array(128);
  const v = new DataView(attr.buffer);
  const fill = (log: NativeBuffer | undefined): void => {
    v.setUint32(0, spec.type, true);
    v.setUint32(4, code.size / 8, true);
    v.setBigUint64(8, code.addr, true);
    v.setBigUint64(16, license.addr, true);
    v.setUint32(24, log ? 1 : 0, true);
    v.setUint32(28, log ? log.size : 0, true);
    v.setBigUint64(32, log ? log.addr : 0n, true);
    attr.set(new TextEncoder().encode(spec.name.slice(0, 15)), 48);
    v.setUint32(68, spec.expectedAttachType ?? 0, true);
    v.setUint32(108, spec.attachBtfId ?? 0, true);
  };
  try {
    // First try without a log (cheaper); on failure load again with the log to explain why.
    fill(undefined);
    const fd = progLoad(attr);
    if (fd >= 0) return fd;
    const log = new NativeBuffer(LOG_SIZE);
    try {
      attr.fill(0);
      fill(log);
      const again = progLoad(attr);
      if (again >= 0) return again;
      const end = log.bytes.indexOf(0);
      const text = Buffer.from(log.bytes.subarray(0, end < 0 ? log.size : end)).toString('utf8');
      if (text.trim() === '') throw new SyscallError(`loading BPF program ${spec.name}`, -again, 'the kernel gave no verifier log: run as root, and check that lockdown allows this program type');
      throw new VerifierError(spec.name, -again, text);
    } finally {
      log.free();
    }
  } finally {
    code.free();
    license.free();
  }
}

const EAGAIN = 11;

/**
 * BPF_PROG_LOAD, tried again while the verifier gives up with EAGAIN: it does whenever a signal is pending (a profiler's
 * SIGPROF, a Ctrl-C being handled at start-up), whatever the program. libbpf retries five times too.
 */
function progLoad(attr: Uint8Array): number {
  let r = bpfErrno(BPF_PROG_LOAD, attr);
  for (let attempt = 1; r === -EAGAIN && attempt < 5; attempt++) r = bpfErrno(BPF_PROG_LOAD, attr);
  return r;
}

const BPF_PROG_GET_NEXT_ID = 11;
const BPF_PROG_GET_FD_BY_ID = 13;
const BPF_OBJ_GET_INFO_BY_FD = 15;
const PROG_INFO_SIZE = 232;

export interface ProgramInfo {
  id: number;
  name: string;
}

/** The kernel's id and name of a loaded program. */
export function programInfo(fd: number): ProgramInfo {
  const info = new NativeBuffer(PROG_INFO_SIZE);
  try {
    const attr = new Uint8Array(16);
    const v = new DataView(attr.buffer);
    v.setUint32(0, fd, true);
    v.setUint32(4, PROG_INFO_SIZE, true);
    v.setBigUint64(8, info.addr, true);
    const r = bpfErrno(BPF_OBJ_GET_INFO_BY_FD, attr);
    if (r < 0) throw new SyscallError('BPF_OBJ_GET_INFO_BY_FD', -r);
    const d = new DataView(info.bytes.buffer, info.bytes.byteOffset, PROG_INFO_SIZE);
    const nameBytes = info.bytes.subarray(64, 80);
    const end = nameBytes.indexOf(0);
    return { id: d.getUint32(4, true), name: Buffer.from(nameBytes.subarray(0, end < 0 ? 16 : end)).toString('latin1') };
  } finally {
    info.free();
  }
}

/** Every BPF program loaded in the kernel right now (needs root), by walking BPF_PROG_GET_NEXT_ID. */
export function loadedPrograms(): ProgramInfo[] {
  const out: ProgramInfo[] = [];
  const attr = new Uint8Array(16);
  const v = new DataView(attr.buffer);
  let id = 0;
  for (;;) {
    attr.fill(0);
    v.setUint32(0, id, true);
    if (bpfErrno(BPF_PROG_GET_NEXT_ID, attr) < 0) return out;
    id = v.getUint32(4, true);
    attr.fill(0);
    v.setUint32(0, id, true);
    const fd = bpfErrno(BPF_PROG_GET_FD_BY_ID, attr);
    if (fd < 0) continue; // unloaded meanwhile
    try {
      out.push(programInfo(fd));
    } finally {
      closeFd(fd);
    }
  }
}
