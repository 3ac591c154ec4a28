import { EVENT_KERNEL_NOTES } from '../catalog/kernel-notes.js';
import type { EventDefinition } from '../catalog/types.js';
import { errnoNumber } from '../enrich/errno.js';
import type { CheckResult } from './check.js';
import { isSet, type KernelConfig } from './kernel-config.js';
import type { RoundTripCall } from './round-trip.js';

/** Options Watchpost itself needs: what goes wrong without each, and how bad that is. */
const TRACING: ReadonlyArray<{ option: string; status: 'fail' | 'warn'; without: string }> = [
  { option: 'CONFIG_FTRACE_SYSCALLS', status: 'fail', without: 'no syscall tracepoints: neither backend can trace' },
  { option: 'CONFIG_BPF_SYSCALL', status: 'warn', without: 'no bpf(2): only the tracefs backend works' },
  { option: 'CONFIG_BPF_EVENTS', status: 'warn', without: 'BPF programs cannot attach to tracepoints: only the tracefs backend works' },
  { option: 'CONFIG_DEBUG_INFO_BTF', status: 'warn', without: 'no kernel BTF: only the tracefs backend works' },
];

const ENOSYS = -(errnoNumber('ENOSYS') ?? 38);

/**
 * The build options that matter, from the kernel config when it is readable; the round trip's ENOSYS results
 * confirm (or, without a config, reveal) a syscall that is not built in.
 */
export function checkKernelOptions(config: KernelConfig | undefined, events: readonly EventDefinition[], seen: readonly RoundTripCall[]): CheckResult {
  const name = 'kernel options';
  const enosys = new Set(seen.filter((s) => s.ret === ENOSYS).map((s) => s.event));
  const notes = events.flatMap((e) => (EVENT_KERNEL_NOTES[e.name]?.options ?? []).map((o) => ({ event: e.name, ...o })));
  const byOption = new Map<string, { events: string[]; without: string }>();
  for (const n of notes) {
    const entry = byOption.get(n.option) ?? { events: [], without: n.without };
    entry.events.push(n.event);
    byOption.set(n.option, entry);
  }
  const confirm = (evs: string[]): string => {
    const hit = evs.filter((e) => enosys.has(e));
    return hit.length ? ` (the round trip confirms: ${hit.join(' and ')} returned -38 ENOSYS)` : '';
  };

  if (!config) {
    const inferred = [...byOption].filter(([, v]) => v.events.some((e) => enosys.has(e)));
    const says = inferred.length
      ? inferred.map(([option, v]) => `${v.events.filter((e) => enosys.has(e)).join(' and ')} returned -38 ENOSYS in the round trip, so ${option} is unset: ${v.without}`).join('; ')
      : 'the round trip shows no syscall missing';
    return { status: 'ok', name, detail: `kernel config not readable (no /proc/config.gz, no /boot/config-<release>); ${says}` };
  }

  const parts: string[] = [];
  let status: CheckResult['status'] = 'ok';
  const fixes: string[] = [];
  for (const t of TRACING) {
    if (isSet(config, t.option)) continue;
    parts.push(`${t.option} is not set: ${t.without}`);
    if (status !== 'fail') status = t.status;
    fixes.push(`a kernel with ${t.option}=y`);
  }
  const present = TRACING.filter((t) => isSet(config, t.option)).map((t) => t.option);
  if (present.length) parts.unshift(`${present.join(', ')} set`);
  if (!isSet(config, 'CONFIG_IA32_EMULATION')) parts.push('CONFIG_IA32_EMULATION is not set: no 32-bit callers can exist here');
  for (const [option, v] of byOption) {
    if (isSet(config, option)) parts.push(`${option} set (${v.events.join(', ')})`);
    else parts.push(`${option} is not set (${v.events.join(', ')}): ${v.without}${confirm(v.events)}`);
  }
  return { status, name, detail: `from ${config.source}: ${parts.join('; ')}`, ...(fixes.length ? { fix: `use ${fixes.join(', ')}` } : {}) };
}
