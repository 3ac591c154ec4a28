import { formatPortOwners } from '../enrich/ioports.js';
import type { ArgValue, SyscallEvent } from '../model/event.js';

/** Tracee's table columns. */
export const TABLE_HEADER = `${'TIME'.padEnd(18)}${'UID'.padEnd(7)}${'COMM'.padEnd(17)}${'PID'.padEnd(8)}${'TID'.padEnd(8)}${'RET'.padEnd(13)}${'EVENT'.padEnd(17)}ARGS`;

const HEX_ARGS = new Set(['from', 'request', 'arg', 'flags']);

function clockTime(epochNs: number): string {
  const d = new Date(Math.floor(epochNs / 1e6));
  const micros = String(Math.floor((epochNs / 1e3) % 1e6)).padStart(6, '0');
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${micros}`;
}

function show(name: string, v: ArgValue): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return v;
  if (HEX_ARGS.has(name) && v >= 0) return `0x${v.toString(16)}`;
  return String(v);
}

export function eventToRow(e: SyscallEvent): string {
  let args = e.args
    .map((a) => {
      const decoded = e.decoded?.[a.name];
      if (decoded === undefined) return `${a.name}: ${show(a.name, a.value)}`;
      return a.type === 'pointer' ? `${a.name}: ${show(a.name, a.value)} (${decoded})` : `${a.name}: ${decoded}`; // keep the address a decoded pointer came from
    })
    .join(', ');
  if (e.ports) {
    const all = e.ports.length > 0 && e.ports[0].first === 0 && e.ports[e.ports.length - 1].last === 0xffff;
    args += all ? ' [all 65536 ports 0x0-0xffff]' : ` [${formatPortOwners(e.ports)}]`;
  }
  if (e.containerId) args += ` (container ${e.containerId.slice(0, 12)}${e.containerRuntime ? ` ${e.containerRuntime}` : ''})`;
  const event = e.contextFlags.isCompat ? `${e.eventName}(32)` : e.eventName;
  const ret = e.errno ? `${e.returnValue} ${e.errno}` : String(e.returnValue);
  return (
    clockTime(e.timestamp).padEnd(18) +
    String(e.userId).padEnd(7) +
    e.processName.slice(0, 16).padEnd(17) +
    String(e.processId).padEnd(8) +
    String(e.threadId).padEnd(8) +
    ret.padEnd(13) +
    event.padEnd(17) +
    args
  );
}
