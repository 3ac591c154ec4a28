import type { SyscallEvent } from '../model/event.js';
import type { Finding } from '../model/finding.js';
import type { StreamItem } from '../model/stream.js';
import type { Signature } from './signature.js';

/** Runs signatures over events: each event goes to the signatures that selected its name. */
export class Detector {
  private readonly byEvent = new Map<string, Signature[]>();
  private readonly fired = new Map<string, number>();

  constructor(readonly signatures: readonly Signature[]) {
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

  /** Appends the findings of one event to `out` (hot path: no array unless a signature fires). */
  detectInto(ev: SyscallEvent, out: StreamItem[]): void {
    const sigs = this.byEvent.get(ev.eventName);
    if (!sigs) return;
    for (const s of sigs) {
      for (const f of s.onEvent(ev)) {
        out.push(f);
        this.fired.set(f.signature.id, (this.fired.get(f.signature.id) ?? 0) + 1);
      }
    }
  }

  /** The findings of one event. */
  detect(ev: SyscallEvent): Finding[] {
    const out: StreamItem[] = [];
    this.detectInto(ev, out);
    return out as Finding[];
  }

  /**
   * One batch of events with their findings: each finding right after its event. `show` says which events stay in
   * the stream (the ones the user asked to see; none with --detect-only); findings always do.
   */
  process(batch: readonly SyscallEvent[], show: (ev: SyscallEvent) => boolean = () => true): StreamItem[] {
    const out: StreamItem[] = [];
    for (const ev of batch) {
      if (show(ev)) out.push(ev);
      this.detectInto(ev, out);
    }
    return out;
  }

  /** One line per signature that had trouble (a rule whose condition failed on some events). */
  problems(): string[] {
    return this.signatures.map((s) => s.problems?.()).filter((p): p is string => p !== undefined);
  }

  /** Findings made so far, by signature id. */
  counts(): Record<string, number> {
    return Object.fromEntries(this.fired);
  }
}
