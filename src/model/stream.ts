import type { SyscallEvent, TraceStats } from './event.js';
import type { Finding } from './finding.js';

/** A reading of the counters, carried in the stream every few seconds (and once at the end). */
export interface StatsItem {
  readonly stats: TraceStats;
  /** The last one: tracing has stopped. */
  readonly final: boolean;
}

/**
 * What flows from detect to the outputs: syscall events, findings (a signature's verdict on an event, which takes
 * Tracee's event shape only when an output serialises it) and stats readings. Three distinct types, told apart by
 * the guards below, never by names or text.
 */
export type StreamItem = SyscallEvent | Finding | StatsItem;

export function isFindingItem(item: StreamItem): item is Finding {
  return 'signature' in item;
}

export function isStatsItem(item: StreamItem): item is StatsItem {
  return 'stats' in item;
}

export function isEventItem(item: StreamItem): item is SyscallEvent {
  return 'eventName' in item;
}
