import type { TraceStats } from '../model/event.js';
import type { Output, OutputStats } from '../sinks/output.js';

export interface StatusSource {
  stats(): TraceStats;
  readonly outputs: readonly Output[];
}

const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);

/** The text of one status line: rate, totals, losses, then each output's counters. */
export function statusText(s: TraceStats, outputs: readonly Output[], perSecond: number): string {
  const lost = sum(s.lostByEvent) + s.lostRecords;
  const outs = outputs.map((o) => {
    const x = o.stats();
    const kind = x.name.split(':')[0]; // full names are long (URLs, paths): the exit report has them
    return `${kind} sent ${x.sent}${x.queued ? ` queued ${x.queued}` : ''}${x.retried ? ` retried ${x.retried}` : ''}${x.dropped ? ` DROPPED ${x.dropped}` : ''}`;
  });
  return `watchpost: ${Math.round(perSecond)} events/s · ${sum(s.delivered)} events · ${lost} lost · ${outs.join(' · ')}`;
}

/**
 * A live line on a terminal's stderr, redrawn in place every second. While something else writes to the same
 * terminal (the table on stdout), suspend() clears it and resume() puts it back, so the two never mix.
 */
export class StatusLine {
  private text = '';
  private shown = false;
  private lastTotal = 0;
  private lastTime = Date.now();
  private readonly timer: NodeJS.Timeout;

  private constructor(
    private readonly tty: NodeJS.WriteStream,
    private readonly source: StatusSource,
  ) {
    this.timer = setInterval(() => this.refresh(), 1000);
    this.timer.unref();
  }

  /** None when stderr is not a terminal (a log file or journald must not fill with redraws). */
  static start(source: StatusSource, stream: NodeJS.WriteStream = process.stderr): StatusLine | undefined {
    return stream.isTTY ? new StatusLine(stream, source) : undefined;
  }

  private refresh(): void {
    const s = this.source.stats();
    const total = sum(s.delivered);
    const now = Date.now();
    const rate = ((total - this.lastTotal) * 1000) / Math.max(1, now - this.lastTime);
    this.lastTotal = total;
    this.lastTime = now;
    this.text = statusText(s, this.source.outputs, rate).slice(0, Math.max(20, (this.tty.columns || 80) - 1));
    this.resume();
  }

  suspend(): void {
    if (this.shown) this.tty.write('\r\x1b[K');
    this.shown = false;
  }

  resume(): void {
    if (!this.text) return;
    this.tty.write(`\r\x1b[K${this.text}`);
    this.shown = true;
  }

  stop(): void {
    clearInterval(this.timer);
    this.suspend();
  }
}

/** The closing line for one output: what it delivered and what it could not. */
export function outputSummaryLine(o: OutputStats): string {
  return `watchpost: ${o.name}: ${o.sent} sent, ${o.dropped} dropped, ${o.retried} retried`;
}
