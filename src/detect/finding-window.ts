import type { SyscallEvent } from '../model/event.js';
import type { Finding } from '../model/finding.js';
import type { StreamItem } from '../model/stream.js';
import { sameCall } from './same-call.js';
import { findingOf, type Signature } from './signature.js';

/**
 * 10 s: a storm costs one finding and one summary per key every 10 s (a million-call loop: a few lines, not a million),
 * and a summary still reaches someone watching live while the storm is news.
 */
export const DEFAULT_WINDOW_SECONDS = 10;

/** Open windows kept at most (each holds its key and the event of its last repeat: ~7 MB was measured when each held a finding as well); past it the oldest closes early, with its summary. */
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

/** What a window asks of a signature: its metadata, and the data of the event a summary stands on. */
export type FindingSource = Pick<Signature, 'metadata' | 'dataOf'>;

/** Threads a slot remembers the last window of (past it, it forgets them all): a storm is a few threads. */
const MAX_THREADS = 256;

/** One signature's place in the window: by host thread, the window its last finding there went to. */
export interface WindowSlot {
  readonly source: FindingSource;
  readonly latest: Map<number, Window>;
}

interface Window {
  key: string;
  closed: boolean;
  slot: WindowSlot;
  /** The finding's source and event, the last repeat's once one came: a summary is the last repeat's finding. */
  source: FindingSource;
  last: SyscallEvent;
  repeats: number;
  firstAt: string | number;
  closesAt: number;
}

/** The same call of the same process giving the same finding: signature, process (pid and start), args, result, ABI. */
function keyOf(id: string, e: SyscallEvent): string {
  let key = `${id}\0${e.hostProcessId}\0${e.processEntityId}\0${e.returnValue}\0${e.contextFlags.isCompat ? 1 : 0}`;
  for (const a of e.args) key += typeof a.value === 'string' ? `\0${JSON.stringify(a.value)}` : `\0${a.value}`; // quoted: no string can pose as a number or as two args
  return key;
}

/**
 * Repeated findings, once: the first of a key is emitted at once; its repeats within the window are counted, and
 * when the window closes they are one summary carrying the count. Time is the events' own (their timestamps), so a
 * replayed recording gives what the live run gave. Hot path in a storm: a repeat of the call a thread's last finding
 * was about is recognised by comparing fields, before any finding is built and without building its key; the
 * summary's finding is built when its window closes.
 */
export class FindingWindow {
  // insertion order is opening order, hence (up to the small disorder between CPUs) closing order
  private readonly open = new Map<string, Window>();
  private readonly slots: WindowSlot[] = [];
  private nextClose = Infinity;
  private suppressed = 0;
  private summaries = 0;

  constructor(
    private readonly windowNs: number,
    private readonly maxOpen = MAX_OPEN,
  ) {}

  /** The slot of one signature: give it to opens() with each event the signature fires on. */
  slotFor(source: FindingSource): WindowSlot {
    const slot: WindowSlot = { source, latest: new Map() };
    this.slots.push(slot);
    return slot;
  }

  /**
   * Hot path: the finding of the slot's signature on `ev` either repeats an open window's (counted for its
   * summary: false) or opens a window (true: the caller appends the finding to `out`, after any summary this put
   * there when the cap closed the oldest window). `like`: an event known to be sameCall's match of `ev` (the
   * thread's last), or undefined.
   */
  opens(slot: WindowSlot, ev: SyscallEvent, like: SyscallEvent | undefined, out: StreamItem[]): boolean {
    const recent = slot.latest.get(ev.hostThreadId);
    // keyOf's test without building the key
    if (recent !== undefined && !recent.closed && (recent.last === like || sameCall(recent.last, ev))) {
      this.repeat(recent, slot.source, ev);
      return false;
    }
    const key = keyOf(slot.source.metadata.id, ev);
    const w = this.open.get(key);
    if (w !== undefined) {
      this.remember(slot, ev, w);
      this.repeat(w, slot.source, ev);
      return false;
    }
    if (this.open.size >= this.maxOpen) this.closeOldest(out);
    const closesAt = ev.timestamp + this.windowNs;
    const opened: Window = { key, closed: false, slot, source: slot.source, last: ev, repeats: 0, firstAt: ev.exactTimestamp ?? ev.timestamp, closesAt };
    this.open.set(key, opened);
    this.remember(slot, ev, opened);
    if (this.open.size === 1) this.nextClose = closesAt;
    return true;
  }

  /** One finding: appended to `out` if it is the first of its key in a window, else counted for its summary (not the hot path). */
  add(f: Finding, out: StreamItem[]): void {
    if (this.opens({ source: { metadata: f.signature, dataOf: () => f.data }, latest: new Map() }, f.event, undefined, out)) out.push(f);
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
    for (const slot of this.slots) slot.latest.clear();
    this.nextClose = Infinity;
  }

  stats(): WindowStats {
    return { windowSeconds: this.windowNs / 1e9, findingsSuppressed: this.suppressed, summaries: this.summaries, openWindows: this.open.size };
  }

  private remember(slot: WindowSlot, ev: SyscallEvent, w: Window): void {
    if (slot.latest.size >= MAX_THREADS) slot.latest.clear();
    slot.latest.set(ev.hostThreadId, w);
  }

  private repeat(w: Window, source: FindingSource, ev: SyscallEvent): void {
    w.repeats++;
    w.source = source;
    w.last = ev;
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
    const tid = w.last.hostThreadId;
    if (w.slot.latest.get(tid) === w) w.slot.latest.delete(tid);
    if (w.repeats === 0) return; // the finding shown at once said it all
    this.summaries++;
    const last = w.last;
    out.push({ ...findingOf(w.source, last), repeats: { count: w.repeats, first: w.firstAt, last: last.exactTimestamp ?? last.timestamp } });
  }

  private peek(): void {
    const first = this.open.values().next();
    this.nextClose = first.done ? Infinity : first.value.closesAt;
  }
}
