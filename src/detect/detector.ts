import type { SyscallEvent } from '../model/event.js';
import { isEnforcement } from './enforcement.js';
import { findingToEvent, isFinding } from './finding-event.js';
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

  /** The findings of one event, as events of the stream. Findings already in the stream are not re-examined. */
  detect(ev: SyscallEvent): SyscallEvent[] {
    const sigs = this.byEvent.get(ev.eventName);
    if (!sigs || isFinding(ev)) return [];
    let out: SyscallEvent[] | undefined;
    for (const s of sigs) {
      for (const f of s.onEvent(ev)) {
        (out ??= []).push(findingToEvent(f));
        this.fired.set(f.signature.id, (this.fired.get(f.signature.id) ?? 0) + 1);
      }
    }
    return out ?? [];
  }

  /**
   * One batch of the stream with its findings: each finding right after its event. `show` says which events stay in
   * the stream (the ones the user asked to see; none with --detect-only); findings always do.
   */
  process(batch: readonly SyscallEvent[], show: (ev: SyscallEvent) => boolean = () => true): SyscallEvent[] {
    const out: SyscallEvent[] = [];
    for (const ev of batch) {
      if (show(ev) || isEnforcement(ev)) out.push(ev);
      const findings = this.detect(ev);
      for (const f of findings) out.push(f);
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
