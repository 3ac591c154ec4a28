import { createServer, type Server } from 'node:http';
import { UsageError } from '../model/errors.js';
import type { TraceStats } from '../model/event.js';
import { LOSS_KINDS } from '../model/loss.js';
import type { Output } from './output.js';

/** What the endpoint reports: read on every scrape, so it is always current. */
export interface MetricsSource {
  stats(): TraceStats;
  readonly backend: string;
  readonly outputs: readonly Output[];
}

export interface MetricsServer {
  /** `http://HOST:PORT/metrics`, with the port actually bound (useful with port 0). */
  readonly url: string;
  close(): Promise<void>;
}

/** `HOST:PORT`, `[::1]:PORT`, or a bare `PORT` (loopback: exposing metrics beyond the host is a choice to write out). */
export function parseMetricsAddress(addr: string): { host: string; port: number } {
  const m = /^(?:(\[[^\]]+\]|[^:]+):)?(\d+)$/.exec(addr);
  const port = Number(m?.[2]);
  if (!m || port > 65535) throw new UsageError(`--metrics ${addr}: expected HOST:PORT (e.g. 127.0.0.1:9464) or PORT`);
  return { host: (m[1] ?? '127.0.0.1').replace(/^\[|\]$/g, ''), port };
}

const escape = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** Prometheus text exposition format 0.0.4. */
export function renderMetrics(src: MetricsSource): string {
  const s = src.stats();
  const out: string[] = [];
  const family = (name: string, type: 'counter' | 'gauge', help: string, samples: Array<[Record<string, string>, number]>): void => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, v] of samples) {
      const l = Object.entries(labels).map(([k, x]) => `${k}="${escape(x)}"`).join(',');
      out.push(`${name}${l ? `{${l}}` : ''} ${v}`);
    }
  };
  const outputs = src.outputs.map((o) => o.stats());
  family('watchpost_events_total', 'counter', 'Events delivered by the tracer, by event name.', Object.entries(s.delivered).map(([e, n]) => [{ event: e }, n]));
  family('watchpost_events_lost_total', 'counter', 'Events known lost, by event name.', Object.entries(s.lostByEvent).map(([e, n]) => [{ event: e }, n]));
  family('watchpost_lost_total', 'counter', 'Losses by reason (kernel buffer overruns, unpaired records, ...).', Object.entries(s.lostByReason).map(([r, n]) => [{ reason: r }, n]));
  // every kind has a series, 0 until it happens, so rate() and increase() see the first loss
  family('watchpost_lost_by_kind_total', 'counter', 'The losses of watchpost_lost_total by kind, a closed set for alert rules (in-progress-at-stop: calls still running at stop, not lost records).', LOSS_KINDS.map((k) => [{ kind: k }, s.lostByKind[k] ?? 0]));
  family('watchpost_events_filtered_total', 'counter', 'Events dropped on purpose by filters and policies, by event name.', Object.entries(s.filtered).map(([e, n]) => [{ event: e }, n]));
  family('watchpost_events_filtered_in_kernel_total', 'counter', 'The part of watchpost_events_filtered_total the kernel dropped, never sent to user space, by event name.', Object.entries(s.filteredInKernel ?? {}).map(([e, n]) => [{ event: e }, n]));
  family('watchpost_events_lost_all_total', 'counter', 'Events (syscalls) lost in all: delivered + filtered + this accounts for every syscall seen.', [[{}, s.lostEvents]]);
  family('watchpost_enforcements_total', 'counter', 'Calls kill rules matched at syscall entry, by action (killed, would kill) and policy.', Object.entries(s.enforcements ?? {}).flatMap(([action, byPolicy]) => Object.entries(byPolicy).map(([policy, n]): [Record<string, string>, number] => [{ action, policy }, n])));
  family('watchpost_kernel_records_lost_total', 'counter', 'Kernel ring-buffer records lost before they were read.', [[{}, s.lostRecords]]);
  if (s.backlog) {
    family('watchpost_backlog_bytes', 'gauge', 'Kernel records held in user-space memory while a burst outpaces the pipeline.', [[{}, s.backlog.bytes]]);
    family('watchpost_backlog_peak_bytes', 'gauge', 'The most the backlog held at once; past watchpost_backlog_limit_bytes the kernel buffer fills and loses.', [[{}, s.backlog.peakBytes]]);
    family('watchpost_backlog_limit_bytes', 'gauge', 'The backlog limit (--backlog-mb).', [[{}, s.backlog.limitBytes]]);
  }
  family('watchpost_output_queue_depth', 'gauge', 'Events waiting in each output queue.', outputs.map((o) => [{ output: o.name }, o.queued]));
  family('watchpost_output_sent_total', 'counter', 'Events each output delivered.', outputs.map((o) => [{ output: o.name }, o.sent]));
  family('watchpost_output_retried_total', 'counter', 'Events each output sent again after a failed attempt.', outputs.map((o) => [{ output: o.name }, o.retried]));
  family('watchpost_output_dropped_total', 'counter', 'Events each output gave up on (queue full, retries exhausted, flush deadline).', outputs.map((o) => [{ output: o.name }, o.dropped]));
  family('watchpost_backend_info', 'gauge', 'The probe backend in use.', [[{ backend: src.backend }, 1]]);
  family('process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes.', [[{}, process.memoryUsage.rss()]]);
  return `${out.join('\n')}\n`;
}

/** `--metrics ADDR`: GET /metrics (any path answers the same). Resolves once listening; rejects if the address is taken. */
export async function startMetricsServer(addr: string, src: MetricsSource): Promise<MetricsServer> {
  const { host, port } = parseMetricsAddress(addr);
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const body = renderMetrics(src);
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' || err.code === 'EADDRNOTAVAIL' || err.code === 'EACCES' ? new UsageError(`--metrics ${addr}: cannot listen there (${err.code})`) : err),
    );
    server.listen(port, host, resolve);
  });
  server.unref();
  const bound = server.address();
  const p = typeof bound === 'object' && bound ? bound.port : port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${p}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
