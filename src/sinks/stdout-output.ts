import { once } from 'node:events';
import type { SyscallEvent, TraceStats } from '../model/event.js';
import { tableView } from '../detect/table-view.js';
import { batchParts, jsonLines } from './json.js';
import type { Output, OutputStats } from './output.js';
import { eventToRow, eventToVerboseRow, TABLE_HEADER, TABLE_VERBOSE_HEADER } from './table.js';

const CHUNK = 256 * 1024;

/** What stdout prints: Tracee's table, its table-verbose (more columns), or JSON lines. */
export type StdoutFormat = 'table' | 'table-verbose' | 'json';

const TABLES: Record<Exclude<StdoutFormat, 'json'>, { header: string; line: (e: SyscallEvent) => string }> = {
  table: { header: TABLE_HEADER, line: eventToRow },
  'table-verbose': { header: TABLE_VERBOSE_HEADER, line: eventToVerboseRow },
};

/** Table or JSON lines on stdout; waits for the pipe to drain rather than buffering without bound. */
export class StdoutOutput implements Output {
  readonly name: string;
  private sent = 0;
  private headerDone = false;
  private broken = false;

  constructor(private readonly format: StdoutFormat, private readonly out: NodeJS.WriteStream = process.stdout) {
    this.name = `stdout:${format}`;
    out.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') this.broken = true; // reader went away (e.g. `| head`): stop writing, keep tracing counts
      else throw err;
    });
  }

  /** JSON: the batch's shared lines in one write; tables in chunks of about CHUNK bytes (never one huge string). */
  async write(batch: readonly SyscallEvent[]): Promise<void> {
    if (this.broken) return;
    if (this.format === 'json') {
      for (const part of batchParts(batch)) {
        const lines = jsonLines(part); // the lines other JSON outputs share, in one write
        lines.retain(); // until the stream has written them: their buffer is reused afterwards
        await this.flush(lines.bytes, () => lines.release());
        this.sent += part.length;
        if (this.broken) return;
      }
      return;
    }
    const { header, line } = TABLES[this.format];
    batch = tableView(batch, this.out.isTTY === true); // findings marked, coloured on a terminal
    let text = '';
    if (!this.headerDone && header) text = `${header}\n`;
    this.headerDone = true;
    for (const ev of batch) {
      text += `${line(ev)}\n`;
      this.sent++;
      if (text.length >= CHUNK) {
        await this.flush(text);
        text = '';
        if (this.broken) return;
      }
    }
    if (text) await this.flush(text);
  }

  private async flush(text: string | Buffer, written?: () => void): Promise<void> {
    if (this.out.write(text, written)) return;
    try {
      await Promise.race([once(this.out, 'drain'), once(this.out, 'close')]);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err;
      this.broken = true;
    }
  }

  /** Prints a table (findings get the table's view of them). */
  get isTable(): boolean {
    return this.format !== 'json';
  }

  get isBroken(): boolean {
    return this.broken;
  }

  async close(_final: TraceStats): Promise<void> {}

  stats(): OutputStats {
    return { name: this.name, sent: this.sent, dropped: 0, retried: 0, queued: 0 };
  }
}
