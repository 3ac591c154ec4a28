import type { EventDefinition } from '../../catalog/types.js';
import type { ArgValue } from '../../model/event.js';
import type { CompletedSyscall, TaskEvent } from '../types.js';
import { argReader, readLong, type ArgReader } from '../arg-readers.js';
import { cString } from '../c-string.js';
import { decodePage } from './page.js';
import { SyscallPairer } from './pairing.js';

/** What a tracefs event id stands for. */
export const HandlerKind = { enter: 0, exit: 1, rawEnter: 2, rawExit: 3, marker: 4, taskNew: 5, taskExec: 6, taskExit: 7 } as const;

/** One event id's handling, as the probe found it in the format files: plain data, so a capture can store it. */
export interface HandlerSpec {
  id: number;
  kind: (typeof HandlerKind)[keyof typeof HandlerKind];
  /** enter, exit: the catalog event's name */
  event?: string;
  /** enter: offset of each catalog arg (-1: not in the record) */
  offsets?: number[];
  /** exit: offset of `ret`; raw: offset of `id` */
  offset: number;
  /** raw enter: offset of args[0]; raw exit: offset of `ret` */
  argsOffset?: number;
  /** enter, marker: the i386 number this native call stands for (see pairing.ts) */
  markerNr?: number;
  /** lifecycle records: offsets of their fields (-1: absent) */
  fields?: Record<string, number>;
}

interface Handler extends Omit<HandlerSpec, 'event'> {
  event?: EventDefinition;
  readers?: ArgReader[];
}

/** Where pages come from: the per-CPU trace_pipe_raw readers, or pages the benchmark captured (bench/capture.ts). */
export interface PageSource {
  readonly cpus: readonly number[];
  readonly pageSize: number;
  /** Reads the next page of CPU index i into buf at offset; 0 when nothing is ready. */
  readPage(i: number, buf: Buffer, offset: number): number;
}

const ARENA_BYTES = 4 << 20;
const MAX_BATCHES_PER_DRAIN = 16;

/** Per-CPU ring-buffer pages to paired syscalls and task events: format-driven decoding, pairing in user space. */
export class TracefsDecoder {
  readonly pairer: SyscallPairer;
  /** Per CPU index: events the kernel said it lost with a count, and pages flagged lost without one. */
  readonly missedCounted: number[];
  readonly missedUncounted: number[];
  private readonly handlers = new Map<number, Handler>();
  private emitFn: (s: CompletedSyscall) => void = () => {};
  private taskFn: ((t: TaskEvent) => void) | undefined;
  private seq = 0;
  // one drain's records, struct-of-arrays (hot path: no object per record)
  private readonly arena = Buffer.allocUnsafe(ARENA_BYTES);
  private readonly view = new DataView(this.arena.buffer, this.arena.byteOffset, this.arena.byteLength);
  private recTs = new Float64Array(ARENA_BYTES / 8);
  private recOff = new Int32Array(ARENA_BYTES / 8);
  private recCount = 0;
  private currentCpu = 0;
  private readonly recCpu = new Int16Array(ARENA_BYTES / 8);

  /** `kernelFiltered`: events whose entry records the kernel filters, so an exit alone is no loss. */
  constructor(events: readonly EventDefinition[], specs: readonly HandlerSpec[], cpuCount: number, kernelFiltered: ReadonlySet<string>) {
    this.pairer = new SyscallPairer(events, (s) => this.emitFn(s), undefined, kernelFiltered);
    const byName = new Map(events.map((e) => [e.name, e]));
    for (const spec of specs) {
      const event = spec.event === undefined ? undefined : byName.get(spec.event);
      if (spec.event !== undefined && !event) throw new Error(`tracefs decoder: event ${spec.event} is not among the selected events`);
      const h: Handler = { ...spec, event };
      if (spec.kind === HandlerKind.enter) h.readers = event!.args.map((a) => argReader(a, false));
      this.handlers.set(spec.id, h);
    }
    this.missedCounted = new Array<number>(cpuCount).fill(0);
    this.missedUncounted = new Array<number>(cpuCount).fill(0);
  }

  private readonly onRecord = (_view: DataView, offset: number, _length: number, ts: number): void => {
    const i = this.recCount++;
    this.recTs[i] = ts;
    this.recOff[i] = offset;
    this.recCpu[i] = this.currentCpu;
  };

  /** Reads what the source has now (about `budget` records at most), pairs it, hands each completed syscall to emit. */
  drain(source: PageSource, emit: (s: CompletedSyscall) => void, onTask?: (t: TaskEvent) => void, budget = Infinity): number {
    this.emitFn = emit;
    this.taskFn = onTask;
    let total = 0;
    for (let batch = 0; batch < MAX_BATCHES_PER_DRAIN && total < budget; batch++) {
      this.seq++;
      const complete = this.readBatch(source, budget - total);
      total += this.recCount;
      this.processBatch();
      if (complete) {
        this.pairer.settle(this.seq);
        break;
      }
    }
    return total;
  }

  /** At stop, after the last drain: whatever is still unpaired is final. */
  settleAll(emit: (s: CompletedSyscall) => void): void {
    this.emitFn = emit;
    this.pairer.settle(this.seq + 1, true);
  }

  /** Reads pages from every CPU into the arena (about `budget` records at most); true when every CPU was read to the end. */
  private readBatch(source: PageSource, budget: number): boolean {
    const page = source.pageSize;
    let off = 0;
    let complete = true;
    this.recCount = 0;
    for (let i = 0; i < source.cpus.length; i++) {
      this.currentCpu = source.cpus[i];
      for (;;) {
        if (off + page > ARENA_BYTES || this.recCount >= budget) {
          complete = false;
          break;
        }
        const got = source.readPage(i, this.arena, off);
        if (got <= 0) break;
        const s = decodePage(this.view, off, got, this.onRecord);
        if (s.missedEvents) {
          if (s.missedCount !== undefined) this.missedCounted[i] += s.missedCount;
          else this.missedUncounted[i]++;
          this.pairer.noteLoss(this.seq);
        }
        off += page;
      }
    }
    return complete;
  }

  /** Hot path: merges the per-CPU runs by timestamp and dispatches each record. */
  private processBatch(): void {
    const n = this.recCount;
    if (n === 0) return;
    const order = mergeOrder(this.recTs, this.recCpu, n);
    const view = this.view;
    const seq = this.seq;
    for (let k = 0; k < n; k++) {
      const i = order[k];
      const off = this.recOff[i];
      const h = this.handlers.get(view.getUint16(off, true));
      if (!h) continue;
      const tid = view.getInt32(off + 4, true);
      const ts = this.recTs[i];
      switch (h.kind) {
        case HandlerKind.enter: {
          const readers = h.readers!;
          const offsets = h.offsets!;
          const args: ArgValue[] = new Array(readers.length);
          for (let a = 0; a < readers.length; a++) args[a] = offsets[a] < 0 ? null : readers[a](view, off + offsets[a]);
          if (h.markerNr !== undefined) this.pairer.marker(tid, ts, h.markerNr);
          this.pairer.enter(tid, ts, this.recCpu[i], h.event!, args, seq);
          break;
        }
        case HandlerKind.exit:
          this.pairer.exit(tid, ts, h.event!, readLong(view, off + h.offset), seq);
          break;
        case HandlerKind.rawEnter: {
          const nr = readLong(view, off + h.offset);
          const e = this.pairer.compatEvent(nr);
          if (!e) break;
          const base = off + h.argsOffset!;
          const args: ArgValue[] = new Array(e.args.length);
          for (let a = 0; a < e.args.length; a++) args[a] = argReader(e.args[a], true)(view, base + 8 * a);
          this.pairer.rawEnter(tid, ts, this.recCpu[i], e, args, seq);
          break;
        }
        case HandlerKind.rawExit:
          this.pairer.rawExit(tid, ts, readLong(view, off + h.offset), readLong(view, off + h.argsOffset!), seq);
          break;
        case HandlerKind.marker:
          this.pairer.marker(tid, ts, h.markerNr!);
          break;
        default:
          if (this.taskFn) this.taskFn(this.taskEvent(h, off, tid, ts));
      }
    }
  }

  private taskEvent(h: Handler, off: number, tid: number, ts: number): TaskEvent {
    const f = h.fields!;
    const view = this.view;
    if (h.kind === HandlerKind.taskNew) {
      return {
        kind: 'fork',
        monoNs: ts,
        parentTid: tid,
        childTid: view.getInt32(off + f.pid, true),
        cloneFlags: f.clone_flags < 0 ? 0 : view.getUint32(off + f.clone_flags, true),
        comm: cString(this.arena, off + f.comm, 16),
      };
    }
    if (h.kind === HandlerKind.taskExec) {
      const loc = view.getUint32(off + f.filename, true); // __data_loc: offset in the low 16 bits, length in the high 16
      return {
        kind: 'exec',
        monoNs: ts,
        tid: view.getInt32(off + f.pid, true),
        oldTid: view.getInt32(off + f.old_pid, true),
        filename: cString(this.arena, off + (loc & 0xffff), loc >>> 16),
      };
    }
    const pid = view.getInt32(off + f.pid, true);
    return { kind: 'exit', monoNs: ts, tid: pid, groupDead: f.group_dead < 0 ? false : view.getUint8(off + f.group_dead) !== 0 };
  }
}

let orderScratch = new Int32Array(0);

/** Indices of records in timestamp order; each CPU's run is already sorted, so this is a k-way merge. */
function mergeOrder(ts: Float64Array, cpu: Int16Array, n: number): Int32Array {
  if (orderScratch.length < n) orderScratch = new Int32Array(Math.max(n, 1024));
  const order = orderScratch;
  // runs are contiguous: find their bounds
  const starts: number[] = [0];
  for (let i = 1; i < n; i++) if (cpu[i] !== cpu[i - 1]) starts.push(i);
  if (starts.length === 1) {
    for (let i = 0; i < n; i++) order[i] = i;
    return order;
  }
  const heads = starts.slice();
  const ends = starts.slice(1).concat(n);
  for (let k = 0; k < n; k++) {
    let best = -1;
    let bestTs = Infinity;
    for (let r = 0; r < heads.length; r++) {
      if (heads[r] < ends[r] && ts[heads[r]] < bestTs) {
        bestTs = ts[heads[r]];
        best = r;
      }
    }
    order[k] = heads[best]++;
  }
  return order;
}
