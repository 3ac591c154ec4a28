import { EVENTS } from '../catalog/events.js';
import { formatResult } from '../doctor/check.js';
import { runDoctor } from '../doctor/run.js';
import { resolveEvents } from '../trace.js';
import { sweepLeftovers } from '../probes/tracefs/instance.js';

/** Prints one line per check; the exit code is 0 only when every check is ok. */
export async function doctorCommand(opts: { events?: string[] }): Promise<number> {
  const events = opts.events?.length ? resolveEvents(opts.events) : [...EVENTS];
  if (process.getuid?.() === 0) sweepLeftovers(); // a dead run's armed instance is the first thing to clear, whatever doctor finds
  const results = await runDoctor(events, (r) => process.stdout.write(`${formatResult(r)}\n`));
  const bad = results.filter((r) => r.status !== 'ok');
  process.stdout.write(
    bad.length
      ? `watchpost doctor: ${bad.length} of ${results.length} checks need attention (the warn and fail lines above say what to do)\n`
      : `watchpost doctor: all ${results.length} checks ok\n`,
  );
  return bad.length ? 1 : 0;
}
