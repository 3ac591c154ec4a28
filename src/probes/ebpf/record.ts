import { type EventDefinition, isStringArg } from '../../catalog/types.js';
import { argReader, type ArgReader } from '../arg-readers.js';
import type { ArgValue } from '../../model/event.js';
import type { CompletedSyscall, KernelContext, TaskEvent } from '../types.js';
import { cString } from '../c-string.js';

/**
 * The record the exit program writes to the ring buffer, one per completed syscall,
 * and the in-flight entry the enter program saves per thread. Offsets are shared by the
 * program generator and the decoder: change them here only.
 */

export const Entry = {
  enterNs: 0, // u64 bpf_ktime_get_ns() at entry
  id: 8, // u32 syscall id as the kernel saw it (compat numbers for int $0x80 calls)
  flags: 12, // u32 FLAG_COMPAT
  args: 16, // u64[6]
  armed: 64, // u32: 1 from entry until exit (task storage is never deleted, only disarmed)
  entryRead: 72, // u8[16] (ENTRY_READ_MAX): the struct the event's catalog entry names (entryRead), valid with FLAG_ENTRY_READ
  size: 88, // without string slots
  strings: 88, // StrSlot[stringSlots], only when a selected event has string args
} as const;

/** What a ring-buffer record is: its first u32. */
export const RecordKind = { syscall: 0, fork: 1, exec: 2, exit: 3 } as const;

export const Rec = {
  kind: 0, // u32 RecordKind.syscall
  flags: 4, // u32 FLAG_COMPAT
  enterNs: 8, // u64
  startTime: 16, // u64 task->start_time
  cgroupId: 24, // u64
  args: 32, // u64[6]
  ret: 80, // s64
  tgid: 88, // u32 (all u32 below)
  tid: 92,
  ppid: 96,
  uid: 100,
  gid: 104,
  mntns: 108,
  pidns: 112,
  nsTid: 116,
  nsPid: 120,
  nsPpid: 124,
  cpu: 128,
  id: 132,
  comm: 136, // char[16]
  size: 152,
  entryRead: 152, // Entry.entryRead copied, valid with FLAG_ENTRY_READ (only when a selected event has an entryRead)
  entryReadSize: 168, // the record's size when a selected event has an entryRead
  strings: 168, // StrSlot[stringSlots] copied from the entry, only when a selected event has string args
} as const;

/**
 * String args (Tracee's `string`: openat's pathname, execve's filename), read from user memory at syscall entry with
 * bpf_probe_read_user_str into fixed slots: the j-th string arg of the call in slot j. A fixed slot keeps the ring-buffer
 * reservation a constant (the verifier wants one) and the copy to the record one helper call; the price is
 * StrSlot.size bytes per slot in every record of a run that selects such an event.
 */
export const STRING_MAX = 256;
export const StrSlot = {
  result: 0, // s32: what bpf_probe_read_user_str returned: bytes copied with the NUL, or -errno (unreadable)
  truncated: 4, // u32: 1 when the string goes on past STRING_MAX - 1 bytes
  text: 8, // char[STRING_MAX], NUL-terminated
  size: 8 + STRING_MAX,
} as const;

/** Positions of an event's string args, in slot order. */
export function stringArgs(event: EventDefinition): number[] {
  return event.args.flatMap((a, i) => (isStringArg(a) ? [i] : []));
}

/** Slots the entry and the record carry: as many as the selected event with the most string args has. */
export function stringSlots(events: readonly EventDefinition[]): number {
  return Math.max(0, ...events.map((e) => stringArgs(e).length));
}

export const entrySize = (slots: number): number => Entry.strings + slots * StrSlot.size;
export const recordSize = (slots: number, entryRead: boolean): number => (slots > 0 ? Rec.strings + slots * StrSlot.size : entryRead ? Rec.entryReadSize : Rec.size);

/** Task lifecycle records (fork, exec, exit) for the process tree; rare next to syscalls. */
export const TaskRec = {
  kind: 0, // u32 RecordKind.fork | exec | exit
  groupDead: 4, // u32 (exit)
  monoNs: 8, // u64
  tid: 16, // u32: the new task (fork), the task (exec, exit)
  other: 20, // u32: the forking thread (fork), the tid before exec (exec)
  cloneFlags: 24, // u64 (fork)
  comm: 32, // char[16] (fork)
  filename: 48, // char[FILENAME_MAX] (exec)
  forkSize: 48,
  execSize: 48 + 256,
  exitSize: 24,
} as const;
export const FILENAME_MAX = 256;

export const FLAG_COMPAT = 1;
/** The entry's struct was read at entry (absent: the read failed, e.g. a NULL or unmapped pointer). */
export const FLAG_ENTRY_READ = 2;
/** A kill rule matched and SIGKILL was sent (absent with a match: a dry run). */
export const FLAG_KILLED = 0x10;
/** Bits 8-15: index + 1 of the kill rule that matched at entry (0: none). */
export const KILL_RULE_SHIFT = 8;
export const KILL_RULE_MASK = 0xff00;

/** Turns ring-buffer records back into CompletedSyscall objects, using the catalog for ids and arg types. */
export class RecordDecoder {
  private readonly native = new Map<number, EventDefinition>();
  private readonly compat = new Map<number, EventDefinition>();
  /** Records whose id matched no selected event (should not happen; counted, not thrown). */
  unknown = 0;
  constructor(events: readonly EventDefinition[]) {
    for (const e of events) {
      this.native.set(e.nr, e);
      if (e.compatNr !== undefined) this.compat.set(e.compatNr, e);
    }
  }

  private readonly stringArgs = new Map<EventDefinition, number[]>();
  private readonly nativeReaders = new Map<EventDefinition, ArgReader[]>();
  private readonly compatReaders = new Map<EventDefinition, ArgReader[]>();

  /** Per event, one reader per argument: what the kernel used (see arg-readers). */
  private readersOf(event: EventDefinition, compat: boolean): ArgReader[] {
    const cache = compat ? this.compatReaders : this.nativeReaders;
    let readers = cache.get(event);
    if (!readers) cache.set(event, (readers = event.args.map((a) => argReader(a, compat))));
    return readers;
  }

  eventOf(id: number, compat: boolean): EventDefinition | undefined {
    return compat ? this.compat.get(id) : this.native.get(id);
  }

  /** The context last decoded per thread: a thread's records mostly repeat it, so it is shared (frozen), not made again. */
  private readonly contexts = new Map<number, KernelContext>();

  private contextOf(d: DataView, o: number, tid: number): KernelContext {
    const pid = d.getUint32(o + Rec.tgid, true);
    const ppid = d.getUint32(o + Rec.ppid, true);
    const uid = d.getUint32(o + Rec.uid, true);
    const gid = d.getUint32(o + Rec.gid, true);
    const comm = cString(bytesOf(d), o + Rec.comm, 16);
    const cgroupId = u64(d, o + Rec.cgroupId);
    const mntns = d.getUint32(o + Rec.mntns, true);
    const pidns = d.getUint32(o + Rec.pidns, true);
    const nsPid = d.getUint32(o + Rec.nsPid, true);
    const nsTid = d.getUint32(o + Rec.nsTid, true);
    const nsPpid = d.getUint32(o + Rec.nsPpid, true);
    const startTime = u64(d, o + Rec.startTime);
    const c = this.contexts.get(tid);
    if (
      c !== undefined && c.pid === pid && c.ppid === ppid && c.uid === uid && c.gid === gid && c.comm === comm && c.cgroupId === cgroupId &&
      c.mntns === mntns && c.pidns === pidns && c.nsPid === nsPid && c.nsTid === nsTid && c.nsPpid === nsPpid && c.startTime === startTime
    ) {
      return c;
    }
    const made = Object.freeze({ pid, ppid, uid, gid, comm, cgroupId, mntns, pidns, nsPid, nsTid, nsPpid, startTime });
    if (this.contexts.size >= 4096) this.contexts.clear();
    this.contexts.set(tid, made);
    return made;
  }

  /** Hot path: reads fields straight from the ring buffer view; allocates only the result object and its args (the thread's context is reused). */
  decode(d: DataView, o: number): CompletedSyscall | undefined {
    const id = d.getUint32(o + Rec.id, true);
    const flags = d.getUint32(o + Rec.flags, true);
    const isCompat = (flags & FLAG_COMPAT) !== 0;
    const event = isCompat ? this.compat.get(id) : this.native.get(id);
    if (event === undefined) {
      this.unknown++;
      return undefined;
    }
    const readers = this.readersOf(event, isCompat);
    const args: ArgValue[] = new Array(readers.length);
    for (let i = 0; i < readers.length; i++) args[i] = readers[i](d, o + Rec.args + 8 * i);
    const tid = d.getUint32(o + Rec.tid, true);
    const s: CompletedSyscall = {
      event,
      monoNs: u64(d, o + Rec.enterNs),
      cpu: d.getUint32(o + Rec.cpu, true),
      tid,
      compat: isCompat,
      args,
      ret: d.getInt32(o + Rec.ret + 4, true) * 4294967296 + d.getUint32(o + Rec.ret, true),
      context: this.contextOf(d, o, tid),
    };
    let strings = this.stringArgs.get(event);
    if (strings === undefined) this.stringArgs.set(event, (strings = stringArgs(event)));
    if (strings.length > 0) s.strings = readStrings(d, o, strings, args);
    const read = event.entryRead;
    if (read !== undefined) s.entryStruct = flags & FLAG_ENTRY_READ ? new Uint8Array(d.buffer, d.byteOffset + o + Rec.entryRead, read.bytes).slice() : null;
    if (flags & KILL_RULE_MASK) s.enforcement = { rule: ((flags & KILL_RULE_MASK) >> KILL_RULE_SHIFT) - 1, killed: (flags & FLAG_KILLED) !== 0 };
    return s;
  }
}

/** The text of each string arg into `args` (null where the read failed), and which ones were read, cut or unreadable. */
function readStrings(d: DataView, o: number, strings: readonly number[], args: ArgValue[]): NonNullable<CompletedSyscall['strings']> {
  let read = 0;
  let truncated = 0;
  let unread = 0;
  for (let j = 0; j < strings.length; j++) {
    const at = o + Rec.strings + j * StrSlot.size;
    const i = strings[j];
    const result = d.getInt32(at + StrSlot.result, true);
    read |= 1 << i;
    if (result <= 0 || result > STRING_MAX) {
      args[i] = null;
      unread |= 1 << i;
      continue;
    }
    args[i] = cString(bytesOf(d), at + StrSlot.text, result - 1);
    if (d.getUint32(at + StrSlot.truncated, true) !== 0) truncated |= 1 << i;
  }
  return { read, truncated, unread };
}

/** A fork, exec or exit record as the process tree wants it. */
export function decodeTask(d: DataView, o: number): TaskEvent | undefined {
  const monoNs = u64(d, o + TaskRec.monoNs);
  const tid = d.getUint32(o + TaskRec.tid, true);
  switch (d.getUint32(o + TaskRec.kind, true)) {
    case RecordKind.fork:
      return {
        kind: 'fork',
        monoNs,
        parentTid: d.getUint32(o + TaskRec.other, true),
        childTid: tid,
        cloneFlags: d.getUint32(o + TaskRec.cloneFlags, true),
        comm: cString(bytesOf(d), o + TaskRec.comm, 16),
      };
    case RecordKind.exec:
      return { kind: 'exec', monoNs, tid, oldTid: d.getUint32(o + TaskRec.other, true), filename: cString(bytesOf(d), o + TaskRec.filename, FILENAME_MAX) };
    case RecordKind.exit:
      return { kind: 'exit', monoNs, tid, groupDead: d.getUint32(o + TaskRec.groupDead, true) !== 0 };
    default:
      return undefined;
  }
}

/** An unsigned 64-bit field as a number (exact below 2^53: ~104 days of nanoseconds). */
function u64(d: DataView, at: number): number {
  return d.getUint32(at + 4, true) * 4294967296 + d.getUint32(at, true);
}

let lastView: DataView | undefined;
let lastBytes: Uint8Array = new Uint8Array(0);

/** The bytes under a view, made once per view (the ring buffer keeps one): cString reads them. */
function bytesOf(d: DataView): Uint8Array {
  if (d !== lastView) {
    lastView = d;
    lastBytes = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  }
  return lastBytes;
}
