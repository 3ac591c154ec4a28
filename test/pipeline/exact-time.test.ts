import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRecordedLine } from '../../src/detect/recording.js';
import { EpochClock } from '../../src/pipeline/clock.js';
import { eventToJson } from '../../src/sinks/json.js';
import { traced } from '../support/traced.js';

/** Timestamps to the nanosecond: a double holds ~256 ns at today's dates, so outputs print exact digits kept beside it. */
describe('exact nanosecond timestamps', { timeout: 60_000 }, () => {
  it('the clock gives the epoch time of a monotonic ns exactly (checked against BigInt arithmetic)', () => {
    const clock = new EpochClock();
    for (const mono of [0, 1, 999_999_999, 1_000_000_000, 123_456_789_012_345, 2 ** 53 - 1]) {
      assert.equal(clock.toEpochDigits(mono), (BigInt(mono) + clock.offsetExact).toString(), `${mono}`);
    }
    for (let k = 1; k < 2000; k++) {
      // seconds boundaries up to 2^53, where a double division can round across one, and values in between
      const edge = Math.min(Math.floor(((2 ** 53 - 1) / 2000) * k / 1e9) * 1e9, 2 ** 53 - 1);
      for (const mono of [edge - 1, edge, edge + 1, edge + 999_999_999, Math.floor(Math.random() * 2 ** 53)]) {
        if (mono >= 0 && mono < 2 ** 53) assert.equal(clock.toEpochDigits(mono), (BigInt(mono) + clock.offsetExact).toString(), `${mono}`);
      }
    }
    const relative = new EpochClock(true);
    assert.equal(relative.toEpochDigits(5), '5', 'no leading zeros: it is a JSON number');
    assert.equal(relative.toEpochDigits(1_500_000_000), '1500000000');
    assert.equal(relative.toEpochDigits(12_000_000_007), '12000000007', 'a seconds part of other than ten digits');
  });

  it('a live event carries the exact time and -o json prints it', async () => {
    const before = BigInt(Date.now()) * 1_000_000n;
    const { got } = await traced({ events: ['iopl'] }, ['iopl:3']);
    assert.equal(got.length, 1);
    const e = got[0];
    assert.match(e.exactTimestamp ?? '', /^\d{19}$/);
    const exact = BigInt(e.exactTimestamp!);
    assert.ok(exact >= before - 5_000_000n && exact <= BigInt(Date.now()) * 1_000_000n + 5_000_000n, 'within the run');
    assert.ok(Math.abs(Number(exact) - e.timestamp) <= 512, 'the double is the same instant, rounded');
    assert.match(eventToJson(e), new RegExp(`^\\{"timestamp":${e.exactTimestamp},`));
  });

  it('a replayed recording keeps every digit of its timestamps', () => {
    const line = '{"timestamp":1795550604087271123,"threadStartTime":1795550604085704400,"processorId":0,"processId":7,"cgroupId":1,"threadId":7,"parentProcessId":1,"hostProcessId":7,"hostThreadId":7,"hostParentProcessId":1,"userId":0,"mountNamespace":1,"pidNamespace":1,"processName":"x","executable":{"path":"/x"},"hostName":"h","containerId":"","eventId":"172","eventName":"iopl","argsNum":1,"returnValue":-38,"args":[{"name":"level","type":"int32","value":3}]}';
    const r = parseRecordedLine(line);
    assert.equal(r.kind, 'event');
    if (r.kind !== 'event') return;
    assert.equal(r.event.exactTimestamp, '1795550604087271123');
    assert.match(eventToJson(r.event), /^\{"timestamp":1795550604087271123,/);
  });
});
