import type { SyscallEvent } from '../../model/event.js';
import { numArg, outcome, portsTouched } from '../event-facts.js';
import { defineSignature } from './define.js';

interface CriticalRange {
  first: number;
  last: number;
  what: string;
}

/** Ports whose misuse takes the machine down or rewrites it below the OS. */
export const CRITICAL_PORTS: readonly CriticalRange[] = [
  { first: 0x64, last: 0x64, what: 'i8042 command port: pulses the CPU reset line (ATT&CK T1529)' },
  { first: 0x70, last: 0x71, what: 'CMOS/RTC: NMI mask and firmware settings (ATT&CK T1542.001)' },
  { first: 0xcf8, last: 0xcff, what: 'PCI configuration space: every PCI device, including the reset control register 0xCF9 (ATT&CK T1542.001)' },
];

const hex = (n: number) => `0x${n.toString(16)}`;

/** Fires on the attempt (turn_on set), granted or not: asking for these ports is the signal. iopl(3) is WP-004's. */
export const ioPortCritical = () =>
  defineSignature(
    {
      id: 'WP-003',
      eventId: 6003,
      eventName: 'io_port_critical',
      name: 'Critical I/O ports requested',
      description:
        'ioperm asked for ports that reset the machine (i8042 0x64), rewrite CMOS and mask NMIs (0x70-0x71), or reach every PCI device (0xCF8-0xCFF). Normal software goes through drivers for these.',
      severity: 3,
      mitre: { tactic: { id: 'TA0003', name: 'Persistence' }, technique: { id: 'T1542.001', name: 'Pre-OS Boot: System Firmware' } },
      tags: ['linux', 'host', 'container', 'hardware', 'io-ports', 'firmware'],
      remediation:
        'Treat as an incident unless a firmware or hardware-diagnostic tool was run on purpose: identify the program and its parent, check firmware settings and boot integrity (measured boot logs), and remove CAP_SYS_RAWIO from what does not need it.',
      fires: 'attempt',
    },
    ['ioperm'],
    (ev) => (numArg(ev, 'turn_on') ?? 0) !== 0 && touchesCritical(ev),
    (ev) => ({
      critical: criticalHits(ev)
        .map((c) => `${c.first === c.last ? hex(c.first) : `${hex(c.first)}-${hex(c.last)}`} ${c.what}`)
        .join('; '),
      outcome: outcome(ev),
    }),
  );

const overlaps = (r: { first: number; last: number }, c: CriticalRange): boolean => r.first <= c.last && c.first <= r.last;

/** Hot path: the ranges the call touches overlap a critical one (no array built). */
function touchesCritical(ev: SyscallEvent): boolean {
  for (const r of portsTouched(ev)) for (const c of CRITICAL_PORTS) if (overlaps(r, c)) return true;
  return false;
}

function criticalHits(ev: SyscallEvent): CriticalRange[] {
  const touched = portsTouched(ev);
  return CRITICAL_PORTS.filter((c) => touched.some((r) => overlaps(r, c)));
}
