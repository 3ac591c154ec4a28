import type { EventArg, PortRangeOwner } from '../model/event.js';
import { errnoName } from './errno.js';
import type { CompletedSyscall } from '../probes/types.js';
import { loadPmuTypes, perfConfigName, perfEventOpenFlags, perfTypeName, userfaultfdFlags } from './flags.js';
import { formatIoctl } from './ioctl.js';
import { ioplPorts, loadIoports, portOwners } from './ioports.js';

/** Decoders of argument values into names, by event and arg. */
const DECODERS: Record<string, Record<string, (v: number | bigint) => string>> = {
  ioctl: { request: formatIoctl },
  userfaultfd: { flags: userfaultfdFlags },
  perf_event_open: { flags: perfEventOpenFlags },
};

export function errnoOf(ret: number): string | undefined {
  return ret < 0 ? errnoName(ret) : undefined;
}

function numeric(v: EventArg['value']): number | bigint | undefined {
  return typeof v === 'number' || typeof v === 'bigint' ? v : undefined;
}

/** The I/O ports an ioperm/iopl call names, with their owners on this host. */
export function portsOf(eventName: string, args: readonly EventArg[]): PortRangeOwner[] | undefined {
  if (eventName === 'ioperm') {
    const from = numeric(args[0]?.value);
    const num = numeric(args[1]?.value);
    if (from === undefined || num === undefined) return undefined;
    return portOwners(from, num, loadIoports());
  }
  if (eventName === 'iopl') {
    const level = numeric(args[0]?.value);
    if (level === undefined) return undefined;
    const r = ioplPorts(Number(level));
    return r.num ? portOwners(r.from, r.num, loadIoports()) : [];
  }
  return undefined;
}

/** perf_event_open's attr as the eBPF probe read it, e.g. "type=PERF_TYPE_SOFTWARE config=PERF_COUNT_SW_CPU_CLOCK"; "unread" when it could not. */
export function perfAttrText(attr: NonNullable<CompletedSyscall['perfAttr']> | null): string {
  if (attr === null) return 'unread';
  return `type=${perfTypeName(attr.type, loadPmuTypes())} config=${perfConfigName(attr.type, attr.config)}`;
}

/** `perfAttr`: what the probe read behind perf_event_open's attr pointer (eBPF only), decoded as `attr`. */
export function decodedArgs(eventName: string, args: readonly EventArg[], perfAttr?: CompletedSyscall['perfAttr']): Record<string, string> | undefined {
  const decoders = DECODERS[eventName];
  if (!decoders) return undefined;
  let out: Record<string, string> | undefined;
  for (const a of args) {
    const d = decoders[a.name];
    const v = numeric(a.value);
    if (d && v !== undefined) (out ??= {})[a.name] = d(v);
  }
  if (perfAttr !== undefined) (out ??= {}).attr = perfAttrText(perfAttr);
  return out;
}
