import type { CompletedSyscall, TaskEvent } from '../types.js';
import { decodeTask, RecordKind, type RecordDecoder } from './record.js';
import type { RecordHandler } from './ringbuf.js';

/** Where records come from: the live ring buffer, or bytes the benchmark captured from one (bench/capture.ts). */
export interface RecordSource {
  /** Hands up to `maxRecords` committed records to `handle` and releases them; returns how many. */
  consume(handle: RecordHandler, maxRecords?: number): number;
}

/**
 * One read of a record source: syscall records decoded and emitted; with task records (fork/exec/exit), the batch
 * is put in time order first (a syscall record is written at exit but stamped at entry). Returns records read.
 */
export function drainRecords(source: RecordSource, decoder: RecordDecoder, emit: (s: CompletedSyscall) => void, onTask: ((t: TaskEvent) => void) | undefined, withTasks: boolean, budget = Infinity): number {
  if (!withTasks) {
    return source.consume((data, offset) => {
      const s = decoder.decode(data, offset);
      if (s !== undefined) emit(s);
    }, budget);
  }
  const batch: Array<CompletedSyscall | TaskEvent> = [];
  let tasks = 0;
  const n = source.consume((data, offset) => {
    if (data.getUint32(offset, true) === RecordKind.syscall) {
      const s = decoder.decode(data, offset);
      if (s !== undefined) batch.push(s);
    } else if (onTask) {
      const t = decodeTask(data, offset);
      if (t !== undefined) {
        batch.push(t);
        tasks++;
      }
    }
  }, budget);
  if (tasks > 0) batch.sort((a, b) => a.monoNs - b.monoNs);
  for (const item of batch) {
    if ('event' in item) emit(item);
    else onTask?.(item);
  }
  return n;
}
