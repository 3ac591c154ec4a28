import type { ArgDecoder, EventDefinition, StructDecoder } from '../catalog/types.js';
import type { EventArg, PortRangeOwner } from '../model/event.js';
import { errnoName } from './errno.js';
import { loadPmuTypes, perfConfigName, perfEventOpenFlags, perfTypeName, userfaultfdFlags } from './flags.js';
import { formatIoctl } from './ioctl.js';
import { ioplPorts, loadIoports, portOwners } from './ioports.js';

/** What an event's catalog entry asks for beyond its args: names for values, the ports a call opens, the errno. */

/** The decoders catalog entries name on their args (`ArgDefinition.decoder`). */
export const ARG_DECODERS: Readonly<Record<ArgDecoder, (v: number | bigint) => string>> = {
  'ioctl-request': formatIoctl,
  'userfaultfd-flags': userfaultfdFlags,
  'perf-event-open-flags': perfEventOpenFlags,
};

/** The decoders of structs read at entry (`EventDefinition.entryRead`), from their first bytes. */
export const STRUCT_DECODERS: Readonly<Record<StructDecoder, (bytes: Uint8Array) => string>> = {
  'perf-event-attr': perfAttrText,
};

export function errnoOf(ret: number): string | undefined {
  return ret < 0 ? errnoName(ret) : undefined;
}

function numeric(v: EventArg['value'] | undefined): number | bigint | undefined {
  return typeof v === 'number' || typeof v === 'bigint' ? v : undefined;
}

const valueOf = (args: readonly EventArg[], name: string): EventArg['value'] | undefined => args.find((a) => a.name === name)?.value;

/** The I/O ports a call names (its entry's `ports`), with their owners on this host; undefined for events that name none. */
export function portsOf(def: EventDefinition, args: readonly EventArg[]): PortRangeOwner[] | undefined {
  const p = def.ports;
  if (p === undefined) return undefined;
  if (p.kind === 'range') {
    const from = numeric(valueOf(args, p.from));
    const num = numeric(valueOf(args, p.num));
    if (from === undefined || num === undefined) return undefined;
    return portOwners(from, num, loadIoports());
  }
  const level = numeric(valueOf(args, p.level));
  if (level === undefined) return undefined;
  const r = ioplPorts(Number(level));
  return r.num ? portOwners(r.from, r.num, loadIoports()) : [];
}

/** perf_event_attr's type (u32 at 0) and config (u64 at 8), e.g. "type=PERF_TYPE_SOFTWARE config=PERF_COUNT_SW_CPU_CLOCK". */
function perfAttrText(bytes: Uint8Array): string {
  const d = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = d.getUint32(0, true);
  return `type=${perfTypeName(type, loadPmuTypes())} config=${perfConfigName(type, d.getBigUint64(8, true))}`;
}

/**
 * The names of the args whose entry has a decoder, by arg name. `entryStruct`: what the probe read at entry for the
 * entry's `entryRead` (eBPF only; null: the read failed, shown as "unread").
 */
export function decodedArgs(def: EventDefinition, args: readonly EventArg[], entryStruct?: Uint8Array | null): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    // the probe's args are the entry's, in order; a recording's may leave some out
    const decoder = (def.args[i]?.name === a.name ? def.args[i] : def.args.find((d) => d.name === a.name))?.decoder;
    const v = numeric(a.value);
    if (decoder !== undefined && v !== undefined) (out ??= {})[a.name] = ARG_DECODERS[decoder](v);
  }
  const read = def.entryRead;
  if (read !== undefined && entryStruct !== undefined) (out ??= {})[read.arg] = entryStruct === null ? 'unread' : STRUCT_DECODERS[read.decoder](entryStruct);
  return out;
}
