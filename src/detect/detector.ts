import type { SyscallEvent } from '../model/event.js';
import type { Finding } from '../model/finding.js';
import type { StreamItem } from '../model/stream.js';
import { FindingWindow, type WindowSlot, type WindowStats } from './finding-window.js';
import { sameFiringInputs } from './same-call.js';
import { findingOf, type Signature } from './signature.js';

export interface DetectorOptions {
  /** Repeats of a finding within this many ns (event time) are held back and summarised; 0 or absent: every finding is emitted. */
  windowNs?: number;
}

/** A signature with what the detector keeps for it. */
interface Entry {
  readonly sig: Signature;
  /** Its place in the finding window, when there is one. */
  readonly slot: WindowSlot | undefined;
  fired: number;
}

/** The signatures of one event name; bits[i]: entries[i]'s bit in a thread's memo, 0 when it is not cacheable. */
interface Dispatch {
  readonly entries: Entry[];
  readonly bits: number[];
}

/** A thread's last event of a name some signature selects, and the bits of the cacheable signatures that fired on it. */
interface ThreadMemo {
  ev: SyscallEvent;
  fired: number;
}

const NONE: Dispatch = { entries: [], bits: [] };
/** Bits of a memo (signatures of one name past it are asked every time); threads remembered (past it, all forgotten). */
const MEMO_BITS = 30;
const MAX_THREADS = 4096;

/** Runs signatures over events: each event goes to the signatures that selected its name. */
export class Detector {
  private readonly entries: Entry[];
  private readonly byEvent = new Map<string, Dispatch>();
  private readonly window: FindingWindow | undefined;
  private readonly threads = new Map<number, ThreadMemo>();
  // the dispatch of the last event name seen: a storm is one name
  private lastName = '';
  private lastDispatch = NONE;

  constructor(
    readonly signatures: readonly Signature[],
    options: DetectorOptions = {},
  ) {
    if (options.windowNs) this.window = new FindingWindow(options.windowNs);
    this.entries = signatures.map((sig) => ({ sig, slot: this.window?.slotFor(sig), fired: 0 }));
    for (const e of this.entries) {
      for (const name of e.sig.events) {
        let d = this.byEvent.get(name);
        if (!d) this.byEvent.set(name, (d = { entries: [], bits: [] }));
        d.bits.push(e.sig.cacheable && d.entries.length < MEMO_BITS ? 1 << d.entries.length : 0);
        d.entries.push(e);
      }
    }
  }

  /** Catalog events some signature needs. */
  events(): string[] {
    return [...this.byEvent.keys()];
  }

  /** Summaries of the windows that ended by `nowNs` (the events' clock): call before the event of that time goes out. */
  advance(nowNs: number, out: StreamItem[]): void {
    this.window?.advance(nowNs, out);
  }

  /**
   * Appends the findings of one event to `out`, a repeat held back for its window's summary. Hot path: a signature
   * that does not fire, or a repeat, allocates nothing; a finding is built only when it is shown; a call like the
   * thread's last takes the last answer of the cacheable signatures instead of asking them again.
   */
  detectInto(ev: SyscallEvent, out: StreamItem[]): void {
    const { entries, bits } = this.dispatchOf(ev.eventName);
    if (entries.length === 0) return;
    const memo = this.threads.get(ev.hostThreadId);
    const known = memo !== undefined && sameFiringInputs(memo.ev, ev);
    const before = known ? memo.fired : 0;
    let fired = 0;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      const bit = bits[i];
      if (!(known && bit !== 0 ? (before & bit) !== 0 : e.sig.fires(ev))) continue;
      fired |= bit;
      e.fired++;
      if (e.slot === undefined || this.window!.opens(e.slot, ev, known ? memo.ev : undefined, out)) out.push(findingOf(e.sig, ev));
    }
    if (memo !== undefined) {
      memo.ev = ev;
      memo.fired = fired;
      return;
    }
    if (this.threads.size >= MAX_THREADS) this.threads.clear();
    this.threads.set(ev.hostThreadId, { ev, fired });
  }

  /** Every finding of one event (not windowed). */
  detect(ev: SyscallEvent): Finding[] {
    const out: Finding[] = [];
    for (const e of this.dispatchOf(ev.eventName).entries) if (e.sig.fires(ev)) out.push(findingOf(e.sig, ev));
    return out;
  }

  /**
   * One batch of events with their findings: each finding right after its event, summaries once the events' time
   * passed their window's end. `show` says which events stay in the stream; findings always do.
   */
  process(batch: readonly SyscallEvent[], show: (ev: SyscallEvent) => boolean = () => true): StreamItem[] {
    const out: StreamItem[] = [];
    for (const ev of batch) {
      this.advance(ev.timestamp, out);
      if (show(ev)) out.push(ev);
      this.detectInto(ev, out);
    }
    return out;
  }

  /** Summaries of every window still open: the end of a run. */
  flush(out: StreamItem[] = []): StreamItem[] {
    this.window?.flush(out);
    this.threads.clear();
    return out;
  }

  /** What the window held back and summarised; undefined when every finding is emitted. */
  windowStats(): WindowStats | undefined {
    return this.window?.stats();
  }

  /** One line per signature that had trouble (a rule whose condition failed on some events). */
  problems(): string[] {
    return this.signatures.map((s) => s.problems?.()).filter((p): p is string => p !== undefined);
  }

  /** Findings made so far, by signature id: all of them, the ones a window held back included. */
  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const e of this.entries) out[e.sig.metadata.id] = (out[e.sig.metadata.id] ?? 0) + e.fired;
    return out;
  }

  private dispatchOf(name: string): Dispatch {
    if (name !== this.lastName) {
      this.lastDispatch = this.byEvent.get(name) ?? NONE;
      this.lastName = name;
    }
    return this.lastDispatch;
  }
}
