import type { SyscallEvent } from '../model/event.js';
import { isEnforcement } from './enforcement.js';
import { findingToEvent, isFinding } from './finding-event.js';
import { FindingWindow, type WindowStats } from './finding-window.js';
import type { Finding, Signature } from './signature.js';

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
    this.window = options.windowNs ? new FindingWindow(options.windowNs) : undefined;
    for (const s of signatures) {
      this.fired.set(s.metadata.id, 0);
      for (const name of s.events) {
        const list = this.byEvent.get(name) ?? [];
        list.push(s);
        this.byEvent.set(name, list);
      }
    }
  }

  /** Catalog events some signature needs. */
  events(): string[] {
    return [...this.byEvent.keys()];
  }

  /** Every finding of one event, as events of the stream (not windowed: process() is). Findings already in the stream are not re-examined. */
  detect(ev: SyscallEvent): SyscallEvent[] {
    return this.findings(ev).map(findingToEvent);
  }

  /**
   * One batch of the stream with its findings: each finding right after its event, a repeat held back for its
   * window's summary, which comes once the events' time has passed the window's end. `show` says which events stay
   * in the stream (the ones the user asked to see; none with --detect-only); findings always do.
   */
  process(batch: readonly SyscallEvent[], show: (ev: SyscallEvent) => boolean = () => true): SyscallEvent[] {
    const out: SyscallEvent[] = [];
    for (const ev of batch) {
      this.window?.advance(ev.timestamp, out);
      if (show(ev) || isEnforcement(ev)) out.push(ev);
      for (const f of this.findings(ev)) {
        if (this.window) this.window.add(f, out);
        else out.push(findingToEvent(f));
      }
    }
    return out;
  }

  /** Summaries of the windows that ended by `nowNs` (the events' clock), for a live run with no events coming. */
  tick(nowNs: number): SyscallEvent[] {
    const out: SyscallEvent[] = [];
    this.window?.advance(nowNs, out);
    return out;
  }

  /** Summaries of every window still open: the end of a run. */
  flush(): SyscallEvent[] {
    const out: SyscallEvent[] = [];
    this.window?.flush(out);
    return out;
  }

  /** What the window held back and summarised; undefined when every finding is emitted. */
  windowStats(): WindowStats | undefined {
    return this.window?.stats();
  }

  private findings(ev: SyscallEvent): Finding[] {
    const sigs = this.byEvent.get(ev.eventName);
    if (!sigs || isFinding(ev)) return [];
    let out: Finding[] | undefined;
    for (const s of sigs) {
      for (const f of s.onEvent(ev)) {
        (out ??= []).push(f);
        this.fired.set(f.signature.id, (this.fired.get(f.signature.id) ?? 0) + 1);
      }
    }
    return out ?? [];
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
