import type { SyscallEvent } from '../model/event.js';
import type { Finding, SignatureMetadata } from '../model/finding.js';

export interface Signature {
  readonly metadata: SignatureMetadata;
  /** Catalog event names it needs; it sees only those. */
  readonly events: readonly string[];
  /** Findings for one event; most events give none. */
  onEvent(ev: SyscallEvent): Finding[];
  /** What went wrong while running, in one line (e.g. a rule whose condition failed on some events), if anything. */
  problems?(): string | undefined;
}
