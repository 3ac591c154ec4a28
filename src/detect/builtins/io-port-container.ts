import { outcome, portsText } from '../event-facts.js';
import { defineSignature } from './define.js';

/** Fires on any ioperm/iopl call from a container, whatever the result: runtimes' default seccomp profiles block both. */
export const ioPortFromContainer = () =>
  defineSignature(
    {
      id: 'WP-002',
      eventId: 6002,
      eventName: 'io_port_container',
      name: 'I/O port access attempted from a container',
      description:
        'A process in a container called ioperm or iopl. Docker, containerd and CRI-O default seccomp profiles refuse both, so the call means a privileged or unconfined container running code that drives hardware directly: a container escape path.',
      severity: 2,
      mitre: { tactic: { id: 'TA0004', name: 'Privilege Escalation' }, technique: { id: 'T1611', name: 'Escape to Host' } },
      tags: ['linux', 'container', 'hardware', 'io-ports'],
      remediation:
        'Find why the container can reach raw I/O: drop --privileged and CAP_SYS_RAWIO, keep the runtime default seccomp profile (RuntimeDefault in Kubernetes), and inspect the image for hardware-access code.',
      fires: 'attempt',
    },
    ['ioperm', 'iopl'],
    (ev) => Boolean(ev.containerId),
    (ev) => ({ container: ev.containerId, ports: portsText(ev), outcome: outcome(ev) }),
  );
