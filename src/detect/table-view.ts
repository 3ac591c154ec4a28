import { argText } from '../catalog/arg-display.js';
import type { EventArg, SyscallEvent } from '../model/event.js';
import { isFinding, repeatsOf, severityOf } from './finding-event.js';
import { type Severity, SEVERITY_NAMES } from '../model/finding.js';

const EVENT_WIDTH = 17;
const COLOURS: Record<Severity, string> = { 0: '\x1b[36m', 1: '\x1b[33m', 2: '\x1b[31m', 3: '\x1b[1;31m' };
const RESET = '\x1b[0m';
const STRING = 'const char *' as EventArg['type'];

function callText(trigger: { name?: unknown; args?: unknown; returnValue?: unknown }): string {
  const args = Array.isArray(trigger.args) ? (trigger.args as EventArg[]) : [];
  const shown = args.map((a) => `${a.name}=${argText(String(trigger.name), a.name, a.value)}`).join(', ');
  return `${String(trigger.name)}(${shown}) = ${String(trigger.returnValue)}`;
}

/** "×199 more in 420 ms": how many repeats a summary stands for, over what span of time. */
function repeatsText(count: number, spanNs: bigint): string {
  const ns = Number(spanNs);
  return `×${count} more in ${ns < 1e9 ? `${Math.round(ns / 1e6)} ms` : `${(ns / 1e9).toFixed(1)} s`}`;
}

/**
 * The table's view of a batch: a finding's EVENT cell gets a `!` marker and its severity (coloured on a terminal),
 * its ARGS the signature and the call that triggered it; a summary of repeats ends with their count. Plain events pass unchanged.
 */
export function tableView(batch: readonly SyscallEvent[], colour: boolean): SyscallEvent[] {
  return batch.map((ev) => {
    if (!isFinding(ev)) return ev;
    const sev = severityOf(ev);
    const label = `!${sev === undefined ? '' : SEVERITY_NAMES[sev]} ${ev.eventName}`;
    const pad = ' '.repeat(Math.max(1, EVENT_WIDTH - label.length));
    const meta = ev.metadata as { Properties?: { signatureID?: string; signatureName?: string }; triggeredBy?: { name?: unknown; args?: unknown; returnValue?: unknown } };
    const args: EventArg[] = [{ name: meta.Properties?.signatureID ?? '', type: STRING, value: meta.Properties?.signatureName ?? '' }];
    if (meta.triggeredBy) args.push({ name: 'call', type: STRING, value: `${callText(meta.triggeredBy)}${ev.contextFlags.isCompat ? ' (32-bit caller)' : ''}` });
    const repeats = repeatsOf(ev);
    if (repeats) args.push(...ev.args.slice(0, -3), { name: 'repeated', type: STRING, value: repeatsText(repeats.count, repeats.spanNs) });
    else args.push(...ev.args);
    return {
      ...ev,
      eventName: colour && sev !== undefined ? `${COLOURS[sev]}${label}${RESET}${pad}` : `${label}${pad}`,
      contextFlags: { ...ev.contextFlags, isCompat: false }, // the "(32)" mark belongs to the call, shown in ARGS
      args,
    };
  });
}
