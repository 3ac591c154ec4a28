import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { UsageError } from '../model/errors.js';
import type { SyscallEvent, TraceStats } from '../model/event.js';
import { parseRecordedLine } from '../detect/recording.js';
import { createDetector, type DetectOptions } from '../detect/setup.js';
import { allEventNames } from '../catalog/events.js';
import { applyPolicies, setupPolicies } from '../pipeline/policy-stage.js';
import { tableView } from '../detect/table-view.js';
import '../sinks/all.js';
import type { Output } from '../sinks/output.js';
import { createOutputs, planOutputs } from '../sinks/registry.js';
import { StdoutOutput } from '../sinks/stdout-output.js';
import { outputSummaryLine } from './status-line.js';

export interface ReplayOptions extends DetectOptions {
  /** `-o` values; default table. */
  output: string[];
  /** Filters as in `trace` (-e, --scope, --policy): only matching events reach the detections; none given: every event. */
  events?: string[];
  scope?: string[];
  policy?: string[];
}

const BATCH = 1000;

function openInput(file: string): NodeJS.ReadableStream {
  if (file === '-') return process.stdin;
  let isFile: boolean;
  try {
    isFile = statSync(file).isFile();
  } catch (err) {
    throw new UsageError(`replay ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'}); give a recording made with -o json:FILE (or tracee -o json), or - for stdin`);
  }
  if (!isFile) throw new UsageError(`replay ${file}: not a file; give a recording made with -o json:FILE (or tracee -o json), or - for stdin`);
  return createReadStream(file);
}

/** Writes a batch, the table getting its view of findings. */
export async function writeAll(outputs: readonly Output[], batch: readonly SyscallEvent[], colour: boolean): Promise<void> {
  if (batch.length === 0) return;
  let table: SyscallEvent[] | undefined;
  await Promise.all(outputs.map((o) => o.write(o instanceof StdoutOutput && o.isTable ? (table ??= tableView(batch, colour)) : batch)));
}

/** `watchpost replay FILE`: the detections over a recording (ours or Tracee's JSON lines); prints the findings, no root needed. */
export async function replayCommand(file: string, opts: ReplayOptions): Promise<void> {
  const filtering = Boolean(opts.events?.length || opts.scope?.length || opts.policy?.length);
  const policies = filtering ? setupPolicies({ events: opts.events, scope: opts.scope, policyFiles: opts.policy }, allEventNames(), {}).policies : undefined;
  let filtered = 0;
  let droppedArgs = 0;
  const detector = await createDetector(opts);
  const outputPlan = planOutputs(opts.output);
  const optionSpec = opts.output.find((s) => s.startsWith('option:'));
  if (optionSpec) throw new UsageError(`-o ${optionSpec}: output options change events as they are traced; replay prints a recording's values as they are`);
  const outputs = createOutputs(outputPlan);
  const jsonSummary = outputPlan.outputs.some((o) => o.kind === 'json' && o.target === undefined);
  const input = openInput(file);
  const colour = process.stdout.isTTY === true;
  const delivered: Record<string, number> = {};
  let lineNo = 0;
  let other = 0;
  let earlierFindings = 0;
  let malformed = 0;
  let firstMalformed = '';
  let batch: SyscallEvent[] = [];
  const flush = async (): Promise<void> => {
    const findings = detector.process(batch, () => false);
    batch = [];
    await writeAll(outputs, findings, colour);
  };
  try {
    for await (const line of createInterface({ input, crlfDelay: Infinity })) {
      lineNo++;
      const r = parseRecordedLine(line);
      if (r.kind === 'event') {
        droppedArgs += r.droppedArgs;
        if (policies && !applyPolicies(policies, r.event)) {
          filtered++;
          continue;
        }
        delivered[r.event.eventName] = (delivered[r.event.eventName] ?? 0) + 1;
        batch.push(r.event);
        if (batch.length >= BATCH) await flush();
      } else if (r.kind === 'finding') earlierFindings++;
      else if (r.kind === 'other') other++;
      else if (malformed++ === 0) firstMalformed = `line ${lineNo}: ${r.why}`;
    }
  } catch (err) {
    throw new UsageError(`replay ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); give a recording made with -o json:FILE`);
  }
  await flush();
  await writeAll(outputs, detector.flush(), colour); // the summaries of windows still open
  const final = { delivered, lostByEvent: {}, lostRecords: 0, lostEvents: 0, lostByReason: {}, filtered: {} } as TraceStats;
  await Promise.all(outputs.map((o) => o.close(final)));
  const events = Object.values(delivered).reduce((a, b) => a + b, 0);
  const counts = Object.entries(detector.counts()).filter(([, n]) => n > 0);
  const findings = counts.reduce((a, [, n]) => a + n, 0);
  const summary = { file, lines: lineNo, events, filtered, findings: Object.fromEntries(counts), findingsInRecording: earlierFindings, otherLines: other, malformed, firstMalformed, droppedArgs };
  if (jsonSummary) process.stderr.write(`${JSON.stringify({ replay: summary })}\n`);
  else {
    const per = counts.map(([id, n]) => `${id} ${n}`).join(', ');
    process.stderr.write(
      `watchpost replay: ${file}: ${events} events${filtering ? ` (${filtered} filtered out)` : ''}, ${findings} findings${per ? ` (${per})` : ''}` +
        `${earlierFindings ? `, ${earlierFindings} findings already in the recording (not re-emitted)` : ''}, ${other} other lines skipped, ` +
        `${malformed} malformed${malformed ? ` (first: ${firstMalformed})` : ''}` +
        `${droppedArgs ? `, ${droppedArgs} args the catalog does not define left out` : ''}\n`,
    );
  }
  for (const o of outputs) {
    if (o instanceof StdoutOutput) continue;
    process.stderr.write(`${jsonSummary ? JSON.stringify({ output: o.stats() }) : outputSummaryLine(o.stats())}\n`);
  }
  for (const p of detector.problems()) process.stderr.write(`watchpost: ${p}\n`);
}
