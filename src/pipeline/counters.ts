import type { BacklogStats, TraceStats } from '../model/event.js';
import { isRecordLoss, lossLabel, type LossKind } from '../model/loss.js';
import type { EnforcementAction } from '../detect/enforcement.js';
import type { LossCounters } from '../probes/types.js';

/** What user space counts of a run (delivered, filtered, enforced), joined with the probe's losses into TraceStats. */
export class Counters {
  readonly delivered: Record<string, number> = {};
  readonly filtered: Record<string, number> = {};
  private readonly enforcements: Record<EnforcementAction, Record<string, number>> = { killed: {}, 'would kill': {} };
  private enforcing = false;

  /** Every selected event is reported, with 0 where nothing came. */
  select(events: readonly string[]): void {
    for (const name of events) this.delivered[name] ??= 0;
  }

  /** Kill rules are armed or dry: the stats say what they did, 0 included. */
  enforce(): void {
    this.enforcing = true;
  }

  /** One event delivered (hot path). */
  deliver(eventName: string): void {
    this.delivered[eventName] = (this.delivered[eventName] ?? 0) + 1;
  }

  /** One event dropped on purpose by the policies (hot path). */
  filter(eventName: string): void {
    this.filtered[eventName] = (this.filtered[eventName] ?? 0) + 1;
  }

  enforced(action: EnforcementAction, policy: string): void {
    const byPolicy = this.enforcements[action];
    byPolicy[policy] = (byPolicy[policy] ?? 0) + 1;
  }

  stats(losses: LossCounters = { losses: [], byEvent: {} }, backlog?: BacklogStats): TraceStats {
    const lostByEvent: Record<string, number> = {};
    for (const name of Object.keys(this.delivered)) lostByEvent[name] = losses.byEvent[name] ?? 0;
    const lostByReason: Record<string, number> = {};
    const lostByKind: Partial<Record<LossKind, number>> = {};
    let lostRecords = 0;
    for (const l of losses.losses) {
      const label = lossLabel(l);
      lostByReason[label] = (lostByReason[label] ?? 0) + l.count;
      lostByKind[l.kind] = (lostByKind[l.kind] ?? 0) + l.count;
      if (isRecordLoss(l.kind)) lostRecords += l.count;
    }
    const filtered: Record<string, number> = { ...this.filtered };
    for (const [name, n] of Object.entries(losses.filteredByEvent ?? {})) filtered[name] = (filtered[name] ?? 0) + n;
    let lostEvents = losses.eventsLost;
    if (lostEvents === undefined) {
      lostEvents = 0;
      for (const n of Object.values(losses.byEvent)) lostEvents += n;
    }
    const out: TraceStats = { delivered: { ...this.delivered }, lostByEvent, lostRecords, lostEvents, lostByReason, lostByKind, filtered, filteredInKernel: { ...losses.filteredByEvent } };
    if (backlog) out.backlog = backlog;
    if (this.enforcing) out.enforcements = { killed: { ...this.enforcements.killed }, 'would kill': { ...this.enforcements['would kill'] } };
    return out;
  }
}
