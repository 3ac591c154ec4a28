/**
 * Why something was lost: a closed set of kinds, so code compares kinds, never text. The words users read are made
 * from a kind in one place, `lossLabel`.
 */
export type LossKind =
  /** eBPF: the ring buffer was full when a syscall record was written. */
  | 'ringbuf-full'
  /** eBPF: the ring buffer was full when a fork/exec/exit record was written (process tree, not a syscall). */
  | 'task-ringbuf-full'
  /** eBPF: the map holding syscalls between entry and exit was full. */
  | 'inflight-full'
  /** eBPF: a record of a kind this build does not know. */
  | 'unknown-record'
  /** tracefs: records overwritten or dropped in the per-CPU ring buffer. */
  | 'overrun'
  /** tracefs: a raw_syscalls exit whose enter was never seen. */
  | 'exit-without-enter'
  /** tracefs: a compat-numbered call whose ABI could not be told, records having been lost around it. */
  | 'abi-unknown'
  /** tracefs: pending calls dropped because too many threads were inside a syscall at once. */
  | 'too-many-threads'
  /** A syscall entered but not finished when tracing stopped: not a loss of records, and not counted as one. */
  | 'in-progress-at-stop';

/** Every kind, for whoever lists them all (metrics export each one, 0 included). */
export const LOSS_KINDS = Object.keys({
  'ringbuf-full': 0,
  'task-ringbuf-full': 0,
  'inflight-full': 0,
  'unknown-record': 0,
  overrun: 0,
  'exit-without-enter': 0,
  'abi-unknown': 0,
  'too-many-threads': 0,
  'in-progress-at-stop': 0,
} satisfies Record<LossKind, 0>) as readonly LossKind[];

/** A count of one kind, for one event where the kind is per event (`raw`: seen on the raw_syscalls hook). */
export interface LossCount {
  kind: LossKind;
  event?: string;
  raw?: boolean;
  count: number;
}

/** Losses of records (not syscalls in progress at stop). */
export function isRecordLoss(kind: LossKind): boolean {
  return kind !== 'in-progress-at-stop';
}

/** What users read for a loss, e.g. `ebpf ringbuf full` or `ioperm still in progress at stop`. */
export function lossLabel(l: Omit<LossCount, 'count'>): string {
  const ev = l.event ?? 'syscall';
  switch (l.kind) {
    case 'ringbuf-full':
      return 'ebpf ringbuf full';
    case 'task-ringbuf-full':
      return 'ebpf ringbuf full (task records)';
    case 'inflight-full':
      return 'ebpf in-flight map full';
    case 'unknown-record':
      return 'ebpf unknown record';
    case 'overrun':
      return 'tracefs ring buffer overrun';
    case 'exit-without-enter':
      return 'raw syscall exit without its enter';
    case 'abi-unknown':
      return `${ev} (32-bit or 64-bit unknown: records lost)`;
    case 'too-many-threads':
      return `${ev} dropped: too many threads in a syscall`;
    case 'in-progress-at-stop':
      return `${ev}${l.raw ? ' (raw)' : ''} still in progress at stop`;
  }
}

/** Counts by kind (and event): what probes keep and stats report. */
export class LossTally {
  private readonly counts = new Map<string, LossCount>();

  add(kind: LossKind, event?: string, n = 1, raw?: boolean): void {
    if (n === 0) return;
    const key = `${kind}\u0000${event ?? ''}\u0000${raw ? 1 : 0}`;
    const hit = this.counts.get(key);
    if (hit) hit.count += n;
    else this.counts.set(key, { kind, ...(event !== undefined && { event }), ...(raw && { raw }), count: n });
  }

  /** A copy of the counts (safe to keep). */
  entries(): LossCount[] {
    return [...this.counts.values()].map((c) => ({ ...c }));
  }

  /** The sum over the kinds `which` accepts. */
  total(which: (kind: LossKind) => boolean = () => true): number {
    let n = 0;
    for (const c of this.counts.values()) if (which(c.kind)) n += c.count;
    return n;
  }
}
