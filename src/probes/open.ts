import { EnvironmentError, UsageError } from '../model/errors.js';
import type { Probe, ProbeOptions } from './types.js';

// each backend loaded on demand: the other's modules (koffi and the BTF parser for eBPF) cost start-up time for nothing
const tracefs = async (options: ProbeOptions): Promise<Probe> => (await import('./tracefs/probe.js')).openTracefsProbe(options);

export type BackendChoice = 'auto' | 'ebpf' | 'tracefs';

export interface OpenedProbe {
  probe: Probe;
  /** Why auto chose what it chose, when it fell back: one line for stderr. */
  note?: string;
}

/**
 * Opens the requested backend; `auto` takes eBPF where BPF and BTF work, else tracefs, and says why. `needsEbpf`: why
 * this trace cannot fall back to tracefs (a string filter needs the text only eBPF reads).
 */
export async function openProbe(backend: BackendChoice, options: ProbeOptions, needsEbpf?: string): Promise<OpenedProbe> {
  const enforcing = (options.enforce?.rules.length ?? 0) > 0;
  if (backend === 'tracefs') {
    if (enforcing) throw new UsageError(TRACEFS_CANNOT_ENFORCE);
    return { probe: await tracefs(options) };
  }
  const ebpf = await import('./ebpf/probe.js');
  if (backend === 'ebpf') return { probe: ebpf.openEbpfProbe(options) };
  const support = ebpf.ebpfSupport();
  // Kill rules are decided in the kernel or not at all: no fallback to a backend that can only report.
  if (enforcing) {
    if (!support.ok) throw new EnvironmentError(`kill rules need the eBPF backend, which is unavailable here (${support.reason}); drop the kill rules to trace with tracefs`);
    return { probe: ebpf.openEbpfProbe(options) };
  }
  if (needsEbpf !== undefined) {
    if (!support.ok) throw new EnvironmentError(`${needsEbpf}, which only the eBPF backend reads, and eBPF is unavailable here (${support.reason}); drop the string filter to trace with tracefs`);
    return { probe: ebpf.openEbpfProbe(options) };
  }
  if (!support.ok) return { probe: await tracefs(options), note: `eBPF unavailable (${support.reason}); using tracefs` };
  try {
    return { probe: ebpf.openEbpfProbe(options) };
  } catch (err) {
    const first = String((err as Error).message ?? err).split('\n')[0];
    return { probe: await tracefs(options), note: `eBPF failed to start (${first}); using tracefs` };
  }
}

/** Why the tracefs backend cannot take kill rules, in one line. */
export const TRACEFS_CANNOT_ENFORCE =
  '--backend tracefs cannot enforce: it only reads the ring buffer after the call, and a kill must be decided in the kernel at syscall entry (bpf_send_signal); use --backend ebpf or auto';
