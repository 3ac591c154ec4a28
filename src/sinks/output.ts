import type { SyscallEvent, TraceStats } from '../model/event.js';

/** Counters every output keeps; what an output drops is counted, never silent. */
export interface OutputStats {
  name: string;
  sent: number;
  dropped: number;
  retried: number;
  queued: number;
}

/** A destination for events: stdout, a file, syslog, NATS, a webhook… */
export interface Output {
  readonly name: string;
  /**
   * Takes a batch; must not block tracing (queue and count drops instead). May return a promise to apply back-pressure.
   * Hand every output the same array: JSON outputs share one serialisation of it (jsonLines); it must not change after.
   */
  write(batch: readonly SyscallEvent[]): void | Promise<void>;
  /** Called once tracing stopped, with the final statistics; flushes what is queued and releases resources. */
  close(final: TraceStats): Promise<void>;
  stats(): OutputStats;
}
