import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { eventToJson } from '../../src/sinks/json.js';
import { ioperm } from '../support/synthetic-event.js';
import { removeTree, tempDir } from './live.js';
import { replayJson, runCliUnprivileged } from './replay-cli.js';

/** `watchpost replay` of a storm: the window works on the recording's own time, as it did live. */

const dir = tempDir('wp-window-');
after(() => removeTree(dir));

const T0 = 1_700_000_000_000_000_000n;

/** 1,000 identical calls, ioperm(0x378, 3, 1) = -ENOSYS by one process, 1 ms apart: WP-005 1,000 times. */
const storm = join(dir, 'storm.jsonl');
writeFileSync(
  storm,
  Array.from({ length: 1000 }, (_, i) => {
    const at = T0 + BigInt(i) * 1_000_000n;
    return `${eventToJson(ioperm(0x378, 3, 1, { timestamp: Number(at), exactTimestamp: String(at), returnValue: -38 }))}\n`;
  }).join(''),
);

interface Line {
  timestamp: number;
  args: { name: string; value: unknown }[];
  metadata: { Properties: { signatureID: string } };
}

const repeats = (l: Line): unknown => l.args.find((a) => a.name === 'repeats')?.value;

describe('replay with the finding window', () => {
  it('a recording of 1,000 identical calls gives one finding and one summary with count 999; the true count on stderr', async () => {
    const r = await replayJson(storm);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.lines.map((l) => JSON.parse(l) as Line);
    assert.deepEqual(lines.map((l) => [l.metadata.Properties.signatureID, repeats(l)]), [['WP-005', undefined], ['WP-005', 999]]);
    assert.equal(lines[0].timestamp, Number(T0), 'the first finding is the first call');
    assert.match(r.lines[1], /"first_timestamp","type":"unsigned long","value":1700000000000000000\}.*"last_timestamp","type":"unsigned long","value":1700000000999000000\}/);
    assert.match(r.stderr, /"events":1000,.*"findings":\{"WP-005":1000\}/);
  });

  it('--finding-window 0 and --no-finding-window give all 1,000 findings', async () => {
    for (const off of [['--finding-window', '0'], ['--no-finding-window']]) {
      const r = await runCliUnprivileged(['replay', storm, ...off], [dir, storm]); // the table: 1,000 JSON findings pass the 1 MB execFile holds
      assert.equal(r.code, 0, r.stderr);
      const rows = r.stdout.split('\n').filter((l) => l.includes('io_port_unknown_tool'));
      assert.equal(rows.length, 1000, off.join(' '));
      assert.ok(rows.every((l) => !l.includes('repeated:')));
      assert.match(r.stderr, /1000 events, 1000 findings \(WP-005 1000\)/);
    }
  });

  it('a window shorter than the storm: a finding and a summary per window, the counts adding up to 1,000', async () => {
    const r = await replayJson(storm, ['--finding-window', '0.25']);
    const lines = r.lines.map((l) => JSON.parse(l) as Line);
    assert.deepEqual(lines.map(repeats), [undefined, 249, undefined, 249, undefined, 249, undefined, 249]);
  });

  it('the table shows the summary as one line with its count', async () => {
    const r = await runCliUnprivileged(['replay', storm], [dir, storm]);
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.split('\n').filter((l) => l.includes('io_port_unknown_tool'));
    assert.equal(rows.length, 2);
    assert.match(rows[1], /call: ioperm\(from=0x378, num=3, turn_on=1\) = -38, .*repeated: ×999 more in 999 ms$/);
  });

  it('refuses a window that is not a number of seconds, in one line, exit 2', async () => {
    const r = await runCliUnprivileged(['replay', storm, '--finding-window', 'ten'], [dir, storm]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'watchpost: --finding-window ten: expected seconds >= 0 (e.g. 10; 0 prints every finding)\n');
  });
});
