/**
 * One capacity replay, in its own process (the benchmark pins it to one core, and profiles one with --cpu-prof):
 *   node capacity-replay.js CAPTURE_DIR detect|no-detect PASSES [WARMUP]
 * Prints one JSON line: ReplayResult.
 */
import { replayCapture } from './capacity.js';

const [dir, mode, passes, warmup] = process.argv.slice(2);
if (!dir || (mode !== 'detect' && mode !== 'no-detect')) {
  process.stderr.write('usage: node capacity-replay.js CAPTURE_DIR detect|no-detect PASSES [WARMUP]\n');
  process.exit(2);
}
const result = await replayCapture(dir, mode === 'detect', Number(passes ?? 3), Number(warmup ?? 1));
process.stdout.write(`${JSON.stringify(result)}\n`);
