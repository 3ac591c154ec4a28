import type { SyscallEvent } from '../model/event.js';
import type { Finding } from '../model/finding.js';
import type { StreamItem } from '../model/stream.js';
import { FindingWindow, type WindowStats } from './finding-window.js';
import type { Signature } from './signature.js';

export interface DetectorOptions {
  /** Repeats of a finding within this many ns (event time) are held back and summarised; 0 or absent: every finding is emitted. */
  windowNs?: number;
}

/** Runs signatures over events: each event goes to the signatures that selected its name. */
export class Detector {
  private readonly byEvent = new Map<string, Signature[]>();
  private readonly fired = new Map<string, number>();
  private readonly window: FindingWindow | undefined;

  constructor(
    readonly signatures: readonly Signature[],
    options: DetectorOptions = {},
  ) {
    for (const s of signatures) {
      this.fired.set(s.metadata.id, 0);
      for (const name of s.events) {
        const list = this.byEvent.get(name) ?? [];
        list.push(s);
        this.byEvent.set(name, list);
      }
    }
    if (options.windowNs) this.window = new FindingWindow(options.windowNs);
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
   * Appends the findings of one event to `out`, a repeat held back for its window's summary (hot path: no array
   * unless a signature fires).
   */
  detectInto(ev: SyscallEvent, out: StreamItem[]): void {
    const sigs = this.byEvent.get(ev.eventName);
    if (!sigs) return;
    for (const s of sigs) {
      for (const f of s.onEvent(ev)) {
        this.fired.set(f.signature.id, (this.fired.get(f.signature.id) ?? 0) + 1);
        if (this.window) this.window.add(f, out);
        else out.push(f);
      }
    }
  }

  /** Every finding of one event (not windowed). */
  detect(ev: SyscallEvent): Finding[] {
    const out: Finding[] = [];
    const sigs = this.byEvent.get(ev.eventName) ?? [];
    for (const s of sigs) for (const f of s.onEvent(ev)) out.push(f);
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
    return Object.fromEntries(this.fired);
  }
}
