import type { SyscallEvent } from '../model/event.js';
import type { Finding } from '../model/finding.js';
import type { StreamItem } from '../model/stream.js';

/**
 * 10 s: a storm costs one finding and one summary per key every 10 s (a million-call loop: a few lines, not a million),
 * and a summary still reaches someone watching live while the storm is news.
 */
export const DEFAULT_WINDOW_SECONDS = 10;

/** Open windows kept at most (~7 MB measured: each holds one finding and its event); past it the oldest closes early, with its summary. */
const MAX_OPEN = 4096;

/** Counts of the windowing: every finding is either emitted or suppressed, and every suppressed one is in a summary's count. */
export interface WindowStats {
  windowSeconds: number;
  /** Repeats held back; once every window is closed, the summaries' counts add up to this. */
  findingsSuppressed: number;
  /** Summaries emitted. */
  summaries: number;
  /** Windows still open (their repeats are not yet in a summary). */
  openWindows: number;
}

interface Window {
  key: string;
  closed: boolean;
  last: Finding;
  repeats: number;
  firstAt: string | number;
  closesAt: number;
}

/** The same call of the same process giving the same finding: signature, process (pid and start), args, result, ABI. */
function keyOf(f: Finding): string {
  const e = f.event;
  let key = `${f.signature.id}\0${e.hostProcessId}\0${e.processEntityId}\0${e.returnValue}\0${e.contextFlags.isCompat ? 1 : 0}`;
  for (const a of e.args) key += typeof a.value === 'string' ? `\0${JSON.stringify(a.value)}` : `\0${a.value}`; // quoted: no string can pose as a number or as two args
  return key;
}

/** keyOf's test without building keys, for the call a signature saw last: in a storm, nearly every finding. */
function sameCall(a: SyscallEvent, b: SyscallEvent): boolean {
  if (a.hostProcessId !== b.hostProcessId || a.processEntityId !== b.processEntityId || a.returnValue !== b.returnValue) return false;
  if (a.contextFlags.isCompat !== b.contextFlags.isCompat || a.args.length !== b.args.length) return false;
  for (let i = 0; i < a.args.length; i++) if (a.args[i].value !== b.args[i].value) return false;
  return true;
}

/**
 * Repeated findings, once: the first of a key is emitted at once; its repeats within the window are counted, and
 * when the window closes they are one summary carrying the count. Time is the events' own (their timestamps), so a
 * replayed recording gives what the live run gave. Hot path in a storm: a repeat of the signature's last call is
 * recognised by comparing fields, without building its key (on the dev VM ~0.3 µs a repeat, ~2 µs through the key).
 */
export class FindingWindow {
  // insertion order is opening order, hence (up to the small disorder between CPUs) closing order
  private readonly open = new Map<string, Window>();
  /** By signature id, the window of the last finding it made. */
  private readonly latest = new Map<string, Window>();
  private nextClose = Infinity;
  private suppressed = 0;
  private summaries = 0;

  constructor(
    private readonly windowNs: number,
    private readonly maxOpen = MAX_OPEN,
  ) {}

  /** One finding: appended to `out` if it is the first of its key in a window, else counted for its summary. */
  add(f: Finding, out: StreamItem[]): void {
    const id = f.signature.id;
    const recent = this.latest.get(id);
    if (recent && !recent.closed && sameCall(recent.last.event, f.event)) return this.repeat(recent, f);
    const key = keyOf(f);
    const w = this.open.get(key);
    if (w) {
      this.latest.set(id, w);
      return this.repeat(w, f);
    }
    if (this.open.size >= this.maxOpen) this.closeOldest(out);
    const closesAt = f.event.timestamp + this.windowNs;
    const opened: Window = { key, closed: false, last: f, repeats: 0, firstAt: f.event.exactTimestamp ?? f.event.timestamp, closesAt };
    this.open.set(key, opened);
    this.latest.set(id, opened);
    if (this.open.size === 1) this.nextClose = closesAt;
    out.push(f);
  }

  /** Closes the windows that ended by `nowNs` (the events' clock), appending their summaries to `out`. */
  advance(nowNs: number, out: StreamItem[]): void {
    if (nowNs < this.nextClose) return;
    for (const w of this.open.values()) {
      if (w.closesAt > nowNs) break; // a window opened out of order behind it closes with it, late by that disorder only
      this.close(w, out);
    }
    this.peek();
  }

  /** Closes every window (the end of a run), appending their summaries to `out`. */
  flush(out: StreamItem[]): void {
    for (const w of this.open.values()) this.close(w, out);
    this.latest.clear();
    this.nextClose = Infinity;
  }

  stats(): WindowStats {
    return { windowSeconds: this.windowNs / 1e9, findingsSuppressed: this.suppressed, summaries: this.summaries, openWindows: this.open.size };
  }

  private repeat(w: Window, f: Finding): void {
    w.repeats++;
    w.last = f;
    this.suppressed++;
  }

  private closeOldest(out: StreamItem[]): void {
    const oldest = this.open.values().next();
    if (oldest.done) return;
    this.close(oldest.value, out);
    this.peek();
  }

  private close(w: Window, out: StreamItem[]): void {
    this.open.delete(w.key);
    w.closed = true;
    if (w.repeats === 0) return; // the finding shown at once said it all
    this.summaries++;
    out.push({ ...w.last, repeats: { count: w.repeats, first: w.firstAt, last: w.last.event.exactTimestamp ?? w.last.event.timestamp } });
  }

  private peek(): void {
    const first = this.open.values().next();
    this.nextClose = first.done ? Infinity : first.value.closesAt;
  }
}
