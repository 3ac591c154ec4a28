import type { SyscallEvent } from './event.js';

/** What a detection found: the types every stage after detect shares (outputs print them). */

/** Tracee's scale: 0 low, 1 medium, 2 high, 3 critical. */
export type Severity = 0 | 1 | 2 | 3;

export const SEVERITY_NAMES = ['low', 'medium', 'high', 'critical'] as const;

/** One MITRE ATT&CK (Enterprise) mapping: the tactic and the technique, by id and name. */
export interface MitreAttack {
  tactic: { id: string; name: string };
  technique: { id: string; name: string };
}

export interface SignatureMetadata {
  /** Stable id, e.g. "WP-003"; user rules choose theirs. */
  id: string;
  /** Numeric event id of its findings (Tracee gives each signature an event id; ours start at 6000). */
  eventId: number;
  /** Event name of its findings, e.g. "io_port_critical" (Tracee's SigMetadata.EventName). */
  eventName: string;
  /** Human title, e.g. "Critical I/O ports requested". */
  name: string;
  version: string;
  description: string;
  severity: Severity;
  mitre?: MitreAttack;
  tags: string[];
  remediation: string;
  /** An attempt (whatever the kernel answered) or only a call the kernel granted (returnValue 0). */
  fires: 'attempt' | 'success';
}

/** Facts a finding adds for the analyst (Tracee's Finding.Data); they become the finding event's args. */
export type FindingData = Record<string, string | number>;

/** When a summary's window opened and when its last repeat came: exact ns digits where known, else the double. */
export interface RepeatSpan {
  count: number;
  first: string | number;
  last: string | number;
}

export interface Finding {
  signature: SignatureMetadata;
  /** The event that triggered it (a summary's: the last repeat's). */
  event: SyscallEvent;
  data: FindingData;
  /** Set on a window's summary: how many repeats of this finding it stands for, and their span. */
  repeats?: RepeatSpan;
}
