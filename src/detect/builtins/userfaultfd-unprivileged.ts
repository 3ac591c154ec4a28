import { defineSignature } from './define.js';

/**
 * Falco's "Unprivileged Delegation of Page Faults Handling to a Userspace Process" (falcosecurity/rules, sandbox):
 * `evt.type = userfaultfd and user.uid != 0 and (evt.rawres >= 0 or evt.res != -1) and not proc.name in
 * (user_known_userfaultfd_processes)`. evt.res is never -1 (it is "SUCCESS" or an errno name), so the rule fires on
 * every unprivileged call, failed ones included: so does this one. An unknown uid (-1, process gone) does not fire.
 */
export const userfaultfdUnprivileged = (knownProcesses: readonly string[] = []) =>
  defineSignature(
    {
      id: 'WP-006',
      eventId: 6006,
      eventName: 'userfaultfd_unprivileged',
      name: 'Unprivileged delegation of page faults to a user-space process',
      description:
        'A non-root process called userfaultfd. Handling page faults in user space lets an exploit stall the kernel at a chosen instant, widening race windows; it is a common primitive in kernel exploits.',
      severity: 3,
      mitre: { tactic: { id: 'TA0005', name: 'Defense Evasion' }, technique: { id: 'T1211', name: 'Exploitation for Defense Evasion' } },
      tags: ['linux', 'host', 'container', 'process', 'falco-parity'],
      remediation:
        'Keep vm.unprivileged_userfaultfd=0 (unprivileged callers then get only UFFD_USER_MODE_ONLY, which cannot stall the kernel) and find out why the program asked; a known user (QEMU post-copy migration, CRIU) can be listed as a known process.',
      fires: 'attempt',
    },
    ['userfaultfd'],
    (ev) => ev.userId > 0 && !knownProcesses.includes(ev.processName),
    (ev) => ({ uid: ev.userId, outcome: ev.returnValue >= 0 ? 'fd created' : `failed (${ev.returnValue}${ev.errno ? ` ${ev.errno}` : ''})` }),
  );
