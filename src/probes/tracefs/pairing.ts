import type { EventDefinition } from '../../catalog/types.js';
import type { ArgValue } from '../../model/event.js';
import type { CompletedSyscall } from '../types.js';
import { LossTally } from '../../model/loss.js';

/**
 * Pairs syscall enter and exit records per thread into one CompletedSyscall at exit (Tracee semantics).
 *
 * Records reach us merged by timestamp within one drain, but a thread that migrated between CPUs can put its
 * enter in a later drain than its exit; so an unmatched exit waits ("orphan") until a drain that read every
 * CPU to the end, and only then counts as lost.
 *
 * 32-bit calls (int $0x80) never fire the per-syscall tracepoints; they arrive as raw_syscalls records with
 * the i386 number, which the 64-bit table gives to another syscall (101 = ptrace, 110 = getppid). A native call
 * of that number also fires its per-syscall tracepoint ("marker") in the same tracepoint call; a raw pair with
 * no marker from the same thread inside its enter..exit window is a compat call. That check also waits for a
 * complete drain after the exit, for the same migration reason.
 */

interface Pending {
  event: EventDefinition;
  ts: number;
  cpu: number;
  args: ArgValue[];
  seq: number;
}

interface Orphan {
  key: number; // event nr (native) or compat nr (raw)
  ts: number;
  ret: number;
  seq: number;
}

interface Candidate {
  tid: number;
  enter: Pending;
  exitTs: number;
  ret: number;
  seq: number;
}

interface Marker {
  nr: number;
  ts: number;
}

/**
 * One thread's markers, oldest first, consumed from the front through a head index: a getppid-heavy thread can hold
 * hundreds of thousands, and shifting the array for each candidate made settling quadratic (a tracefs run on the
 * benchmark's getppid loop could not stop within a minute).
 */
class MarkerQueue {
  private items: Marker[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  get newestTs(): number {
    return this.items[this.items.length - 1].ts;
  }

  push(m: Marker): void {
    this.items.push(m);
  }

  /** Consumes the first marker of number `nr` stamped in [from, to], with every older one; false (dropping only those before `from`) when there is none. */
  take(nr: number, from: number, to: number): boolean {
    const items = this.items;
    while (this.head < items.length && items[this.head].ts < from) this.head++;
    for (let j = this.head; j < items.length && items[j].ts <= to; j++) {
      if (items[j].nr === nr) {
        this.head = j + 1;
        this.compact();
        return true;
      }
    }
    this.compact();
    return false;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}

/** A marker may precede its raw enter (probe order) by a little; anything older belongs to an earlier call. */
const MARKER_LEAD_NS = 1_000_000;
const MAX_PENDING_THREADS = 65_536;

export interface PairingCounters {
  lostByEvent: Record<string, number>;
  /** Records lost, by kind (and event where the kind is per event). */
  losses: LossTally;
  /** Exits whose enter the kernel filter dropped on purpose, by event: not losses. */
  filteredByEvent: Record<string, number>;
}

function bump(map: Record<string, number>, key: string, n = 1): void {
  map[key] = (map[key] ?? 0) + n;
}

/** list.splice(i, 1) without the array splice returns (hot path: nearly always the last item). */
function removeAt<T>(list: T[], i: number): void {
  for (let j = i + 1; j < list.length; j++) list[j - 1] = list[j];
  list.length--;
}

function takeMatchingEnter(list: Pending[] | undefined, key: (p: Pending) => number, want: number, exitTs: number): Pending | undefined {
  if (!list) return undefined;
  // the latest enter at or before the exit
  for (let i = list.length - 1; i >= 0; i--) {
    const p = list[i];
    if (p.ts <= exitTs && key(p) === want) {
      removeAt(list, i);
      return p;
    }
  }
  return undefined;
}

function takeMatchingOrphan(list: Orphan[] | undefined, want: number, enterTs: number): Orphan | undefined {
  if (!list) return undefined;
  for (let i = 0; i < list.length; i++) {
    const o = list[i];
    if (o.ts >= enterTs && o.key === want) {
      removeAt(list, i);
      return o;
    }
  }
  return undefined;
}

const nativeKey = (p: Pending): number => p.event.nr;
const compatKey = (p: Pending): number => p.event.compatNr ?? -1;

export class SyscallPairer {
  private readonly native = new Map<number, Pending[]>();
  private readonly raw = new Map<number, Pending[]>();
  private readonly nativeOrphans = new Map<number, Orphan[]>();
  private readonly rawOrphans = new Map<number, Orphan[]>();
  private readonly byNr = new Map<number, EventDefinition>();
  private readonly byCompatNr = new Map<number, EventDefinition>();
  private candidates: Candidate[] = [];
  /** Per thread, the enter time of its latest completed syscall: pending enters older than that lost their exit. */
  private readonly completedAt = new Map<number, number>();
  private readonly markers = new Map<number, MarkerQueue>();
  private latestTs = 0;
  /** The last drain in which the kernel reported lost records: a lost marker could make a 64-bit call look 32-bit. */
  private lossSeq = -Infinity;

  constructor(
    events: readonly EventDefinition[],
    private readonly emit: (s: CompletedSyscall) => void,
    readonly counters: PairingCounters = { lostByEvent: {}, losses: new LossTally(), filteredByEvent: {} },
    /** Events whose entry records are filtered in the kernel: an exit without its enter is expected for them. */
    private readonly kernelFiltered: ReadonlySet<string> = new Set(),
  ) {
    for (const e of events) {
      this.byNr.set(e.nr, e);
      if (e.compatNr !== undefined) this.byCompatNr.set(e.compatNr, e);
    }
  }

  /** Catalog event for an i386 number, if watched. */
  compatEvent(nr: number): EventDefinition | undefined {
    return this.byCompatNr.get(nr);
  }

  enter(tid: number, ts: number, cpu: number, event: EventDefinition, args: ArgValue[], seq: number): void {
    this.latestTs = ts;
    const orphan = takeMatchingOrphan(this.nativeOrphans.get(tid), event.nr, ts);
    if (orphan) {
      this.emit({ event, monoNs: ts, cpu, tid, compat: false, args, ret: orphan.ret });
      return;
    }
    this.push(this.native, tid, { event, ts, cpu, args, seq });
  }

  exit(tid: number, ts: number, event: EventDefinition, ret: number, seq: number): void {
    this.latestTs = ts;
    const p = takeMatchingEnter(this.native.get(tid), nativeKey, event.nr, ts);
    if (p) {
      if (this.native.get(tid)?.length) this.completedAt.set(tid, p.ts);
      this.emit({ event, monoNs: p.ts, cpu: p.cpu, tid, compat: false, args: p.args, ret });
      return;
    }
    this.pushOrphan(this.nativeOrphans, tid, { key: event.nr, ts, ret, seq });
  }

  /** A raw_syscalls enter whose id is the i386 number of a watched event: a compat call unless a marker says native. */
  rawEnter(tid: number, ts: number, cpu: number, event: EventDefinition, args: ArgValue[], seq: number): void {
    this.latestTs = ts;
    const nr = event.compatNr ?? -1;
    const orphan = takeMatchingOrphan(this.rawOrphans.get(tid), nr, ts);
    const enter: Pending = { event, ts, cpu, args, seq };
    if (orphan) {
      this.candidates.push({ tid, enter, exitTs: orphan.ts, ret: orphan.ret, seq: orphan.seq });
      return;
    }
    this.push(this.raw, tid, enter);
  }

  rawExit(tid: number, ts: number, nr: number, ret: number, seq: number): void {
    this.latestTs = ts;
    const p = takeMatchingEnter(this.raw.get(tid), compatKey, nr, ts);
    if (p) {
      if (this.raw.get(tid)?.length) this.completedAt.set(tid, p.ts);
      this.candidates.push({ tid, enter: p, exitTs: ts, ret, seq });
      return;
    }
    this.pushOrphan(this.rawOrphans, tid, { key: nr, ts, ret, seq });
  }

  /** The per-syscall enter tracepoint of a 64-bit syscall whose number is an i386 number we watch. */
  marker(tid: number, ts: number, nr: number): void {
    let queue = this.markers.get(tid);
    if (!queue) this.markers.set(tid, (queue = new MarkerQueue()));
    queue.push({ nr, ts });
  }

  /** The kernel reported records lost in drain `seq`. */
  noteLoss(seq: number): void {
    this.lossSeq = seq;
  }

  /**
   * Called after drain `seq` read every CPU to the end: whatever an earlier drain left unmatched is now final.
   * `final` (at stop) settles everything.
   */
  settle(seq: number, final = false): void {
    const due = (s: number): boolean => final || s < seq;
    // compat candidates, oldest first so each consumes its own marker
    if (this.candidates.length) {
      const keep: Candidate[] = [];
      const ready = this.candidates.filter((c) => (due(c.seq) ? true : (keep.push(c), false)));
      ready.sort((a, b) => a.exitTs - b.exitTs);
      for (const c of ready) this.resolveCandidate(c);
      this.candidates = keep;
    }
    this.expireOrphans(this.nativeOrphans, due, (o) => {
      const name = this.byNr.get(o.key)?.name ?? String(o.key);
      bump(this.kernelFiltered.has(name) ? this.counters.filteredByEvent : this.counters.lostByEvent, name);
    });
    this.expireOrphans(this.rawOrphans, due, () => this.counters.losses.add('exit-without-enter'));
    this.expireSuperseded(this.native, due);
    this.expireSuperseded(this.raw, due);
    if (final) {
      for (const list of this.native.values()) for (const p of list) this.counters.losses.add('in-progress-at-stop', p.event.name);
      for (const list of this.raw.values()) for (const p of list) this.counters.losses.add('in-progress-at-stop', p.event.name, 1, true);
      this.native.clear();
      this.raw.clear();
      this.markers.clear();
    } else {
      this.pruneMarkers();
    }
  }

  private resolveCandidate(c: Candidate): void {
    const nr = c.enter.event.compatNr;
    const queue = this.markers.get(c.tid);
    if (queue) {
      const native = queue.take(nr ?? -1, c.enter.ts - MARKER_LEAD_NS, c.exitTs);
      if (queue.size === 0) this.markers.delete(c.tid);
      if (native) return; // a native call of the 64-bit syscall with this number
    }
    if (this.lossSeq >= c.enter.seq - 1) {
      // no marker, but records were lost since its enter was read (its marker may be among them): not sure it was a
      // 32-bit call, so say so instead of guessing
      this.counters.losses.add('abi-unknown', c.enter.event.name);
      return;
    }
    const e = c.enter;
    this.emit({ event: e.event, monoNs: e.ts, cpu: e.cpu, tid: c.tid, compat: true, args: e.args, ret: c.ret });
  }

  private push(map: Map<number, Pending[]>, tid: number, p: Pending): void {
    const list = map.get(tid);
    if (list) list.push(p);
    else {
      if (map.size >= MAX_PENDING_THREADS) this.evictOldest(map);
      map.set(tid, [p]);
    }
  }

  private pushOrphan(map: Map<number, Orphan[]>, tid: number, o: Orphan): void {
    const list = map.get(tid);
    if (list) list.push(o);
    else map.set(tid, [o]);
  }

  private evictOldest(map: Map<number, Pending[]>): void {
    const first = map.keys().next();
    if (first.done) return;
    for (const p of map.get(first.value) ?? []) this.counters.losses.add('too-many-threads', p.event.name);
    map.delete(first.value);
  }

  private expireOrphans(map: Map<number, Orphan[]>, due: (seq: number) => boolean, lost: (o: Orphan) => void): void {
    for (const [tid, list] of map) {
      const keep = list.filter((o) => (due(o.seq) ? (lost(o), false) : true));
      if (keep.length) map.set(tid, keep);
      else map.delete(tid);
    }
  }

  /** An enter followed by a later enter (or completed syscall) of the same thread lost its exit. */
  private expireSuperseded(map: Map<number, Pending[]>, due: (seq: number) => boolean): void {
    for (const [tid, list] of map) {
      const completed = this.completedAt.get(tid) ?? -Infinity;
      if (list.length < 2 && !(list.length === 1 && list[0].ts < completed)) {
        if (list.length === 0) map.delete(tid);
        continue;
      }
      const last = list[list.length - 1];
      const keep = list.filter((p) => {
        if ((p !== last || p.ts < completed) && due(p.seq)) {
          bump(this.counters.lostByEvent, p.event.name);
          return false;
        }
        return true;
      });
      if (keep.length) map.set(tid, keep);
      else {
        map.delete(tid);
        this.completedAt.delete(tid);
      }
    }
  }

  private pruneMarkers(): void {
    const horizon = this.latestTs - 1_000_000_000;
    for (const [tid, queue] of this.markers) {
      if ((queue.size === 0 || queue.newestTs < horizon) && !this.raw.has(tid)) this.markers.delete(tid);
    }
  }
}
