import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EXAMPLES } from '../../src/docs/examples.js';
import { EXAMPLE_CALLS, captureExample } from './capture-examples.js';
import { is32, NO_32BIT } from '../support/kernel-features.js';

/** Fields that differ from run to run (time, ids, CPU, the helper's build path); everything else must match. */
const VOLATILE = new Set([
  'timestamp', 'threadStartTime', 'processorId', 'processId', 'threadId', 'parentProcessId', 'hostProcessId', 'hostThreadId',
  'hostParentProcessId', 'threadEntityId', 'processEntityId', 'parentEntityId', 'cgroupId', 'executable',
]);

function stable(json: string): unknown {
  return JSON.parse(json, function (key, value: unknown) {
    return VOLATILE.has(key) && !Array.isArray(this) ? '*' : value;
  });
}

/** A table row with its TIME, PID and TID columns blanked, at the positions the header gives them. */
function stableRow(header: string, row: string): string {
  const starts = [...header.matchAll(/\S+/g)].map((m) => ({ name: m[0], at: m.index! }));
  let out = row;
  starts.forEach((c, i) => {
    if (!['TIME', 'PID', 'TID'].includes(c.name)) return;
    const end = starts[i + 1]?.at ?? row.length;
    out = out.slice(0, c.at) + ' '.repeat(end - c.at) + out.slice(end);
  });
  return out;
}

describe('captured examples on the event pages', { timeout: 120_000 }, () => {
  for (const name of Object.keys(EXAMPLE_CALLS)) {
    const skip = EXAMPLE_CALLS[name].some(is32) && NO_32BIT; // the stored example has a 32-bit call
    it(`the stored ${name} example is what Watchpost prints today for the same calls`, { skip }, async () => {
      const stored = EXAMPLES[name];
      assert.deepEqual(stored.calls, EXAMPLE_CALLS[name]);
      const example = await captureExample(name);
      assert.equal(example.tableCommand, `watchpost -e ${name}`);
      assert.equal(stored.tableCommand, example.tableCommand);
      assert.equal(stored.jsonCommand, `watchpost -e ${name} -o json`);
      assert.equal(example.backend, stored.backend);
      assert.equal(example.table.length, stored.table.length);
      assert.equal(example.table[0], stored.table[0], 'header');
      const header = stored.table[0];
      assert.deepEqual(example.table.slice(1).map((r) => stableRow(header, r)), stored.table.slice(1).map((r) => stableRow(header, r)));
      assert.deepEqual(stable(example.json[0]), stable(stored.json[0]));
      assert.deepEqual(Object.keys(JSON.parse(example.json[0])), Object.keys(JSON.parse(stored.json[0])), 'field order');
    });
  }
});
