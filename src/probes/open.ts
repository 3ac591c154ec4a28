import type { Probe, ProbeOptions } from './types.js';
import { openTracefsProbe } from './tracefs/probe.js';

export type BackendChoice = 'auto' | 'ebpf' | 'tracefs';

export interface OpenedProbe {
  probe: Probe;
  /** Why auto chose what it chose, when it fell back: one line for stderr. */
  note?: string;
}

/** Opens the requested backend; `auto` takes eBPF where BPF and BTF work, else tracefs, and says why. */
export async function openProbe(backend: BackendChoice, options: ProbeOptions): Promise<OpenedProbe> {
  if (backend === 'tracefs') return { probe: openTracefsProbe(options) };
  // loaded on demand: koffi and the BTF parser are not needed by the tracefs backend
  const ebpf = await import('./ebpf/probe.js');
  if (backend === 'ebpf') return { probe: ebpf.openEbpfProbe(options) };
  const support = ebpf.ebpfSupport();
  if (!support.ok) return { probe: openTracefsProbe(options), note: `eBPF unavailable (${support.reason}); using tracefs` };
  try {
    return { probe: ebpf.openEbpfProbe(options) };
  } catch (err) {
    const first = String((err as Error).message ?? err).split('\n')[0];
    return { probe: openTracefsProbe(options), note: `eBPF failed to start (${first}); using tracefs` };
  }
}
