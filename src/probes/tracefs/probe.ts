import { readdirSync } from 'node:fs';
import { NATIVE_NAME_BY_NR } from '../../catalog/events.js';
import type { EventDefinition } from '../../catalog/types.js';
import type { CompletedSyscall, LossCounters, Probe, ProbeOptions, TaskEvent } from '../types.js';
import { CpuReaders } from './cpu-readers.js';
import { readFormat, type EventFormat } from '../../catalog/tracepoint-format.js';
import { TracefsInstance } from './instance.js';
import { HandlerKind, type HandlerSpec, type PageSource, TracefsDecoder } from './decoder.js';
import { tracefsFilter } from './filter.js';
import { tracefsRoot } from './tracefs-root.js';
import { LossTally } from '../../model/loss.js';
import { BlockPool } from '../backlog.js';
import type { BacklogStats } from '../../model/event.js';
import { SpillingPages } from './spilled-pages.js';

const DEFAULT_BUFFER_KB = 4096;
/**
 * The backlog's blocks: a read that filled the consumer's room at 100k calls/s (two records each) leaves a page or two
 * to spill, which a 1 MB block would hold for nothing.
 */
const TRACEFS_BLOCK_BYTES = 256 << 10;

function ownThreads(): number[] {
  try {
    return readdirSync('/proc/self/task').map(Number);
  } catch {
    return [process.pid];
  }
}

/** The tracefs backend: a private instance and its per-CPU binary readers; decoding and pairing in decoder.ts. */
export class TracefsProbe implements Probe {
  readonly backend = 'tracefs' as const;
  private readonly instance: TracefsInstance;
  private readers: CpuReaders | undefined;
  /** The readers, behind the backlog. */
  private source: SpillingPages | undefined;
  private readonly backlogPool: BlockPool;
  /** What each event id of this instance stands for (a capture stores it: bench/capture.ts). */
  readonly handlers: HandlerSpec[] = [];
  private readonly decoder: TracefsDecoder;
  private closed = false;
  private readonly compatNrs: number[] = [];
  /** Events whose entries the kernel filters: for them an exit without its entry was filtered, not lost. */
  private readonly filtered = new Set<string>();

  constructor(private readonly options: ProbeOptions) {
    const root = tracefsRoot();
    this.instance = TracefsInstance.create(root);
    this.backlogPool = new BlockPool(options.backlogBytes, TRACEFS_BLOCK_BYTES);
    try {
      this.configure();
      this.decoder = new TracefsDecoder(options.events, this.handlers, this.readers!.cpus.length, this.filtered);
    } catch (err) {
      this.close();
      throw err;
    }
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
    const enables: Array<[string, string, string?]> = [];
    for (const e of events) {
      const tp = e.tracepoint ?? e.name;
      const enter = this.format(`syscalls/sys_enter_${tp}`, e);
      const offsets = e.args.map((_, i) => enter.argFields[i]?.offset ?? -1);
      const expr = this.options.kernelFilters?.[e.name];
      const filter = expr && tracefsFilter(expr, enter.argFields.map((f) => f.name)); // this kernel's field names
      if (filter) this.filtered.add(e.name);
      this.handlers.push({ id: enter.id, kind: HandlerKind.enter, event: e.name, offsets, offset: 0, markerNr: markerFor.get(e.name) });
      const exit = this.format(`syscalls/sys_exit_${tp}`, e);
      this.handlers.push({ id: exit.id, kind: HandlerKind.exit, event: e.name, offset: fieldOffset(exit, 'ret') });
      enables.push(['syscalls', `sys_enter_${tp}`, filter || undefined], ['syscalls', `sys_exit_${tp}`]);
    }
    for (const [native, nr] of markerFor) {
      if (events.some((e) => e.name === native)) continue; // its enter handler already marks
      const f = readFormat(`${inst.path}/events/syscalls/sys_enter_${native}`);
      this.handlers.push({ id: f.id, kind: HandlerKind.marker, offset: 0, markerNr: nr });
      enables.push(['syscalls', `sys_enter_${native}`]);
    }
    if (this.compatNrs.length) {
      const rawEnter = readFormat(`${inst.path}/events/raw_syscalls/sys_enter`);
      const rawExit = readFormat(`${inst.path}/events/raw_syscalls/sys_exit`);
      this.handlers.push({ id: rawEnter.id, kind: HandlerKind.rawEnter, offset: fieldOffset(rawEnter, 'id'), argsOffset: fieldOffset(rawEnter, 'args') });
      this.handlers.push({ id: rawExit.id, kind: HandlerKind.rawExit, offset: fieldOffset(rawExit, 'id'), argsOffset: fieldOffset(rawExit, 'ret') });
      const idFilter = idRangesFilter(this.compatNrs);
      enables.push(['raw_syscalls', 'sys_enter', idFilter], ['raw_syscalls', 'sys_exit', idFilter]);
    }
    if (this.options.lifecycle) enables.push(...this.configureLifecycle());
    // readers first, so nothing recorded between enabling and reading is lost
    this.readers = new CpuReaders(inst.path, pageSize(inst));
    this.source = new SpillingPages(this.readers, this.backlogPool);
    for (const [system, event, filter] of enables) inst.enableEvent(system, event, filter);
  }

  /** Fork/exec/exit records for the process tree: rare next to syscalls, and the only way to know a task that is gone. */
  private configureLifecycle(): Array<[string, string]> {
    const sources: Array<[string, string, HandlerSpec['kind'], string[]]> = [
      ['task', 'task_newtask', HandlerKind.taskNew, ['pid', 'comm', 'clone_flags']],
      ['sched', 'sched_process_exec', HandlerKind.taskExec, ['filename', 'pid', 'old_pid']],
      ['sched', 'sched_process_exit', HandlerKind.taskExit, ['pid', 'group_dead']],
    ];
    const enables: Array<[string, string]> = [];
    for (const [system, event, kind, names] of sources) {
      if (!this.instance.has(`events/${system}/${event}`)) continue;
      const f = readFormat(`${this.instance.path}/events/${system}/${event}`);
      const fields: Record<string, number> = {};
      for (const n of names) {
        const field = f.fields.find((x) => x.name === n);
        fields[n] = field ? field.offset : -1;
      }
      this.handlers.push({ id: f.id, kind, offset: 0, fields });
      enables.push([system, event]);
    }
    return enables;
  }

  private format(path: string, e: EventDefinition): EventFormat {
    const dir = `${this.instance.path}/events/${path}`;
    if (!this.instance.has(`events/${path}`)) {
      throw new Error(`this kernel has no tracepoint ${path} for event ${e.name} (is CONFIG_FTRACE_SYSCALLS set?)`);
    }
    return readFormat(dir);
  }

  /** The per-CPU pages, undecoded: what the benchmark captures (bench/capture.ts). */
  get pages(): PageSource {
    return this.readers!;
  }

  drain(emit: (s: CompletedSyscall) => void, onTask?: (t: TaskEvent) => void, budget = Infinity): number {
    if (this.closed || !this.source) return 0;
    return this.decoder.drain(this.source, emit, onTask, budget);
  }

  /** The kernel buffers cost us no memory, but only the backlog holds more than they do: spill whatever is ready. */
  spill(): number {
    if (this.closed || !this.source) return 0;
    return this.source.spill();
  }

  backlog(): BacklogStats {
    return this.backlogPool.stats();
  }

  stopRecording(): void {
    if (!this.closed) this.instance.disableEvents();
  }

  finish(emit: (s: CompletedSyscall) => void, onTask?: (t: TaskEvent) => void): void {
    if (this.closed) return;
    this.stopRecording();
    this.drain(emit, onTask);
    this.decoder.settleAll(emit);
    this.close();
  }

  losses(): LossCounters {
    const counters = this.decoder?.pairer.counters ?? { lostByEvent: {}, losses: new LossTally(), filteredByEvent: {} };
    const losses = counters.losses.entries();
    if (this.readers && !this.closed) {
      for (let i = 0; i < this.readers.cpus.length; i++) {
        const st = this.readers.stats(i);
        this.lastStats[i] = st.overrun + st.commitOverrun + st.dropped;
      }
    }
    let overrun = 0;
    const counted = this.decoder?.missedCounted ?? [];
    const uncounted = this.decoder?.missedUncounted ?? [];
    for (let i = 0; i < counted.length; i++) {
      overrun += Math.max(counted[i], this.lastStats[i] ?? 0, uncounted[i]);
    }
    if (overrun) losses.push({ kind: 'overrun', count: overrun });
    const byEvent = { ...counters.lostByEvent };
    // a syscall is two records (enter, exit): the pairing saw the half-lost ones (byEvent); the rest of the lost
    // records were whole syscalls, two records each; calls whose ABI could not be told are counted as lost too
    let halfLost = 0;
    for (const n of Object.values(byEvent)) halfLost += n;
    const unknownAbi = counters.losses.total((k) => k === 'abi-unknown');
    const eventsLost = halfLost + unknownAbi + Math.max(0, Math.round((overrun - halfLost) / 2));
    return { losses, byEvent, filteredByEvent: { ...counters.filteredByEvent }, eventsLost };
  }

  private readonly lastStats: number[] = [];

  close(): void {
    if (this.closed) return;
    if (this.readers && this.decoder) {
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

export function openTracefsProbe(options: ProbeOptions): Probe {
  return new TracefsProbe(options);
}
