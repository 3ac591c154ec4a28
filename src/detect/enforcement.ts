import type { SyscallEvent } from '../model/event.js';
import type { Finding, SignatureMetadata } from '../model/finding.js';

/** What a kill rule did to a call, as a finding of the stream (made by the tracer, not by a signature). */

export type EnforcementAction = 'killed' | 'would kill';

export const ENFORCEMENT: SignatureMetadata = {
  id: 'WP-100',
  eventId: 6100,
  eventName: 'enforcement',
  name: 'Call stopped by a kill rule',
  version: '1',
  description:
    'A kill rule matched this call at syscall entry, in the kernel. killed: SIGKILL was queued there, so the caller died on its way back to user space (the call itself completed). would kill: a dry run (no --enforce), the caller lives.',
  severity: 3,
  tags: ['linux', 'enforcement'],
  remediation: 'Find who started the process and why it asked for this access. A dry run shows what --enforce would kill: check it before arming.',
  fires: 'attempt',
};

/** The finding for an enforced call: action, rule and policy as its data. */
export function enforcementFinding(ev: SyscallEvent, action: EnforcementAction, rule: string, policy: string): Finding {
  return { signature: ENFORCEMENT, event: ev, data: { action, rule, policy } };
}
