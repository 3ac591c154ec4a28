import { readdirSync } from 'node:fs';
import { NATIVE_NAME_BY_NR } from '../../catalog/events.js';
import type { EventDefinition } from '../../catalog/types.js';
import type { ArgValue } from '../../model/event.js';
import type { CompletedSyscall, LossCounters, Probe, ProbeOptions, TaskEvent } from '../types.js';
import { argReader, readLong, type ArgReader } from '../arg-readers.js';
import { CpuReaders } from './cpu-readers.js';
import { readFormat, type EventFormat } from '../../catalog/tracepoint-format.js';
import { TracefsInstance } from './instance.js';
import { decodePage } from './page.js';
import { SyscallPairer } from './pairing.js';
import { tracefsFilter } from './filter.js';
import { tracefsRoot } from './tracefs-root.js';
import { cString } from '../c-string.js';

const KIND_ENTER = 0;
const KIND_EXIT = 1;
const KIND_RAW_ENTER = 2;
const KIND_RAW_EXIT = 3;
const KIND_MARKER = 4;
const KIND_TASK_NEW = 5;
const KIND_TASK_EXEC = 6;
const KIND_TASK_EXIT = 7;

interface Handler {
  kind: number;
  event?: EventDefinition;
  /** enter: one reader per catalog arg, at its offset */
  readers?: ArgReader[];
  offsets?: number[];
  /** exit: offset of `ret`; raw: offset of `id`; marker: the syscall number it stands for */
  offset: number;
  /** raw enter: offset of args[0] */
  argsOffset?: number;
  markerNr?: number;
  /** lifecycle records: offsets of their fields */
  fields?: Record<string, number>;
}

const ARENA_BYTES = 4 << 20;
const MAX_BATCHES_PER_DRAIN = 16;
const DEFAULT_BUFFER_KB = 4096;

function ownThreads(): number[] {
  try {
    return readdirSync('/proc/self/task').map(Number);
  } catch {
    return [process.pid];
  }
}

/** The tracefs backend: a private instance, per-CPU binary readers, format-driven decoding, pairing in user space. */
class TracefsProbe implements Probe {
  readonly backend = 'tracefs' as const;
  private readonly instance: TracefsInstance;
  private readers: CpuReaders | undefined;
  private readonly handlers = new Map<number, Handler>();
  private readonly pairer: SyscallPairer;
  private emitFn: (s: CompletedSyscall) => void = () => {};
  private taskFn: ((t: TaskEvent) => void) | undefined;
  private seq = 0;
  private closed = false;
  private readonly missedCounted: number[];
  private readonly missedUncounted: number[];
  private readonly compatNrs: number[] = [];
  /** Entry filters by event, in tracefs syntax with this kernel's field names (configure fills it). */
  private readonly filters = new Map<string, string>();
  /** Events whose entries the kernel filters: for them an exit without its entry was filtered, not lost. */
  private readonly filtered = new Set<string>();
  // one drain's records, struct-of-arrays (hot path: no object per record)
  private readonly arena = Buffer.allocUnsafe(ARENA_BYTES);
  private readonly view = new DataView(this.arena.buffer, this.arena.byteOffset, this.arena.byteLength);
  private recTs = new Float64Array(ARENA_BYTES / 8);
  private recOff = new Int32Array(ARENA_BYTES / 8);
  private recCount = 0;
  private currentCpu = 0;
  private readonly recCpu = new Int16Array(ARENA_BYTES / 8);

  constructor(private readonly options: ProbeOptions) {
    const root = tracefsRoot();
    this.instance = TracefsInstance.create(root);
    this.pairer = new SyscallPairer(options.events, (s) => this.emitFn(s), undefined, this.filtered);
    try {
      this.configure();
    } catch (err) {
      this.close();
      throw err;
    }
    this.missedCounted = this.readers!.cpus.map(() => 0);
    this.missedUncounted = this.readers!.cpus.map(() => 0);
  }

  private configure(): void {
    const inst = this.instance;
    const { events, compat } = this.options;
    inst.write('trace_clock', 'mono'); // CLOCK_MONOTONIC, the clock the eBPF backend and Node's hrtime use
    inst.write('buffer_size_kb', String(this.options.bufferKb ?? DEFAULT_BUFFER_KB));
    const exclude = [...new Set([...this.options.excludePids, ...ownThreads()])];
    if (exclude.length && inst.has('set_event_notrace_pid')) inst.write('set_event_notrace_pid', exclude.join(' '));
    if (this.options.pids?.length) {
      inst.write('options/event-fork', this.options.followForks ? '1' : '0');
      inst.write('set_event_pid', this.options.pids.join(' '));
    }
    const markerFor = new Map<string, number>();
    if (compat) {
      for (const e of events) {
        if (e.compatNr === undefined) continue;
        this.compatNrs.push(e.compatNr);
        const native = NATIVE_NAME_BY_NR[e.compatNr];
        if (native && inst.has(`events/syscalls/sys_enter_${native}`)) markerFor.set(native, e.compatNr);
      }
    }
    for (const e of events) {
      const tp = e.tracepoint ?? e.name;
      const enter = this.format(`syscalls/sys_enter_${tp}`, e);
      const offsets = e.args.map((_, i) => enter.argFields[i]?.offset ?? -1);
      const expr = this.options.kernelFilters?.[e.name];
      const filter = expr && tracefsFilter(expr, enter.argFields.map((f) => f.name));
      if (filter) {
        this.filters.set(e.name, filter);
        this.filtered.add(e.name);
      }
      this.handlers.set(enter.id, {
        kind: KIND_ENTER,
        event: e,
        readers: e.args.map((a) => argReader(a, false)),
        offsets,
        offset: 0,
        markerNr: markerFor.get(e.name),
      });
      const exit = this.format(`syscalls/sys_exit_${tp}`, e);
      this.handlers.set(exit.id, { kind: KIND_EXIT, event: e, offset: fieldOffset(exit, 'ret') });
    }
    for (const [native, nr] of markerFor) {
      if (events.some((e) => e.name === native)) continue; // its enter handler already marks
      const f = readFormat(`${inst.path}/events/syscalls/sys_enter_${native}`);
      this.handlers.set(f.id, { kind: KIND_MARKER, offset: 0, markerNr: nr });
    }
    if (this.compatNrs.length) {
      const rawEnter = readFormat(`${inst.path}/events/raw_syscalls/sys_enter`);
      const rawExit = readFormat(`${inst.path}/events/raw_syscalls/sys_exit`);
      this.handlers.set(rawEnter.id, { kind: KIND_RAW_ENTER, offset: fieldOffset(rawEnter, 'id'), argsOffset: fieldOffset(rawEnter, 'args') });
      this.handlers.set(rawExit.id, { kind: KIND_RAW_EXIT, offset: fieldOffset(rawExit, 'id'), argsOffset: fieldOffset(rawExit, 'ret') });
    }
    if (this.options.lifecycle) this.configureLifecycle();
    // readers first, so nothing recorded between enabling and reading is lost
    this.readers = new CpuReaders(inst.path, pageSize(inst));
    const idFilter = idRangesFilter(this.compatNrs);
    for (const h of this.handlers.values()) {
      const tp = h.event?.tracepoint ?? h.event?.name;
      if (h.kind === KIND_ENTER) inst.enableEvent('syscalls', `sys_enter_${tp}`, this.filters.get(h.event!.name));
      else if (h.kind === KIND_EXIT) inst.enableEvent('syscalls', `sys_exit_${tp}`);
    }
    for (const native of markerFor.keys()) {
      if (!events.some((e) => e.name === native)) inst.enableEvent('syscalls', `sys_enter_${native}`);
    }
    if (idFilter) {
      inst.enableEvent('raw_syscalls', 'sys_enter', idFilter);
      inst.enableEvent('raw_syscalls', 'sys_exit', idFilter);
    }
    for (const h of this.handlers.values()) {
      if (h.kind === KIND_TASK_NEW) inst.enableEvent('task', 'task_newtask');
      else if (h.kind === KIND_TASK_EXEC) inst.enableEvent('sched', 'sched_process_exec');
      else if (h.kind === KIND_TASK_EXIT) inst.enableEvent('sched', 'sched_process_exit');
    }
  }

  /** Fork/exec/exit records for the process tree: rare next to syscalls, and the only way to know a task that is gone. */
  private configureLifecycle(): void {
    const sources: Array<[string, number, string[]]> = [
      ['task/task_newtask', KIND_TASK_NEW, ['pid', 'comm', 'clone_flags']],
      ['sched/sched_process_exec', KIND_TASK_EXEC, ['filename', 'pid', 'old_pid']],
      ['sched/sched_process_exit', KIND_TASK_EXIT, ['pid', 'group_dead']],
    ];
    for (const [path, kind, names] of sources) {
      if (!this.instance.has(`events/${path}`)) continue;
      const f = readFormat(`${this.instance.path}/events/${path}`);
      const fields: Record<string, number> = {};
      for (const n of names) {
        const field = f.fields.find((x) => x.name === n);
        fields[n] = field ? field.offset : -1;
      }
      this.handlers.set(f.id, { kind, offset: 0, fields });
    }
  }

  private format(path: string, e: EventDefinition): EventFormat {
    const dir = `${this.instance.path}/events/${path}`;
    if (!this.instance.has(`events/${path}`)) {
      throw new Error(`this kernel has no tracepoint ${path} for event ${e.name} (is CONFIG_FTRACE_SYSCALLS set?)`);
    }
    return readFormat(dir);
  }

  private readonly onRecord = (_view: DataView, offset: number, _length: number, ts: number): void => {
    const i = this.recCount++;
    this.recTs[i] = ts;
    this.recOff[i] = offset;
    this.recCpu[i] = this.currentCpu;
  };

  drain(emit: (s: CompletedSyscall) => void, onTask?: (t: TaskEvent) => void, budget = Infinity): number {
    if (this.closed || !this.readers) return 0;
    this.emitFn = emit;
    this.taskFn = onTask;
    let total = 0;
    for (let batch = 0; batch < MAX_BATCHES_PER_DRAIN && total < budget; batch++) {
      this.seq++;
      const complete = this.readBatch(budget - total);
      total += this.recCount;
      this.processBatch();
      if (complete) {
        this.pairer.settle(this.seq);
        break;
      }
    }
    return total;
  }

  /** Reads pages from every CPU into the arena (about `budget` records at most); true when every CPU was read to the end. */
  private readBatch(budget: number): boolean {
    const readers = this.readers!;
    const page = readers.pageSize;
    let off = 0;
    let complete = true;
    this.recCount = 0;
    for (let i = 0; i < readers.cpus.length; i++) {
      this.currentCpu = readers.cpus[i];
      for (;;) {
        if (off + page > ARENA_BYTES || this.recCount >= budget) {
          complete = false;
          break;
        }
        const got = readers.readPage(i, this.arena, off);
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
        case KIND_ENTER: {
          const readers = h.readers!;
          const offsets = h.offsets!;
          const args: ArgValue[] = new Array(readers.length);
          for (let a = 0; a < readers.length; a++) args[a] = offsets[a] < 0 ? null : readers[a](view, off + offsets[a]);
          if (h.markerNr !== undefined) this.pairer.marker(tid, ts, h.markerNr);
          this.pairer.enter(tid, ts, this.recCpu[i], h.event!, args, seq);
          break;
        }
        case KIND_EXIT:
          this.pairer.exit(tid, ts, h.event!, readLong(view, off + h.offset), seq);
          break;
        case KIND_RAW_ENTER: {
          const nr = readLong(view, off + h.offset);
          const e = this.pairer.compatEvent(nr);
          if (!e) break;
          const base = off + h.argsOffset!;
          const args: ArgValue[] = new Array(e.args.length);
          for (let a = 0; a < e.args.length; a++) args[a] = argReader(e.args[a], true)(view, base + 8 * a);
          this.pairer.rawEnter(tid, ts, this.recCpu[i], e, args, seq);
          break;
        }
        case KIND_RAW_EXIT:
          this.pairer.rawExit(tid, ts, readLong(view, off + h.offset), readLong(view, off + h.argsOffset!), seq);
          break;
        case KIND_MARKER:
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
    if (h.kind === KIND_TASK_NEW) {
      return {
        kind: 'fork',
        monoNs: ts,
        parentTid: tid,
        childTid: view.getInt32(off + f.pid, true),
        cloneFlags: f.clone_flags < 0 ? 0 : view.getUint32(off + f.clone_flags, true),
        comm: cString(this.arena, off + f.comm, 16),
      };
    }
    if (h.kind === KIND_TASK_EXEC) {
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

  finish(emit: (s: CompletedSyscall) => void, onTask?: (t: TaskEvent) => void): void {
    if (this.closed) return;
    this.instance.disableEvents();
    this.drain(emit, onTask);
    this.emitFn = emit;
    this.pairer.settle(this.seq + 1, true);
    this.close();
  }

  losses(): LossCounters {
    const tally = this.pairer.counters.losses;
    const losses = tally.entries();
    if (this.readers && !this.closed) {
      for (let i = 0; i < this.readers.cpus.length; i++) {
        const st = this.readers.stats(i);
        this.lastStats[i] = st.overrun + st.commitOverrun + st.dropped;
      }
    }
    let overrun = 0;
    for (let i = 0; i < this.missedCounted.length; i++) {
      overrun += Math.max(this.missedCounted[i], this.lastStats[i] ?? 0, this.missedUncounted[i]);
    }
    if (overrun) losses.push({ kind: 'overrun', count: overrun });
    const byEvent = { ...this.pairer.counters.lostByEvent };
    // a syscall is two records (enter, exit): the pairing saw the half-lost ones (byEvent); the rest of the lost
    // records were whole syscalls, two records each; calls whose ABI could not be told are counted as lost too
    let halfLost = 0;
    for (const n of Object.values(byEvent)) halfLost += n;
    const unknownAbi = tally.total((k) => k === 'abi-unknown');
    const eventsLost = halfLost + unknownAbi + Math.max(0, Math.round((overrun - halfLost) / 2));
    return { losses, byEvent, filteredByEvent: { ...this.pairer.counters.filteredByEvent }, eventsLost };
  }

  private readonly lastStats: number[] = [];

  close(): void {
    if (this.closed) return;
    if (this.readers) {
      try {
        this.losses(); // last look at the kernel's counters before the instance goes
      } catch {
        // best effort
      }
    }
    this.closed = true;
    this.instance.disableEvents();
    this.readers?.close();
    this.instance.remove();
  }
}

/** `id == 101 || id == 110`, with runs folded into ranges so that a whole table still fits one filter. */
export function idRangesFilter(ids: readonly number[]): string {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(j - i >= 2 ? `(id >= ${sorted[i]} && id <= ${sorted[j]})` : sorted.slice(i, j + 1).map((n) => `id == ${n}`).join(' || '));
    i = j + 1;
  }
  return parts.join(' || ');
}


function fieldOffset(f: EventFormat, name: string): number {
  const field = f.fields.find((x) => x.name === name);
  if (!field) throw new Error(`tracefs event ${f.name} has no field ${name}`);
  return field.offset;
}

function pageSize(inst: TracefsInstance): number {
  try {
    return Number(inst.read('buffer_subbuf_size_kb').trim()) * 1024 || 4096;
  } catch {
    return 4096;
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

export function openTracefsProbe(options: ProbeOptions): Probe {
  return new TracefsProbe(options);
}
