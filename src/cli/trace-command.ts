import { once } from 'node:events';
import { EnvironmentError } from '../model/errors.js';
import type { TraceStats } from '../model/event.js';
import { eventToJson } from '../sinks/json.js';
import { eventToRow, TABLE_HEADER } from '../sinks/table.js';
import { resolveEvents, trace } from '../trace.js';

export interface TraceCommandOptions {
  events?: string[];
  output: 'table' | 'json';
  compat: boolean;
  bufferKb?: number;
}

export function summaryLine(s: TraceStats): string {
  const per = Object.keys(s.delivered).map((name) => `${name} ${s.delivered[name]} delivered, ${s.lostByEvent[name] ?? 0} lost`);
  const reasons = Object.entries(s.lostByReason).map(([r, n]) => `${r}: ${n}`);
  return `watchpost: ${per.join('; ')}; ${s.lostRecords} kernel records lost${reasons.length ? ` (${reasons.join(', ')})` : ''}`;
}

function statsJson(s: TraceStats, final: boolean): string {
  return JSON.stringify({ stats: { final, ...s } });
}

export async function traceCommand(opts: TraceCommandOptions): Promise<void> {
  const events = opts.events?.length ? opts.events : undefined;
  if (events) resolveEvents(events); // usage errors before the root check
  if (process.getuid?.() !== 0) {
    throw new EnvironmentError('tracing needs root (tracefs and the syscall tracepoints are root-only): run `sudo npx watchpost`');
  }
  const t = trace({ events, compat: opts.compat, bufferKb: opts.bufferKb });
  await t.ready;
  const json = opts.output === 'json';
  const out = process.stdout;
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void t.stop();
  };
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, stop);
  out.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') stop();
    else throw err;
  });
  process.stderr.write(`watchpost: tracing ${t.backend === 'tracefs' ? 'with tracefs' : `with ${t.backend}`}${opts.compat ? '' : ' (64-bit callers only)'}; Ctrl-C to stop\n`);
  let lastStats = '';
  const statsTimer = json
    ? setInterval(() => {
        const line = statsJson(t.stats(), false);
        if (line !== lastStats) process.stderr.write(`${line}\n`);
        lastStats = line;
      }, 5000)
    : undefined;
  if (!json && out.isTTY !== false) out.write(`${TABLE_HEADER}\n`);
  for await (const batch of t.batches()) {
    let text = '';
    for (const ev of batch) text += `${json ? eventToJson(ev) : eventToRow(ev)}\n`;
    if (!stopping && !out.write(text)) await Promise.race([once(out, 'drain'), once(out, 'close')]);
  }
  if (statsTimer) clearInterval(statsTimer);
  const stats = t.stats();
  process.stderr.write(`${json ? statsJson(stats, true) : summaryLine(stats)}\n`);
}
