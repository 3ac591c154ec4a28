import { outcome, portsText, requestsPortAccess, succeeded } from '../event-facts.js';
import { defineSignature } from './define.js';

/** Fires only on success: on kernels without ioperm/iopl (-ENOSYS) or under lockdown (-EPERM) nothing was granted. */
export const ioPortGranted = () =>
  defineSignature(
    {
      id: 'WP-001',
      eventId: 6001,
      eventName: 'io_port_granted',
      name: 'I/O port access granted',
      description:
        'The kernel granted a thread direct access to I/O ports (ioperm with turn_on set, or iopl above 0, returned 0). The thread can now run in/out instructions on that hardware, bypassing every driver and its checks.',
      severity: 2,
      mitre: { tactic: { id: 'TA0005', name: 'Defense Evasion' }, technique: { id: 'T1014', name: 'Rootkit' } },
      tags: ['linux', 'host', 'container', 'hardware', 'io-ports'],
      remediation:
        'Check that the program is a hardware tool you expect. Remove CAP_SYS_RAWIO from services that do not need it (systemd CapabilityBoundingSet=~CAP_SYS_RAWIO), enable kernel lockdown, or build kernels without CONFIG_X86_IOPL_IOPERM.',
      fires: 'success',
    },
    ['ioperm', 'iopl'],
    (ev) => succeeded(ev) && requestsPortAccess(ev),
    (ev) => ({ ports: portsText(ev), outcome: outcome(ev) }),
  );
