import { severityOf } from '../detect/finding-event.js';
import type { SyscallEvent } from '../model/event.js';

/** Syslog severities (RFC 5424 §6.2.1): 0 emergency … 7 debug. */
export type SyslogSeverity = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;

/** Plain events are observations, not verdicts: informational. */
export const EVENT_SEVERITY: SyslogSeverity = 6;

/** Finding severity (Tracee's 0 low … 3 critical) -> syslog: notice, warning, error, critical. */
const FINDING_TO_SYSLOG: readonly SyslogSeverity[] = [5, 4, 3, 2];

/** Falco's priority names, indexed by syslog severity (Falco uses the same scale). */
export const FALCO_PRIORITY = ['Emergency', 'Alert', 'Critical', 'Error', 'Warning', 'Notice', 'Informational', 'Debug'] as const;

export function syslogSeverity(ev: SyscallEvent): SyslogSeverity {
  const f = severityOf(ev);
  return f === undefined ? EVENT_SEVERITY : FINDING_TO_SYSLOG[f];
}
