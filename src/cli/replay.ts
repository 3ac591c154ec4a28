import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { UsageError } from '../model/errors.js';
import type { StreamItem } from '../model/stream.js';
import { parseRecordedLine } from '../detect/recording.js';
import { createDetector, type DetectOptions } from '../detect/setup.js';
import { allEventNames } from '../catalog/events.js';
import { Counters } from '../pipeline/counters.js';
import { DetectStage } from '../pipeline/detect-stage.js';
import { OutputStage } from '../pipeline/output-stage.js';
import { PolicyStage, setupPolicies } from '../pipeline/policy-stage.js';
import '../sinks/all.js';
import { createOutputs, planOutputs } from '../sinks/registry.js';
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

/**
 * `watchpost replay FILE`: the detections over a recording (ours or Tracee's JSON lines); prints the findings, no root
 * needed. The live pipeline's policy, detect and output stages, after a decode of JSON lines instead of kernel records.
 */
export async function replayCommand(file: string, opts: ReplayOptions): Promise<void> {
  const filtering = Boolean(opts.events?.length || opts.scope?.length || opts.policy?.length);
  const policies = filtering ? setupPolicies({ events: opts.events, scope: opts.scope, policyFiles: opts.policy }, allEventNames(), {}).policies : undefined;
  let droppedArgs = 0;
  const detector = await createDetector(opts);
  const outputPlan = planOutputs(opts.output);
  const optionSpec = opts.output.find((s) => s.startsWith('option:'));
  if (optionSpec) throw new UsageError(`-o ${optionSpec}: output options change events as they are traced; replay prints a recording's values as they are`);
  const counters = new Counters();
  const policy = new PolicyStage(policies, counters);
  const detect = new DetectStage(detector, () => true); // the recording's events are not printed again: findings alone
  const outputs = new OutputStage(createOutputs(outputPlan));
  const jsonSummary = outputPlan.outputs.some((o) => o.kind === 'json' && o.target === undefined);
  const input = openInput(file);
  let lineNo = 0;
  let other = 0;
  let earlierFindings = 0;
  let malformed = 0;
  let firstMalformed = '';
  let batch: StreamItem[] = [];
  try {
    for await (const line of createInterface({ input, crlfDelay: Infinity })) {
      lineNo++;
      const r = parseRecordedLine(line);
      if (r.kind === 'event') {
        droppedArgs += r.droppedArgs;
        if (!policy.admit(r.event)) continue;
        detect.run(r.event, batch);
        if (batch.length >= BATCH) {
          await outputs.write(batch);
          batch = [];
        }
      } else if (r.kind === 'finding') earlierFindings++;
      else if (r.kind === 'other') other++;
      else if (malformed++ === 0) firstMalformed = `line ${lineNo}: ${r.why}`;
    }
  } catch (err) {
    throw new UsageError(`replay ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); give a recording made with -o json:FILE`);
  }
  detect.flush(batch); // the summaries of windows still open
  await outputs.write(batch);
  await outputs.close(counters.stats());
  const delivered = counters.delivered;
  const filtered = Object.values(counters.filtered).reduce((a, b) => a + b, 0);
  const events = Object.values(delivered).reduce((a, b) => a + b, 0);
  const counts = Object.entries(detector.counts()).filter(([, n]) => n > 0);
  const findings = counts.reduce((a, [, n]) => a + n, 0);
  const window = detector.windowStats();
  const summary = { file, lines: lineNo, events, filtered, findings: Object.fromEntries(counts), ...(window && { window }), findingsInRecording: earlierFindings, otherLines: other, malformed, firstMalformed, droppedArgs };
  if (jsonSummary) process.stderr.write(`${JSON.stringify({ replay: summary })}\n`);
  else {
    const per = counts.map(([id, n]) => `${id} ${n}`).join(', ');
    process.stderr.write(
      `watchpost replay: ${file}: ${events} events${filtering ? ` (${filtered} filtered out)` : ''}, ${findings} findings${per ? ` (${per})` : ''}` +
        `${window?.findingsSuppressed ? ` (${window.findingsSuppressed} repeats within ${window.windowSeconds} s folded into ${window.summaries} summaries)` : ''}` +
        `${earlierFindings ? `, ${earlierFindings} findings already in the recording (not re-emitted)` : ''}, ${other} other lines skipped, ` +
        `${malformed} malformed${malformed ? ` (first: ${firstMalformed})` : ''}` +
        `${droppedArgs ? `, ${droppedArgs} args the catalog does not define left out` : ''}\n`,
    );
  }
  for (const o of outputs.stats()) process.stderr.write(`${jsonSummary ? JSON.stringify({ output: o }) : outputSummaryLine(o)}\n`);
  for (const p of detector.problems()) process.stderr.write(`watchpost: ${p}\n`);
}
