/**
 * Captured probe bytes: what the kernel handed a probe during a real storm, saved with what a decoder needs to read it
 * again (bench/capacity.ts replays it through the live path). The capture reads the probe's raw source beside the
 * probe; the probe's own drain never runs, and production code carries no capture hook.
 *   DIR/meta.json  CaptureMeta
 *   DIR/data.bin   eBPF: records framed as in the BPF ring buffer (u32 length, u32 0, data padded to 8 bytes);
 *                  tracefs: pages, each a 16-byte header (u32 read round, u32 CPU index, u32 bytes read, u32 0) and
 *                  pageSize bytes as trace_pipe_raw returned them.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LossCounters, ProbeOptions } from '../src/probes/types.js';
import type { RecordSource } from '../src/probes/ebpf/drain.js';
import { Rec, RecordKind, TaskRec } from '../src/probes/ebpf/record.js';
import type { RecordHandler } from '../src/probes/ebpf/ringbuf.js';
import type { HandlerSpec, PageSource } from '../src/probes/tracefs/decoder.js';
import { TracefsProbe } from '../src/probes/tracefs/probe.js';
import type { Workload } from './workload.js';

export type Backend = 'ebpf' | 'tracefs';

export interface CaptureMeta {
  format: 1;
  backend: Backend;
  /** The workload's syscall and pid, and how many calls it issued while captured. */
  syscall: string;
  workloadPid: number;
  issued: number;
  /** The probe's events, in its order (the decoder's ids come from them). */
  events: string[];
  compat: boolean;
  lifecycle: boolean;
  /** Timestamps are this boot's CLOCK_MONOTONIC. */
  bootId: string;
  /** eBPF records or tracefs pages saved, and their bytes. */
  units: number;
  bytes: number;
  /** eBPF task records (fork/exec/exit) of other processes left out (see captureStorm). */
  skipped: number;
  /** What the probe counted lost while capturing (0 expected: the kernel buffer holds the whole storm). */
  lost: { events: number; byKind: Record<string, number> };
  ebpf?: { layout: string };
  tracefs?: { handlers: HandlerSpec[]; cpus: number[]; pageSize: number; kernelFiltered: string[] };
}

/** The eBPF record layout a capture was made with: replaying it with another build's decoder would misread it. */
const ebpfLayout = (): string => JSON.stringify({ Rec, TaskRec });

const bootId = (): string => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

/** Appends bytes into large chunks (a storm is tens of MB). */
class Bytes {
  private readonly chunks: Buffer[] = [];
  private chunk = Buffer.alloc(16 << 20);
  private at = 0;

  room(n: number): Buffer {
    if (this.at + n > this.chunk.length) {
      this.chunks.push(this.chunk.subarray(0, this.at));
      this.chunk = Buffer.alloc(Math.max(16 << 20, n));
      this.at = 0;
    }
    const out = this.chunk.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  get length(): number {
    return this.chunks.reduce((n, c) => n + c.length, 0) + this.at;
  }

  toBuffer(): Buffer {
    return Buffer.concat([...this.chunks, this.chunk.subarray(0, this.at)]);
  }
}

const PAGE_HEADER = 16;

/**
 * Opens the backend's probe with `options`, lets the workload (started, waiting for go) run until it reports, and saves
 * what the probe's kernel buffer received into dir. Give `options.pids` the workload's pid: other processes' records
 * would send a replay, long after they exited, to /proc for each of them (a live run finds them alive and cached). The
 * eBPF task programs record every process, so the capture leaves the others' task records out itself. Read every 5 ms like the live poll, so tracefs pages keep the live read rounds.
 */
export async function captureStorm(dir: string, backend: Backend, options: ProbeOptions, w: Pick<Workload, 'pid' | 'go' | 'report'>, syscall: string): Promise<CaptureMeta> {
  const bytes = new Bytes();
  let units = 0;
  let skipped = 0;
  let read: () => number;
  let losses: () => LossCounters;
  let close: () => void;
  let extra: Pick<CaptureMeta, 'ebpf' | 'tracefs'>;
  if (backend === 'ebpf') {
    const { EbpfProbe } = await import('../src/probes/ebpf/probe.js');
    const probe = new EbpfProbe(options);
    const copy: RecordHandler = (data, offset, length) => {
      const kind = data.getUint32(offset, true);
      if (kind !== RecordKind.syscall && data.getUint32(offset + TaskRec.tid, true) !== w.pid && (kind === RecordKind.exit || data.getUint32(offset + TaskRec.other, true) !== w.pid)) {
        skipped++;
        return;
      }
      const out = bytes.room(8 + ((length + 7) & ~7));
      out.writeUInt32LE(length, 0);
      out.set(new Uint8Array(data.buffer, data.byteOffset + offset, length), 8);
      units++;
    };
    read = () => probe.records.consume(copy);
    losses = () => probe.losses();
    close = () => probe.close();
    extra = { ebpf: { layout: ebpfLayout() } };
  } else {
    const probe = new TracefsProbe(options);
    const pages = probe.pages;
    let round = 0;
    const scratch = Buffer.alloc(pages.pageSize);
    read = () => {
      round++;
      let n = 0;
      for (let i = 0; i < pages.cpus.length; i++) {
        for (let got = pages.readPage(i, scratch, 0); got > 0; got = pages.readPage(i, scratch, 0)) {
          const out = bytes.room(PAGE_HEADER + pages.pageSize);
          out.writeUInt32LE(round, 0);
          out.writeUInt32LE(i, 4);
          out.writeUInt32LE(got, 8);
          scratch.copy(out, PAGE_HEADER);
          units++;
          n++;
        }
      }
      return n;
    };
    losses = () => probe.losses();
    close = () => probe.close();
    extra = { tracefs: { handlers: probe.handlers, cpus: [...pages.cpus], pageSize: pages.pageSize, kernelFiltered: Object.keys(options.kernelFilters ?? {}) } };
  }
  try {
    const timer = setInterval(read, 5);
    w.go();
    const report = await w.report(120_000);
    clearInterval(timer);
    while (read() > 0);
    const lost = losses();
    const meta: CaptureMeta = {
      format: 1,
      backend,
      syscall,
      workloadPid: w.pid,
      issued: report.syscalls,
      events: options.events.map((e) => e.name),
      compat: options.compat,
      lifecycle: options.lifecycle === true,
      bootId: bootId(),
      units,
      skipped,
      bytes: bytes.length,
      lost: { events: lost.eventsLost ?? Object.values(lost.byEvent).reduce((a, b) => a + b, 0), byKind: Object.fromEntries(lost.losses.map((l) => [l.kind, l.count])) },
      ...extra,
    };
    writeFileSync(join(dir, 'data.bin'), bytes.toBuffer());
    writeFileSync(join(dir, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
    return meta;
  } finally {
    close();
  }
}

/** Captured eBPF records served as the ring buffer serves them. */
export class CapturedRecords implements RecordSource {
  private at = 0;
  constructor(private readonly data: DataView) {}

  get done(): boolean {
    return this.at >= this.data.byteLength;
  }

  rewind(): void {
    this.at = 0;
  }

  consume(handle: RecordHandler, maxRecords = Infinity): number {
    const d = this.data;
    let n = 0;
    while (this.at < d.byteLength && n < maxRecords) {
      const length = d.getUint32(this.at, true);
      handle(d, this.at + 8, length);
      this.at += 8 + ((length + 7) & ~7);
      n++;
    }
    return n;
  }
}

/**
 * Captured tracefs pages served per CPU in the rounds they were read live: a round's pages first, the next round only
 * once every CPU's pages of this one were taken (a read of CPU 0 then starts it).
 */
export class CapturedPages implements PageSource {
  private readonly pages: Array<{ round: number; at: number; got: number }>[];
  private readonly next: number[];
  private round = 0;

  constructor(private readonly data: Buffer, readonly cpus: readonly number[], readonly pageSize: number) {
    this.pages = cpus.map(() => []);
    for (let at = 0; at + PAGE_HEADER <= data.length; at += PAGE_HEADER + pageSize) {
      this.pages[data.readUInt32LE(at + 4)].push({ round: data.readUInt32LE(at), at: at + PAGE_HEADER, got: data.readUInt32LE(at + 8) });
    }
    this.next = cpus.map(() => 0);
    this.rewind();
  }

  get done(): boolean {
    return this.pages.every((p, i) => this.next[i] >= p.length);
  }

  rewind(): void {
    this.next.fill(0);
    this.round = this.nextRound();
  }

  private nextRound(): number {
    let r = Infinity;
    for (let i = 0; i < this.pages.length; i++) if (this.next[i] < this.pages[i].length) r = Math.min(r, this.pages[i][this.next[i]].round);
    return r;
  }

  readPage(i: number, buf: Buffer, offset: number): number {
    if (i === 0) this.round = this.nextRound();
    const page = this.pages[i][this.next[i]];
    if (!page || page.round !== this.round) return 0;
    this.next[i]++;
    this.data.copy(buf, offset, page.at, page.at + this.pageSize);
    return page.got;
  }
}

export interface Capture {
  meta: CaptureMeta;
  /** A source over the bytes, rewound to the start by rewind(). */
  source: (RecordSource | PageSource) & { readonly done: boolean; rewind(): void };
}

/** Reads a capture back; refuses one an eBPF decoder of this build would misread. */
export function loadCapture(dir: string): Capture {
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as CaptureMeta;
  const data = readFileSync(join(dir, 'data.bin'));
  if (meta.backend === 'ebpf') {
    if (meta.ebpf?.layout !== ebpfLayout()) throw new Error(`${dir}: captured with another eBPF record layout than this build's; capture again`);
    return { meta, source: new CapturedRecords(new DataView(data.buffer, data.byteOffset, data.byteLength)) };
  }
  const t = meta.tracefs!;
  return { meta, source: new CapturedPages(data, t.cpus, t.pageSize) };
}
