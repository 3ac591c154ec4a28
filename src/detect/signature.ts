import type { SyscallEvent } from '../model/event.js';
import type { Finding, FindingData, SignatureMetadata } from '../model/finding.js';

/**
 * A detection. The detector asks `fires` of every event of a selected name (in a storm, of every event: it allocates
 * nothing) and `dataOf` only for a finding it shows: the first of a window, or a window's summary, asked of its last
 * repeat's event long after it fired. So `dataOf` depends on the event alone.
 */
export interface Signature {
  readonly metadata: SignatureMetadata;
  /** Catalog event names it needs; it sees only those. */
  readonly events: readonly string[];
  /** Whether it makes a finding of this event; most events make none. */
  fires(ev: SyscallEvent): boolean;
  /**
   * True when `fires` reads nothing but the event's name, args (names and values), ports and returnValue,
   * contextFlags.isCompat, and its process: hostProcessId, processEntityId, executable.path, processName, containerId,
   * userId (same-call.ts sameFiringInputs). The detector then reuses a thread's last answer for a call like its last.
   */
  readonly cacheable?: boolean;
  /** The finding's facts, for an event it fires on. */
  dataOf(ev: SyscallEvent): FindingData;
  /** What went wrong while running, in one line (e.g. a rule whose condition failed on some events), if anything. */
  problems?(): string | undefined;
}

/** The finding of an event `s` fires on. */
export function findingOf(s: Pick<Signature, 'metadata' | 'dataOf'>, ev: SyscallEvent): Finding {
  return { signature: s.metadata, event: ev, data: s.dataOf(ev) };
}

/** Every finding `s` makes of one event (none or one): not the hot path. */
export function findingsOf(s: Signature, ev: SyscallEvent): Finding[] {
  return s.fires(ev) ? [findingOf(s, ev)] : [];
}
