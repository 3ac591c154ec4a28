import { asTraceeEvents } from '../detect/finding-event.js';
import type { TraceStats } from '../model/event.js';
import { isStatsItem, type StatsItem, type StreamItem } from '../model/stream.js';
import type { Output, OutputStats } from '../sinks/output.js';
import { StdoutOutput } from '../sinks/stdout-output.js';

/**
 * outputs: every output gets every batch (a slow one queues and counts its own drops). Findings take Tracee's event
 * shape here, once per batch for all outputs; stats readings go to `onStats`, not to the outputs.
 */
export class OutputStage {
  constructor(
    readonly outputs: readonly Output[],
    private readonly onStats?: (s: StatsItem) => void,
    private readonly terminal?: { suspend(): void; resume(): void },
  ) {}

  async write(items: readonly StreamItem[]): Promise<void> {
    if (items.length === 0) return;
    if (this.onStats) for (const item of items) if (isStatsItem(item)) this.onStats(item);
    const events = asTraceeEvents(items);
    if (events.length === 0) return;
    this.terminal?.suspend();
    try {
      await Promise.all(this.outputs.map((o) => o.write(events)));
    } finally {
      this.terminal?.resume();
    }
  }

  /** Everything goes to stdout and its reader has gone (`watchpost | head`): nothing more can be delivered. */
  get allGone(): boolean {
    return this.outputs.length > 0 && this.outputs.every((o) => o instanceof StdoutOutput && o.isBroken);
  }

  /** Flushes and closes every output (each within its own flush deadline). */
  async close(final: TraceStats): Promise<void> {
    await Promise.all(this.outputs.map((o) => o.close(final)));
  }

  /** The outputs' counters, stdout's left out (what it printed is on the screen). */
  stats(): OutputStats[] {
    return this.outputs.filter((o) => !(o instanceof StdoutOutput)).map((o) => o.stats());
  }

  /** Outputs that dropped events, with how many. */
  dropped(): OutputStats[] {
    return this.outputs.map((o) => o.stats()).filter((s) => s.dropped > 0);
  }
}
