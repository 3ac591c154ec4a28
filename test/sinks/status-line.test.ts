import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { StatusLine, statusText } from '../../src/cli/status-line.js';
import type { Output } from '../../src/sinks/output.js';

const outputs: Output[] = [
  { name: 'nats:nats://127.0.0.1:4222', write: () => {}, close: async () => {}, stats: () => ({ name: 'nats:nats://127.0.0.1:4222', sent: 10, dropped: 3, retried: 2, queued: 5 }) },
];
let delivered = 0;
const source = { stats: () => ({ delivered: { ioperm: delivered }, lostByEvent: { ioperm: 1 }, lostRecords: 2, lostEvents: 0, lostByReason: {}, lostByKind: {}, filtered: {} }), outputs };

function fakeStream(isTTY: boolean): NodeJS.WriteStream & { text: () => string } {
  const s = new PassThrough() as unknown as NodeJS.WriteStream & { text: () => string };
  let buf = '';
  s.on('data', (d: Buffer) => (buf += d.toString()));
  Object.assign(s, { isTTY, columns: 200, text: () => buf });
  return s;
}

describe('live status line', () => {
  it('shows events/s, totals, losses and each output', () => {
    assert.equal(
      statusText(source.stats(), outputs, 12.4),
      'watchpost: 12 events/s · 0 events · 3 lost · nats sent 10 queued 5 retried 2 DROPPED 3',
    );
  });

  it('is not drawn when stderr is not a terminal', () => {
    assert.equal(StatusLine.start(source, fakeStream(false)), undefined);
  });

  it('on a terminal, redraws in place about once a second and clears itself on stop', async () => {
    const tty = fakeStream(true);
    const line = StatusLine.start(source, tty)!;
    delivered = 50;
    await new Promise((r) => setTimeout(r, 2300));
    line.stop();
    await new Promise((r) => setImmediate(r));
    const draws = tty.text().split('\r\x1b[K').filter(Boolean);
    assert.equal(draws.length, 2, `two redraws in 2.3 s: ${JSON.stringify(tty.text())}`);
    assert.match(draws[0], /^watchpost: \d+ events\/s · 50 events · 3 lost/);
    assert.ok(tty.text().endsWith('\r\x1b[K'), 'cleared at the end');
    assert.ok(!tty.text().includes('\n'), 'never scrolls');
  });
});
