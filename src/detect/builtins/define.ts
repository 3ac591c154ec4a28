import type { SyscallEvent } from '../../model/event.js';
import type { FindingData, SignatureMetadata } from '../../model/finding.js';
import type { Signature } from '../signature.js';

/** A built-in: metadata, the events it selects, and a test that returns the finding's data, or undefined. */
export function defineSignature(
  metadata: Omit<SignatureMetadata, 'version'>,
  events: readonly string[],
  test: (ev: SyscallEvent) => FindingData | undefined,
): Signature {
  const meta: SignatureMetadata = { version: '1', ...metadata };
  return {
    metadata: meta,
    events,
    onEvent(ev) {
      const data = test(ev);
      return data ? [{ signature: meta, event: ev, data }] : [];
    },
  };
}
