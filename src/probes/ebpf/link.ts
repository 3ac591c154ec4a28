import { existsSync, readFileSync } from 'node:fs';
import { bpf, closeFd, ioctl, NativeBuffer, perfEventOpen } from './sys.js';

/** Attaching loaded programs to hooks. Each link is an fd; closing it detaches the program. */

export const TRACEFS = '/sys/kernel/tracing';

const BPF_RAW_TRACEPOINT_OPEN = 17;
const PERF_TYPE_TRACEPOINT = 2;
const PERF_FLAG_FD_CLOEXEC = 8;
const PERF_EVENT_IOC_ENABLE = 0x2400;
const PERF_EVENT_IOC_SET_BPF = 0x40042408;
const PERF_ATTR_SIZE = 128;

export interface Link {
  readonly fd: number;
  close(): void;
}

class FdLink implements Link {
  constructor(private fdValue: number) {}
  get fd(): number {
    return this.fdValue;
  }
  close(): void {
    closeFd(this.fdValue);
    this.fdValue = -1;
  }
}

/** Raw tracepoint (BPF_PROG_TYPE_RAW_TRACEPOINT) by name, e.g. "sys_enter". */
export function attachRawTracepoint(progFd: number, name: string): Link {
  const nameBuf = NativeBuffer.cString(name);
  try {
    const attr = new Uint8Array(16);
    const v = new DataView(attr.buffer);
    v.setBigUint64(0, nameBuf.addr, true);
    v.setUint32(8, progFd, true);
    return new FdLink(bpf(BPF_RAW_TRACEPOINT_OPEN, attr, `attaching to raw tracepoint ${name}`));
  } finally {
    nameBuf.free();
  }
}

/** BTF-typed raw tracepoint (tp_btf: BPF_PROG_TYPE_TRACING loaded with the hook's BTF id); the program names its hook. */
export function attachTracing(progFd: number, what: string): Link {
  const attr = new Uint8Array(16);
  new DataView(attr.buffer).setUint32(8, progFd, true);
  return new FdLink(bpf(BPF_RAW_TRACEPOINT_OPEN, attr, `attaching to ${what}`));
}

/** The tracefs id of `category/name`, e.g. syscalls/sys_enter_ioperm. */
export function tracepointId(category: string, name: string): number {
  const path = `${TRACEFS}/events/${category}/${name}/id`;
  if (!existsSync(path)) {
    throw new Error(`tracepoint ${category}/${name} not found at ${path}: mount tracefs (mount -t tracefs nodev ${TRACEFS}) or check the kernel has this event`);
  }
  return Number(readFileSync(path, 'utf8').trim());
}

/** Classic tracepoint (BPF_PROG_TYPE_TRACEPOINT) through a perf event; the program then runs on every CPU. */
export function attachTracepoint(progFd: number, category: string, name: string): Link {
  const attr = new Uint8Array(PERF_ATTR_SIZE);
  const v = new DataView(attr.buffer);
  v.setUint32(0, PERF_TYPE_TRACEPOINT, true);
  v.setUint32(4, PERF_ATTR_SIZE, true);
  v.setBigUint64(8, BigInt(tracepointId(category, name)), true);
  v.setBigUint64(16, 1n, true); // sample_period
  v.setUint32(48, 1, true); // wakeup_events
  const fd = perfEventOpen(attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
  try {
    ioctl(fd, PERF_EVENT_IOC_SET_BPF, progFd, `attaching BPF program to ${category}/${name}`);
    ioctl(fd, PERF_EVENT_IOC_ENABLE, 0, `enabling ${category}/${name}`);
  } catch (e) {
    closeFd(fd);
    throw e;
  }
  return new FdLink(fd);
}
