import { argText } from '../catalog/arg-display.js';
import { formatPortOwners } from '../enrich/ioports.js';
import type { ArgValue, SyscallEvent } from '../model/event.js';

/** Tracee's table columns. */
export const TABLE_HEADER = `${'TIME'.padEnd(18)}${'UID'.padEnd(7)}${'COMM'.padEnd(17)}${'PID'.padEnd(8)}${'TID'.padEnd(8)}${'RET'.padEnd(13)}${'EVENT'.padEnd(17)}ARGS`;

/** Tracee's table-verbose columns: the table's, with the process's UTS name, container, namespaces and parent. */
export const TABLE_VERBOSE_HEADER = `${'TIME'.padEnd(18)}${'UTS_NAME'.padEnd(17)}${'CONTAINER_ID'.padEnd(14)}${'MNT_NS'.padEnd(13)}${'PID_NS'.padEnd(13)}${'UID'.padEnd(7)}${'COMM'.padEnd(17)}${'PID'.padEnd(8)}${'TID'.padEnd(8)}${'PPID'.padEnd(8)}${'RET'.padEnd(13)}${'EVENT'.padEnd(17)}ARGS`;

function clockTime(epochNs: number): string {
  const d = new Date(Math.floor(epochNs / 1e6));
  const micros = String(Math.floor((epochNs / 1e3) % 1e6)).padStart(6, '0');
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${micros}`;
}

/** A string arg read from user memory: quoted and escaped as JSON (no control bytes reach the terminal), marked when cut or unread. */
function text(e: SyscallEvent, name: string, v: ArgValue): string {
  if (v === null) return 'null (unreadable)';
  return e.truncatedArgs?.includes(name) ? `${JSON.stringify(v)}... (truncated)` : JSON.stringify(v);
}

function argsText(e: SyscallEvent): string {
  let args = e.args
    .map((a) => {
      const decoded = e.decoded?.[a.name];
      if (a.type === 'string' || e.unreadArgs?.includes(a.name)) return `${a.name}: ${text(e, a.name, a.value)}`;
      if (decoded === undefined) return `${a.name}: ${argText(e.eventName, a.name, a.value)}`;
      return a.type === 'pointer' ? `${a.name}: ${argText(e.eventName, a.name, a.value)} (${decoded})` : `${a.name}: ${decoded}`; // keep the address a decoded pointer came from
    })
    .join(', ');
  if (e.ports) {
    const all = e.ports.length > 0 && e.ports[0].first === 0 && e.ports[e.ports.length - 1].last === 0xffff;
    args += all ? ' [all 65536 ports 0x0-0xffff]' : ` [${formatPortOwners(e.ports)}]`;
  }
  return args;
}

/** UID COMM PID TID, with the parent's pid after TID in the verbose table. */
function processColumns(e: SyscallEvent, ppid: boolean): string {
  return (
    String(e.userId).padEnd(7) +
    e.processName.slice(0, 16).padEnd(17) +
    String(e.processId).padEnd(8) +
    String(e.threadId).padEnd(8) +
    (ppid ? String(e.parentProcessId).padEnd(8) : '')
  );
}

/** RET EVENT ARGS. */
function callColumns(e: SyscallEvent, args: string): string {
  const event = e.contextFlags.isCompat ? `${e.eventName}(32)` : e.eventName;
  const ret = e.errno ? `${e.returnValue} ${e.errno}` : String(e.returnValue);
  return ret.padEnd(13) + event.padEnd(17) + args;
}

export function eventToRow(e: SyscallEvent): string {
  let args = argsText(e);
  if (e.containerId) args += ` (container ${e.containerId.slice(0, 12)}${e.containerRuntime ? ` ${e.containerRuntime}` : ''})`;
  return clockTime(e.timestamp).padEnd(18) + processColumns(e, false) + callColumns(e, args);
}

/** A row of Tracee's table-verbose: the container has its own column there. */
export function eventToVerboseRow(e: SyscallEvent): string {
  return (
    clockTime(e.timestamp).padEnd(18) +
    e.hostName.slice(0, 16).padEnd(17) +
    e.containerId.slice(0, 12).padEnd(14) +
    String(e.mountNamespace).padEnd(13) +
    String(e.pidNamespace).padEnd(13) +
    processColumns(e, true) +
    callColumns(e, argsText(e))
  );
}
