import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EXAMPLES } from '../../src/docs/examples.js';
import { EXAMPLE_CALLS, captureExample } from './capture-examples.js';

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

/** A table row without its TIME, PID and TID columns. */
function stableRow(row: string): string {
  return `${row.slice(18, 42)}${row.slice(58)}`;
}

describe('captured examples on the event pages', () => {
  for (const name of Object.keys(EXAMPLE_CALLS)) {
    it(`the stored ${name} example is what Watchpost prints today for the same calls`, async () => {
      const stored = EXAMPLES[name];
      assert.deepEqual(stored.calls, EXAMPLE_CALLS[name]);
      const { example } = await captureExample(name);
      assert.equal(example.table.length, stored.table.length);
      assert.equal(example.table[0], stored.table[0], 'header');
      assert.deepEqual(example.table.slice(1).map(stableRow), stored.table.slice(1).map(stableRow));
      assert.deepEqual(stable(example.json[0]), stable(stored.json[0]));
      assert.deepEqual(Object.keys(JSON.parse(example.json[0])), Object.keys(JSON.parse(stored.json[0])), 'field order');
    });
  }
});
