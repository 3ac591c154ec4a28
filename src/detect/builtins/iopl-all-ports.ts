import { numArg, outcome } from '../event-facts.js';
import { defineSignature } from './define.js';

/** Fires on the attempt: asking for level 3 is asking for all 65536 ports, the critical ones included. */
export const ioplAllPorts = () =>
  defineSignature(
    {
      id: 'WP-004',
      eventId: 6004,
      eventName: 'iopl_all_ports',
      name: 'iopl(3): the whole I/O port space requested',
      description:
        'iopl(3) opens every I/O port (0-0xFFFF) to the thread, including the reset, CMOS and PCI configuration ports; since Linux 5.5 the kernel emulates it with an all-ones I/O bitmap. Only legacy software (old X servers, DOS emulators) asks for it.',
      severity: 3,
      mitre: { tactic: { id: 'TA0003', name: 'Persistence' }, technique: { id: 'T1542.001', name: 'Pre-OS Boot: System Firmware' } },
      tags: ['linux', 'host', 'container', 'hardware', 'io-ports'],
      remediation:
        'Identify the program; a modern tool needing ports should use ioperm on its own range. Remove CAP_SYS_RAWIO where it is not needed and prefer kernels built without CONFIG_X86_IOPL_IOPERM.',
      fires: 'attempt',
    },
    ['iopl'],
    (ev) => numArg(ev, 'level') === 3,
    (ev) => ({ ports: '0x0-0xffff (all)', outcome: outcome(ev) }),
  );
