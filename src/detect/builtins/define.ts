import type { SyscallEvent } from '../../model/event.js';
import type { FindingData, SignatureMetadata } from '../../model/finding.js';
import type { Signature } from '../signature.js';

/**
 * A built-in: metadata, the events it selects, the test that says whether it fires (hot path: no allocation; it
 * reads only what Signature.cacheable lists), and the finding's data for an event it fires on.
 */
export function defineSignature(
  metadata: Omit<SignatureMetadata, 'version'>,
  events: readonly string[],
  fires: (ev: SyscallEvent) => boolean,
  dataOf: (ev: SyscallEvent) => FindingData,
): Signature {
  return { metadata: { version: '1', ...metadata }, events, fires, dataOf, cacheable: true };
}
