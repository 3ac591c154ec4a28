import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { SyscallEvent } from '../../src/model/event.js';
import { eventToJson, jsonLines } from '../../src/sinks/json.js';
import { FIXTURES, goldenEvents } from './support/golden-events.js';

// test/fixtures/json-golden.jsonl: the lines the serialiser printed for goldenEvents() before it was rewritten for speed
// (template strings per event). Output consumers parse these bytes: they must not change by a byte.
const golden = readFileSync(join(FIXTURES, 'json-golden.jsonl'));
const goldenLines = golden.toString('utf8').split('\n').slice(0, -1).map((l) => `${l}\n`);

let events: SyscallEvent[];
before(async () => {
  events = await goldenEvents();
  assert.equal(events.length, goldenLines.length, 'one golden line per event');
});

const expected = (indexes: readonly number[]): Buffer => Buffer.from(indexes.map((i) => goldenLines[i]).join(''));

describe('JSON lines: byte for byte what the serialiser printed before', () => {
  it('one event at a time (eventToJson)', () => {
    for (let i = 0; i < events.length; i++) assert.equal(`${eventToJson(events[i])}\n`, goldenLines[i], `event ${i}`);
  });

  it('a whole batch (jsonLines), with each line ending where `ends` says', () => {
    const lines = jsonLines([...events]);
    assert.ok(lines.bytes.equals(golden));
    let start = 0;
    for (let i = 0; i < events.length; i++) {
      assert.equal(lines.bytes.toString('utf8', start, lines.ends[i]), goldenLines[i], `line ${i}`);
      start = lines.ends[i];
    }
  });

  it('a storm: every event three times in a row (repeated arguments copied from the line before)', () => {
    const indexes = events.flatMap((_, i) => [i, i, i]);
    assert.ok(jsonLines(indexes.map((i) => events[i])).bytes.equals(expected(indexes)));
  });

  it('any order and mix of threads, kinds and batches: cached context never leaks into another event', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.nat(events.length - 1), { maxLength: 60 }), { minLength: 1, maxLength: 5 }), (batches) => {
        for (const indexes of batches) {
          if (indexes.length === 1) assert.equal(`${eventToJson(events[indexes[0]])}\n`, goldenLines[indexes[0]]);
          assert.ok(jsonLines(indexes.map((i) => events[i])).bytes.equals(expected(indexes)));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a batch is serialised once, whichever output asks first', () => {
    const batch = events.slice(0, 5);
    assert.equal(jsonLines(batch), jsonLines(batch));
    assert.notEqual(jsonLines(batch), jsonLines(batch.slice()), 'another array is another batch');
  });
});
