import { accessSync, constants, readdirSync, readFileSync } from 'node:fs';
import { type EventFormat, readFormat } from '../../catalog/tracepoint-format.js';
import { ENTRY_READ_MAX, type EntryRead, type EventDefinition, findArg } from '../../catalog/types.js';
import { EnvironmentError } from '../../model/errors.js';
import type { CompletedSyscall, LossCounters, Probe, ProbeOptions, TaskEvent } from '../types.js';
import { Btf, BtfKind, VMLINUX_BTF } from './btf.js';
import { kernelLayout, type KernelLayout } from './kernel-layout.js';
import { cachedLayout as diskCachedLayout, cachedTypeId } from './layout-cache.js';
import { attachRawTracepoint, attachTracepoint, attachTracing, type Link, TRACEFS } from './link.js';
import { loadValueBtf } from './btf-blob.js';
import { BPF_F_NO_PREALLOC, BpfMap, cpuCount, MapType, u32Key } from './maps.js';
import { BPF_TRACE_RAW_TP, Program, programInfo, type ProgramInfo, type ProgramSpec, ProgramType } from './programs.js';
import { Entry, entrySize, FLAG_COMPAT, RecordDecoder, stringArgs, stringSlots } from './record.js';
import { drainRecords, type RecordSource } from './drain.js';
import { RingBuffer } from './ringbuf.js';
import { SpilledRecords } from './spilled-records.js';
import { BlockPool } from '../backlog.js';
import type { BacklogStats } from '../../model/event.js';
import { forkProgram, processExitProgram } from './follow-forks.js';
import { execProgram, taskExitProgram, taskNewProgram } from './lifecycle-programs.js';
import { EVENT_LOSS_SLOTS, eventLossKey, ID_MAP_SIZE, LOSS_SLOTS, LossSlot, type MapFds } from './program-parts.js';
import { prepareScope, type ScopeCheck } from './kernel-scope.js';
import type { EnforceLayout } from './kill-check.js';
import type { ArgFilter } from './conditions.js';
import { enterProgram, type EntryStructRead, exitProgram, type HookKind, ID_COMPAT, ID_NATIVE, type StringRead, TracepointRecord } from './syscall-programs.js';
import { exit, mov64Imm, R0 } from './asm.js';
import { closeFd, PIDFD_THREAD, pidfdOpen, SyscallError } from './sys.js';
import { LossTally } from '../../model/loss.js';

/**
 * The eBPF backend: syscalls filtered, paired and enriched in the kernel, read from a BPF ring buffer.
 * Hooks: with `compat`, raw_syscalls sys_enter/sys_exit as tp_btf (raw_tp if the kernel refuses tp_btf), which see
 * every syscall including int $0x80 ones; without it, the cheaper syscalls/sys_enter_X + sys_exit_X tracepoints.
 * Nothing is pinned: every kernel object hangs on an fd of this process and goes when close() (or exit) closes it.
 */

const INFLIGHT_ENTRIES = 16384;
const MAX_INLINE_EXCLUDES = 8;
const MAX_INLINE_IDS = 16;
const MAX_TRACEPOINT_EVENTS = 8;
const TRACKED_ENTRIES = 16384;
const DEFAULT_BUFFER_KB = 8192; // per CPU; one ring for all CPUs: 16 MB on 2 CPUs, ~100k records, 60 ms of a 1.6M/s storm (kernel memory: a read maps a window of it, ringbuf.ts)
/** Records a drain reads between two looks at how full the ring is. */
const SPILL_CHECK_EVERY = 256;
const MAX_RINGBUF = 256 << 20;

export function ebpfSupport(): { ok: true } | { ok: false; reason: string } {
  try {
    accessSync(VMLINUX_BTF, constants.R_OK);
  } catch {
    return { ok: false, reason: `kernel BTF is not readable at ${VMLINUX_BTF} (needs CONFIG_DEBUG_INFO_BTF)` };
  }
  try {
    // Loading a tracing program is the real test: it needs CAP_BPF + CAP_PERFMON, where creating a map may not.
    new Program({ name: 'wp_support', type: ProgramType.rawTracepoint, instructions: [mov64Imm(R0, 0), exit()] }).close();
  } catch (e) {
    const why = e instanceof SyscallError && e.errno === 1 ? 'not permitted (run as root, or with CAP_BPF and CAP_PERFMON)' : (e as Error).message;
    return { ok: false, reason: `loading a BPF program failed: ${why}` };
  }
  return { ok: true };
}

export function openEbpfProbe(options: ProbeOptions): Probe {
  return new EbpfProbe(options);
}

let cachedBtf: Btf | undefined;
const cachedTypeIds = new Map<string, number>();

/** A BTF type id, remembered: the parsed BTF itself (~15 MB while it lives, the file read whole) is dropped once a probe is set up. */
function btfTypeId(name: string, kind: (typeof BtfKind)[keyof typeof BtfKind]): number {
  const key = `${kind}:${name}`;
  let id = cachedTypeIds.get(key);
  if (id === undefined) cachedTypeIds.set(key, (id = cachedTypeId(key, () => currentBtf().typeId(name, kind))));
  return id;
}

/** Frees the parsed BTF: everything the programs need from it is in the layout and the type ids kept above. */
function releaseBtf(): void {
  cachedBtf = undefined;
}
let cachedLayout: KernelLayout | undefined;

/** Kernel BTF, parsed once per process (35–45 ms on this VM, cold). */
function currentBtf(): Btf {
  cachedBtf ??= Btf.load();
  return cachedBtf;
}

/** Struct offsets from kernel BTF (kept on disk per kernel build: see layout-cache). */
export function currentKernelLayout(): KernelLayout {
  cachedLayout ??= diskCachedLayout(() => kernelLayout(currentBtf()));
  return cachedLayout;
}

/** Offsets the kill rules' exemptions read, from BTF (cached per kernel like type ids). */
function enforceLayout(): EnforceLayout {
  const off = (struct: string, member: string): number => cachedTypeId(`offset:${struct}.${member}`, () => currentBtf().offsetOf(struct, member));
  return {
    taskFlags: off('task_struct', 'flags'),
    taskMm: off('task_struct', 'mm'),
    mmExeFile: off('mm_struct', 'exe_file'),
    fileInode: off('file', 'f_inode'),
    inodeIno: off('inode', 'i_ino'),
    inodeSb: off('inode', 'i_sb'),
    sbDev: off('super_block', 's_dev'),
  };
}

export class EbpfProbe implements Probe {
  readonly backend = 'ebpf' as const;
  hook: HookKind;
  /** Why tp_btf was refused, when the probe fell back to raw_tp. */
  hookFallback: string | undefined;
  private readonly maps: BpfMap[] = [];
  private readonly programs: Program[] = [];
  private readonly links: Link[] = [];
  private readonly ring: RingBuffer;
  private readonly losses_: BpfMap;
  private readonly eventLosses: BpfMap;
  private readonly events: readonly EventDefinition[];
  private readonly compat: boolean;
  private readonly decoder: RecordDecoder;
  private closed = false;
  private lifecycle = false;
  private tracked: BpfMap | undefined;
  private inflight: BpfMap | undefined;
  private excludedInline: number[] = [];
  private scope: ScopeCheck[] = [];
  private argFilters: ArgFilter[] = [];
  /** Calls the kernelScope and argument filters dropped, by id (as eventLosses); absent without such filters. */
  private filteredCounts: BpfMap | undefined;
  /** String slots per entry and record: 0 unless a selected event has string args (see record.ts). */
  readonly stringSlots: number;
  private readonly backlogPool: BlockPool;
  private readonly spilled: SpilledRecords;

  /** `hook` forces a hook kind (tests); by default compat picks tp_btf, falling back to raw_tp if the kernel refuses it. */
  constructor(options: ProbeOptions, hook?: HookKind) {
    if (options.events.length === 0) throw new EnvironmentError('eBPF probe: no events selected');
    // Per-syscall tracepoints cost least per unwatched syscall, but each one takes ~150 ms to detach (two perf events,
    // each waiting for an RCU grace period): past a few events the raw hooks (64-bit ids only) are the better deal.
    const fewEvents = options.events.length <= MAX_TRACEPOINT_EVENTS;
    this.hook = hook ?? (options.compat || !fewEvents ? 'btf' : 'tracepoint');
    this.decoder = new RecordDecoder(options.events);
    this.events = options.events;
    this.compat = options.compat;
    this.stringSlots = stringSlots(options.events);
    this.backlogPool = new BlockPool(options.backlogBytes);
    this.spilled = new SpilledRecords(this.backlogPool);
    try {
      const layout = currentKernelLayout();
      const cpus = cpuCount();
      const ringSize = ringbufSize((options.bufferKb ?? DEFAULT_BUFFER_KB) * 1024 * cpus);
      this.ring = new RingBuffer('wp_events', ringSize);
      this.losses_ = this.map({ name: 'wp_losses', type: MapType.percpuArray, keySize: 4, valueSize: 8, maxEntries: LOSS_SLOTS });
      this.eventLosses = this.map({ name: 'wp_event_losses', type: MapType.percpuArray, keySize: 4, valueSize: 8, maxEntries: EVENT_LOSS_SLOTS });
      const fds: MapFds = { ...this.inflightStore(this.hook !== 'raw'), ringbuf: this.ring.fd, losses: this.losses_.fd, eventLosses: this.eventLosses.fd };
      const excludes = [...new Set(options.excludePids)];
      if (excludes.length <= MAX_INLINE_EXCLUDES) this.excludedInline = excludes;
      else {
        const excluded = this.map({ name: 'wp_excluded', type: MapType.hash, keySize: 4, valueSize: 4, maxEntries: excludes.length });
        for (const pid of excludes) excluded.update(u32Key(pid), u32Key(1));
        fds.excluded = excluded.fd;
      }
      if (options.pids !== undefined) fds.tracked = this.trackPids(options.pids, options.followForks === true, layout);
      this.scope = prepareScope(options.kernelScope, options.events, options.compat, (spec) => this.map(spec));
      this.argFilters = options.events.flatMap((e) => {
        const clauses = options.argFilters?.[e.name];
        return clauses ? [{ nr: e.nr, compatNr: options.compat ? e.compatNr : undefined, clauses }] : [];
      });
      if (this.scope.length > 0 || this.argFilters.length > 0) {
        this.filteredCounts = this.map({ name: 'wp_filtered', type: MapType.percpuArray, keySize: 4, valueSize: 8, maxEntries: EVENT_LOSS_SLOTS });
        fds.filtered = this.filteredCounts.fd;
      }
      if (options.lifecycle) this.attachLifecycle(layout, fds);
      this.attachSyscalls(options, hook, layout, fds);
    } catch (e) {
      this.close();
      throw e;
    } finally {
      releaseBtf();
    }
  }

  /**
   * Where enter leaves the args for exit. Task storage (BPF_MAP_TYPE_TASK_STORAGE) hangs off the task itself: no hashing,
   * no locking, freed with the task; it needs BTF task pointers, so the raw_tp fallback keeps a hash keyed by tid.
   */
  private inflightStore(taskStorage: boolean): Pick<MapFds, 'inflight' | 'inflightKind' | 'entryScratch'> {
    const size = entrySize(this.stringSlots);
    if (taskStorage) {
      try {
        const btf = loadValueBtf(size);
        try {
          const spec = { name: 'wp_inflight', type: MapType.taskStorage, keySize: 4, valueSize: size, maxEntries: 0, flags: BPF_F_NO_PREALLOC, btf };
          this.inflight = this.map(spec);
          return { inflight: this.inflight.fd, inflightKind: 'task' };
        } finally {
          closeFd(btf.fd);
        }
      } catch {
        // Kernels before 5.11 have no task storage: fall through to the hash.
      }
    }
    this.inflight = this.map({ name: 'wp_inflight', type: MapType.hash, keySize: 4, valueSize: size, maxEntries: INFLIGHT_ENTRIES });
    if (size <= Entry.size) return { inflight: this.inflight.fd, inflightKind: 'hash' };
    const scratch = this.map({ name: 'wp_entry_build', type: MapType.percpuArray, keySize: 4, valueSize: size, maxEntries: 1 });
    return { inflight: this.inflight.fd, inflightKind: 'hash', entryScratch: scratch.fd };
  }

  /** The in-kernel set of traced tgids; with followForks kept current by fork/exit hooks (see follow-forks.ts). */
  private trackPids(pids: number[], followForks: boolean, layout: KernelLayout): number {
    const tracked = (this.tracked = this.map({ name: 'wp_tracked', type: MapType.hash, keySize: 4, valueSize: 4, maxEntries: TRACKED_ENTRIES }));
    for (const pid of pids) tracked.update(u32Key(pid), u32Key(1));
    if (followForks) {
      // Attach the fork hook before seeding existing descendants so no fork falls in between.
      this.attachRaw('wp_fork', forkProgram(layout, tracked.fd), 'sched_process_fork');
      if (layout.exitHasGroupDead) this.attachRaw('wp_pexit', processExitProgram(layout, tracked.fd), 'sched_process_exit');
      for (const pid of descendantsOf(pids)) tracked.update(u32Key(pid), u32Key(1));
    }
    return tracked.fd;
  }

  private attachLifecycle(layout: KernelLayout, fds: MapFds): void {
    this.lifecycle = true;
    this.attachRaw('wp_task_new', taskNewProgram(layout, fds), 'task_newtask');
    this.attachRaw('wp_task_exec', execProgram(layout, fds), 'sched_process_exec');
    this.attachRaw('wp_task_exit', taskExitProgram(layout, fds), 'sched_process_exit');
  }

  private attachSyscalls(options: ProbeOptions, forced: HookKind | undefined, layout: KernelLayout, fds: MapFds): void {
    const nativeIds = options.events.map((e) => e.nr);
    const compatIds = options.compat ? options.events.flatMap((e) => (e.compatNr === undefined ? [] : [e.compatNr])) : [];
    const allIds = [...nativeIds, ...compatIds];
    // Events whose entry asks for a struct read at entry (perf_event_open's attr): enter reads it (branching on the id), every record carries the slot.
    const entryReads: EntryStructRead[] = options.events.flatMap((e) => (e.entryRead ? [entryStructRead(e, e.entryRead, options.compat)] : []));
    const exitRead = entryReads.length > 0;
    // Events with string args: enter reads them (branching on the id), every record carries the slots.
    const strings: StringRead[] = options.events.flatMap((e) => {
      const args = stringArgs(e);
      return args.length === 0 ? [] : [{ nr: e.nr, compatNr: options.compat ? e.compatNr : undefined, args }];
    });
    const slots = this.stringSlots;
    const enforce = options.enforce && options.enforce.rules.length > 0 ? { rules: options.enforce, layout: enforceLayout() } : undefined;
    if (this.hook !== 'tracepoint' && new Set(allIds).size > MAX_INLINE_IDS && allIds.every((id) => id < ID_MAP_SIZE)) {
      // Hundreds of compares would cost every syscall more than one inlined array lookup.
      const ids = this.map({ name: 'wp_ids', type: MapType.array, keySize: 4, valueSize: 4, maxEntries: ID_MAP_SIZE });
      const bits = new Map<number, number>();
      for (const id of nativeIds) bits.set(id, (bits.get(id) ?? 0) | ID_NATIVE);
      for (const id of compatIds) bits.set(id, (bits.get(id) ?? 0) | ID_COMPAT);
      for (const [id, b] of bits) ids.update(u32Key(id), u32Key(b));
      fds.ids = ids.fd;
    }
    if (this.hook === 'btf') {
      const mark = { links: this.links.length, programs: this.programs.length };
      try {
        this.attachBtf('wp_sys_enter', enterProgram({ hook: 'btf', nativeIds, compatIds, layout, maps: fds, excludedInline: this.excludedInline, scope: this.scope, argFilters: this.argFilters, entryReads, enforce, strings }), 'sys_enter');
        this.attachBtf('wp_sys_exit', exitProgram({ hook: 'btf', ids: allIds, layout, maps: fds, entryRead: exitRead, enforce: !!enforce, stringSlots: slots }), 'sys_exit');
      } catch (e) {
        if (forced === 'btf') throw e;
        // Some kernels refuse tp_btf: the same programs on raw_tp, reading pt_regs with bpf_probe_read_kernel.
        for (const l of this.links.splice(mark.links)) l.close();
        for (const p of this.programs.splice(mark.programs)) p.close();
        this.hookFallback = (e as Error).message.split('\n')[0];
        this.hook = 'raw';
        Object.assign(fds, this.inflightStore(false));
      }
    }
    if (this.hook === 'raw') {
      this.attachRaw('wp_sys_enter', enterProgram({ hook: 'raw', nativeIds, compatIds, layout, maps: fds, excludedInline: this.excludedInline, scope: this.scope, argFilters: this.argFilters, entryReads, enforce, strings }), 'sys_enter');
      this.attachRaw('wp_sys_exit', exitProgram({ hook: 'raw', ids: allIds, layout, maps: fds, entryRead: exitRead, enforce: !!enforce, stringSlots: slots }), 'sys_exit');
    } else if (this.hook === 'tracepoint') {
      // One enter program per argument count: the kernel refuses one that reads past a tracepoint's record.
      const enterByArgs = new Map<number, Program>();
      const exitProg = this.load('wp_sys_exit', ProgramType.tracepoint, exitProgram({ hook: 'tracepoint', ids: nativeIds, layout, maps: fds, entryRead: exitRead, enforce: !!enforce, stringSlots: slots }));
      // With kill rules, one program per syscall: each checks its own rules only.
      const keyOf = (e: EventDefinition): number => (enforce ? -1 - e.nr : e.args.length);
      for (const e of options.events) {
        checkTracepointLayout(e);
        const n = e.args.length;
        const key = keyOf(e);
        let enterProg = enterByArgs.get(key);
        if (!enterProg) {
          const own = enforce && { ...enforce, onlyNr: e.nr };
          // Only the argument filters of the syscalls this program serves: the verifier refuses reads past a record.
          const sharing = new Set(options.events.filter((x) => keyOf(x) === key).map((x) => x.nr));
          const argFilters = this.argFilters.filter((f) => sharing.has(f.nr));
          const code = enterProgram({ hook: 'tracepoint', nativeIds, compatIds: [], layout, maps: fds, argCount: n, excludedInline: this.excludedInline, scope: this.scope, argFilters, entryReads, enforce: own || undefined, strings });
          enterProg = this.load(`wp_sys_enter${n}`, ProgramType.tracepoint, code);
          enterByArgs.set(key, enterProg);
        }
        const tp = e.tracepoint ?? e.name;
        this.links.push(attachTracepoint(enterProg.fd, 'syscalls', `sys_enter_${tp}`));
        this.links.push(attachTracepoint(exitProg.fd, 'syscalls', `sys_exit_${tp}`));
      }
    }
  }

  private map(spec: ConstructorParameters<typeof BpfMap>[0]): BpfMap {
    const m = new BpfMap(spec);
    this.maps.push(m);
    return m;
  }

  private load(name: string, type: number, instructions: ReturnType<typeof enterProgram>, extra: Partial<ProgramSpec> = {}): Program {
    const p = new Program({ name, type, instructions, ...extra });
    this.programs.push(p);
    return p;
  }

  private attachBtf(name: string, instructions: ReturnType<typeof enterProgram>, tracepoint: string): void {
    const p = this.load(name, ProgramType.tracing, instructions, {
      expectedAttachType: BPF_TRACE_RAW_TP,
      attachBtfId: btfTypeId(`btf_trace_${tracepoint}`, BtfKind.typedef),
    });
    this.links.push(attachTracing(p.fd, `tp_btf/${tracepoint}`));
  }

  private attachRaw(name: string, instructions: ReturnType<typeof enterProgram>, tracepoint: string): void {
    const p = this.load(name, ProgramType.rawTracepoint, instructions);
    this.links.push(attachRawTracepoint(p.fd, tracepoint));
  }

  /** The tgids the kernel filter traces now (pids and, with followForks, their descendants). */
  trackedPids(): number[] {
    if (!this.tracked || this.closed) return [];
    return this.tracked.keys().map((k) => new DataView(k.buffer, k.byteOffset, 4).getUint32(0, true)).sort((a, b) => a - b);
  }

  /** The kernelScope kinds the enter program checks, in order, and how (empty kinds are left out). */
  scopeChecks(): Array<{ kind: string; values: 'inline' | 'hash' }> {
    return this.scope.map((c) => ({ kind: c.kind, values: 'fd' in c.where ? 'hash' : 'inline' }));
  }

  /** Kernel ids and names of the programs this probe loaded (for checks that nothing stays behind). */
  loadedPrograms(): ProgramInfo[] {
    return this.programs.map((p) => programInfo(p.fd));
  }

  /**
   * Reads in parts of SPILL_CHECK_EVERY records, with a spill between them while recording: a read of cold code at a
   * burst's start took 30-47 ms for 1024 records (measured), time enough for a full-speed storm to fill the ring.
   */
  drain(emit: (s: CompletedSyscall) => void, onTask?: (t: TaskEvent) => void, budget = Infinity): number {
    if (this.closed) return 0;
    let total = 0;
    for (;;) {
      const part = Math.min(budget - total, SPILL_CHECK_EVERY);
      const n = drainRecords(this.spilled.empty ? this.ring : this.inOrder, this.decoder, emit, onTask, this.lifecycle, part);
      total += n;
      if (n < part || total >= budget) return total;
      if (this.links.length > 0) this.spill();
    }
  }

  /** The backlog's records first, then the ring's (newer). */
  private readonly inOrder: RecordSource = {
    consume: (handle, maxRecords = Infinity) => {
      const n = this.spilled.consume(handle, maxRecords);
      return n < maxRecords && this.spilled.empty ? n + this.ring.consume(handle, maxRecords - n) : n;
    },
  };

  /**
   * Moves the ring's committed records into the backlog, leaving the whole ring free for the next gap between reads.
   * Not while the ring is less than a sixteenth full: a reader a batch behind at a steady rate would take backlog
   * memory for what the ring (kernel memory) holds anyway.
   */
  spill(): number {
    if (this.closed || this.ring.pending() < this.ring.size / 16) return 0;
    return this.spilled.takeFrom(this.ring);
  }

  backlog(): BacklogStats {
    return this.backlogPool.stats();
  }

  /** The ring buffer's records, undecoded: what the benchmark captures (bench/capture.ts). */
  get records(): RecordSource {
    return this.ring;
  }

  stopRecording(): void {
    for (const l of this.links.splice(0)) l.close();
  }

  /** Detaches first, so nothing is lost between the last read and close; counts the syscalls still in progress. */
  finish(emit: (s: CompletedSyscall) => void, onTask?: (t: TaskEvent) => void): void {
    if (this.closed) return;
    this.stopRecording();
    this.drain(emit, onTask);
    for (const v of this.inflightEntries()) {
      const d: DataView = new DataView(v.buffer, v.byteOffset, v.byteLength);
      if (d.getUint32(Entry.armed, true) === 0) continue;
      const name: string | undefined = this.decoder.eventOf(d.getUint32(Entry.id, true), (d.getUint32(Entry.flags, true) & FLAG_COMPAT) !== 0)?.name;
      this.inProgress.add('in-progress-at-stop', name);
    }
    this.close();
  }

  private readonly inProgress = new LossTally();

  /** Where in-flight entries live (task storage, or the hash of the raw_tp fallback). */
  get inflightKind(): 'task' | 'hash' {
    return this.inflight?.spec.type === MapType.taskStorage ? 'task' : 'hash';
  }

  /** In-flight entries as user space can reach them: hash keys, or task storage through a pidfd per live thread. */
  private inflightEntries(): Uint8Array[] {
    const map = this.inflight;
    if (!map) return [];
    if (map.spec.type === MapType.hash) return map.keys().flatMap((k) => map.lookup(k) ?? []);
    const out: Uint8Array[] = [];
    for (const tid of liveThreads()) {
      const fd = pidfdOpen(tid, PIDFD_THREAD);
      if (fd < 0) continue;
      try {
        const v = map.lookup(u32Key(fd));
        if (v) out.push(v);
      } finally {
        closeFd(fd);
      }
    }
    return out;
  }

  losses(): LossCounters {
    const losses = this.inProgress.entries();
    if (!this.closed) {
      const last = this.lastLosses;
      this.lastLosses = { ringbuf: sumOverCpus(this.losses_, LossSlot.ringbufFull), inflight: sumOverCpus(this.losses_, LossSlot.inflightFull), task: sumOverCpus(this.losses_, LossSlot.taskRingbufFull) };
      // The per-event counters move only with these totals: read them (one lookup per selected id) only then.
      if (this.lastLosses.ringbuf !== last.ringbuf || this.lastLosses.inflight !== last.inflight) this.lastByEvent = this.countsByEvent(this.eventLosses);
      if (this.filteredCounts) this.lastFiltered = this.countsByEvent(this.filteredCounts);
    }
    if (this.lastLosses.ringbuf) losses.push({ kind: 'ringbuf-full', count: this.lastLosses.ringbuf });
    if (this.lastLosses.inflight) losses.push({ kind: 'inflight-full', count: this.lastLosses.inflight });
    if (this.lastLosses.task) losses.push({ kind: 'task-ringbuf-full', count: this.lastLosses.task });
    if (this.decoder.unknown) losses.push({ kind: 'unknown-record', count: this.decoder.unknown });
    return { losses, byEvent: { ...this.lastByEvent }, ...(this.filteredCounts ? { filteredByEvent: { ...this.lastFiltered } } : {}) };
  }

  private lastLosses = { ringbuf: 0, inflight: 0, task: 0 };
  private lastByEvent: Record<string, number> = {};
  private lastFiltered: Record<string, number> = {};

  /** A per-CPU array of counts by eventLossKey (lost syscalls, filtered ones), summed by event name, native and compat calls together. */
  private countsByEvent(map: BpfMap): Record<string, number> {
    const byEvent: Record<string, number> = {};
    const add = (e: EventDefinition, id: number, compat: boolean): void => {
      if (id >= ID_MAP_SIZE) return;
      const n = sumOverCpus(map, eventLossKey(id, compat));
      if (n > 0) byEvent[e.name] = (byEvent[e.name] ?? 0) + n;
    };
    for (const e of this.events) {
      add(e, e.nr, false);
      if (this.compat && e.compatNr !== undefined) add(e, e.compatNr, true);
    }
    return byEvent;
  }

  close(): void {
    if (this.closed) return;
    // Read the counters one last time so losses() still answers after close.
    try {
      if (this.losses_) this.losses();
    } catch {
      /* teardown must not throw */
    }
    this.closed = true;
    for (const l of this.links.splice(0)) l.close();
    for (const p of this.programs.splice(0)) p.close();
    this.ring?.close();
    for (const m of this.maps.splice(0)) m.close();
  }
}

/** A per-CPU counter summed over CPUs. */
function sumOverCpus(map: BpfMap, slot: number): number {
  const v = map.lookup(u32Key(slot));
  if (!v) return 0;
  const d = new DataView(v.buffer, v.byteOffset, v.byteLength);
  let n = 0;
  for (let i = 0; i + 8 <= v.byteLength; i += 8) n += Number(d.getBigUint64(i, true));
  return n;
}

function ringbufSize(bytes: number): number {
  let size = 4096;
  while (size < bytes && size < MAX_RINGBUF) size *= 2;
  return size;
}

/** The programs read args and ret at fixed offsets; make sure this kernel's syscall tracepoints agree. */
function checkTracepointLayout(e: EventDefinition): void {
  const format = (name: string): EventFormat => {
    try {
      return readFormat(`${TRACEFS}/events/syscalls/${name}`);
    } catch {
      throw new EnvironmentError(
        `eBPF probe: no tracepoint syscalls/${name} (is tracefs mounted at ${TRACEFS}, and does this kernel have ${e.name}?)`,
      );
    }
  };
  const tp = e.tracepoint ?? e.name;
  const enter = format(`sys_enter_${tp}`);
  const nr = enter.fields.find((f) => f.name === '__syscall_nr')?.offset;
  const args = enter.argFields.map((f) => f.offset);
  if (nr !== TracepointRecord.nr || e.args.some((_, i) => args[i] !== TracepointRecord.args + 8 * i)) {
    throw new EnvironmentError(`eBPF probe: unexpected layout of syscalls/sys_enter_${tp} (arg offsets ${args.join(',')})`);
  }
  const ret = format(`sys_exit_${tp}`).fields.find((f) => f.name === 'ret')?.offset;
  if (ret !== TracepointRecord.ret) throw new EnvironmentError(`eBPF probe: unexpected layout of syscalls/sys_exit_${tp}`);
}

function liveThreads(): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      for (const tid of readdirSync(`/proc/${pid}/task`)) out.push(Number(tid));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Existing descendants (processes) of these pids, from /proc: followForks covers children forked before start too. */
function descendantsOf(roots: number[]): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'latin1');
    } catch {
      continue;
    }
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = children.get(ppid);
    if (list) list.push(Number(name));
    else children.set(ppid, [Number(name)]);
  }
  const out: number[] = [];
  const queue = [...roots];
  while (queue.length > 0) {
    for (const c of children.get(queue.pop() as number) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

/** An event's entry read as the enter program takes it: the pointer arg's position, the size checked against the record's slot. */
function entryStructRead(e: EventDefinition, read: EntryRead, compat: boolean): EntryStructRead {
  const arg = findArg(e.args, read.arg);
  if (arg < 0 || read.bytes > ENTRY_READ_MAX) throw new Error(`catalog: ${e.name} asks to read ${read.bytes} bytes behind arg ${read.arg} at entry; it needs an arg of that name and at most ${ENTRY_READ_MAX} bytes`);
  return { nr: e.nr, compatNr: compat ? e.compatNr : undefined, arg, bytes: read.bytes };
}
