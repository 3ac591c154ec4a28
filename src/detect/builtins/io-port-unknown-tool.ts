import type { SyscallEvent } from '../../model/event.js';
import { outcome, portsText, programName, requestsPortAccess } from '../event-facts.js';
import { defineSignature } from './define.js';
import { SYSTEM_DIRS } from '../../enforce/kill-rules.js';

/** Programs that touch I/O ports for a living (flashrom, pciutils, i2c-tools, lm-sensors, coreboot utils, …). */
export const DEFAULT_HW_TOOLS: readonly string[] = [
  'flashrom', 'dmidecode', 'lspci', 'setpci', 'i2cdetect', 'i2cdump', 'i2cget', 'i2cset', 'isadump', 'isaset',
  'superiotool', 'inteltool', 'ectool', 'nvramtool', 'x86info', 'hwinfo', 'sensors', 'sensors-detect',
];


/**
 * An allow-list entry with a slash is an exact executable path; a bare name matches an executable of that name in a
 * system directory (or the comm, when the executable is unknown). Names alone would let /tmp/flashrom through.
 */
export function allowListMatcher(entries: readonly string[]): (ev: SyscallEvent) => boolean {
  const paths = new Set(entries.filter((e) => e.includes('/')));
  const names = new Set(entries.filter((e) => !e.includes('/')));
  const test = (ev: SyscallEvent): boolean => {
    const path = ev.executable.path;
    if (path) return paths.has(path) || (names.has(programName(ev)) && SYSTEM_DIRS.some((d) => path.startsWith(d) && !path.slice(d.length).includes('/')));
    return [...names].some((n) => n.slice(0, 15) === ev.processName);
  };
  // the answer of the last executable and comm asked: a storm asks about one process
  let lastPath: string | undefined;
  let lastComm: string | undefined;
  let answer = false;
  return (ev) => {
    const path = ev.executable.path;
    const comm = ev.processName;
    if (path !== lastPath || comm !== lastComm) {
      answer = test(ev);
      lastPath = path;
      lastComm = comm;
    }
    return answer;
  };
}

/** Fires on the attempt: a program outside the allow-list asking for ports, granted or not. */
export const ioPortUnknownTool = (extraAllowed: readonly string[] = []) => {
  const allowed = allowListMatcher([...DEFAULT_HW_TOOLS, ...extraAllowed]);
  return defineSignature(
    {
      id: 'WP-005',
      eventId: 6005,
      eventName: 'io_port_unknown_tool',
      name: 'Raw port access by a program not on the hardware-tool allow-list',
      description:
        'A program that is not a known hardware tool asked for direct I/O port access (ioperm turn_on, iopl above 0). Rootkits and implants use raw ports to reach firmware, keyboards and disks below the OS.',
      severity: 2,
      mitre: { tactic: { id: 'TA0005', name: 'Defense Evasion' }, technique: { id: 'T1014', name: 'Rootkit' } },
      tags: ['linux', 'host', 'container', 'hardware', 'io-ports'],
      remediation:
        'Identify the executable (path, package, hash) and who started it. If it is a legitimate hardware tool, add its path with --allow-hw-tool PATH; otherwise isolate the host.',
      fires: 'attempt',
    },
    ['ioperm', 'iopl'],
    (ev) => requestsPortAccess(ev) && !allowed(ev),
    (ev) => ({ program: ev.executable.path || ev.processName, ports: portsText(ev), outcome: outcome(ev) }),
  );
};
