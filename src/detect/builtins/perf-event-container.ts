import { outcome } from '../event-facts.js';
import { defineSignature } from './define.js';

/** Fires on any perf_event_open from a container, whatever the result: runtimes' default seccomp profiles block it. */
export const perfEventFromContainer = () =>
  defineSignature(
    {
      id: 'WP-007',
      eventId: 6007,
      eventName: 'perf_event_container',
      name: 'perf_event_open from a container',
      description:
        'A process in a container called perf_event_open. Default container seccomp profiles block it: it exposes kernel and other processes\' activity and has been the entry point of several kernel privilege escalations.',
      severity: 2,
      mitre: { tactic: { id: 'TA0004', name: 'Privilege Escalation' }, technique: { id: 'T1068', name: 'Exploitation for Privilege Escalation' } },
      tags: ['linux', 'container', 'kernel'],
      remediation:
        'Keep the runtime default seccomp profile, drop CAP_PERFMON/CAP_SYS_ADMIN, and set kernel.perf_event_paranoid to 3 (or 2) on the host; profile workloads from the host instead.',
      fires: 'attempt',
    },
    ['perf_event_open'],
    (ev) => Boolean(ev.containerId),
    (ev) => ({ container: ev.containerId, outcome: outcome(ev) === 'granted' ? 'fd created' : outcome(ev) }),
  );
