import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { SyscallEvent } from '../../src/model/event.js';
import { eventToJson, jsonLines } from '../../src/sinks/json.js';
import { blockOf, MessageQueue, type Messages } from '../../src/sinks/message-queue.js';
import { QueuedOutput, type QueueSettings } from '../../src/sinks/queued-output.js';
import { EMPTY_STATS, range } from './support/events.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const settings = (over: Partial<QueueSettings> = {}): QueueSettings => ({
  maxQueue: 1_000_000, maxQueueBytes: 1 << 20, maxBatch: 500, retries: 0, backoffMs: 1, maxBackoffMs: 1, flushTimeoutMs: 50, ...over,
});

/** An output whose receiver never answers: every delivery hangs until close() gives up. */
class Hanging extends QueuedOutput {
  attempts = 0;
  protected deliver(): Promise<number> {
    this.attempts++;
    return new Promise<number>(() => {});
  }
}

/** An output that records what it was handed. */
class Recording extends QueuedOutput {
  got: string[] = [];
  protected async deliver(m: Messages): Promise<number> {
    for (let i = 0; i < m.length; i++) this.got.push(m.message(i).toString());
    return m.length;
  }
}

/** Delivers only when let through. */
class Gated extends Recording {
  private open: () => void = () => {};
  private readonly opened = new Promise<void>((resolve) => (this.open = resolve));
  letThrough(): void {
    this.open();
  }
  protected override async deliver(m: Messages): Promise<number> {
    await this.opened;
    return super.deliver(m);
  }
}

const texts = (n: number, size: number, from = 0): string[] => Array.from({ length: n }, (_, i) => `${String(from + i).padStart(8, '0')}${'x'.repeat(size - 8)}`);

describe('an output queue holds bytes, bounded in bytes', () => {
  it('takes whole messages up to the byte bound; a part of a block is copied out, not the block held', () => {
    const q = new MessageQueue(1000, 1000);
    const block = blockOf(texts(30, 100));
    assert.equal(q.push(block), 10, 'ten 100-byte messages fit in 1000 bytes');
    assert.equal(q.bytes, 1000);
    block.bytes.fill(0x7a);
    assert.match(q.peek(10).message(0).toString(), /^00000000x+$/, 'the queue holds a copy of the part it took');
    assert.equal(q.room(), 0, 'full by bytes');
    assert.equal(q.push(blockOf(texts(1, 10))), 0);
    q.shift(4);
    assert.equal(q.bytes, 1000, 'a block is held until all of it is done');
    q.shift(6);
    assert.deepEqual([q.count, q.bytes], [0, 0]);
  });

  it('holds a whole block without copying it, and releases each block once its messages are done', () => {
    const q = new MessageQueue(1000, 1 << 20);
    const a = blockOf(texts(5, 50));
    const b = blockOf(texts(5, 50, 5));
    q.push(a);
    q.push(b);
    assert.equal(q.bytes, 500);
    const run = q.peek(7);
    a.bytes[0] = 0x39;
    assert.equal(run.message(0).toString()[0], '9', 'shared, not copied');
    assert.deepEqual(run.chunks().map((c) => c.length), [250, 100], 'a run spans blocks as few buffers');
    assert.deepEqual(run.after(6).chunks().map((c) => c.toString().slice(0, 8)), ['00000006']);
    q.shift(5);
    assert.equal(q.bytes, 250, "the first block's bytes released");
    assert.equal(q.keepFirst(2), 3, 'all but the first two dropped');
    assert.deepEqual([q.count, q.peek(10).length], [2, 2]);
    assert.equal(q.peek(10).seq, 5, 'sequence numbers count from the first message ever queued');
  });

  it('a receiver that never answers: queued bytes stay under queueBytes, the rest is dropped and counted, memory stays bounded', async () => {
    const out = new Hanging('hanging', settings({ maxQueueBytes: 1 << 20 }));
    gc();
    const before = process.memoryUsage().arrayBuffers;
    let maxQueued = 0;
    let written = 0;
    for (let i = 0; i < 200; i++) {
      const batch = range(i * 1000, 1000); // ~0.9 MB of JSON lines each
      out.write(batch);
      written += batch.length;
      maxQueued = Math.max(maxQueued, out.queuedBytes());
      if (i % 20 === 0) await new Promise((r) => setImmediate(r));
    }
    gc();
    const held = process.memoryUsage().arrayBuffers - before;
    const s = out.stats();
    const lineBytes = jsonLines(range(0, 1000)).bytes.length / 1000;
    assert.ok(maxQueued <= 1 << 20, `queued at most ${maxQueued} bytes`);
    assert.ok(out.queuedBytes() > (1 << 20) - 2 * lineBytes, `the queue filled up to its bound (${out.queuedBytes()} bytes, ${s.queued} events)`);
    assert.equal(s.queued + s.dropped, written, 'every event queued or counted as dropped');
    assert.ok(held < 4 << 20, `array buffers held after 200 MB were written: ${(held / 1048576).toFixed(1)} MiB`);
    await out.close(EMPTY_STATS);
    assert.deepEqual(out.stats(), { name: 'hanging', sent: 0, dropped: written, retried: 0, queued: 0 });
    assert.equal(out.queuedBytes(), 0);
  });

  it('a full queue drops a batch without serialising it', () => {
    const out = new Hanging('full', settings({ maxQueue: 10 }));
    out.write(range(0, 10));
    let touched = 0;
    const batch: SyscallEvent[] = range(10, 5).map((e) => Object.defineProperty(e, 'args', { get: () => (touched++, []) }));
    out.write(batch);
    assert.equal(touched, 0, 'no event of the dropped batch was read');
    assert.deepEqual([out.stats().queued, out.stats().dropped], [10, 5]);
    void out.close(EMPTY_STATS);
  });

  it('a long batch (a kernel buffer drained at stop) is taken in parts: those beyond the queue are never serialised', async () => {
    const out = new Hanging('long', settings({ maxQueue: 5000, maxQueueBytes: 1 << 30 }));
    let touched = 0;
    const batch: SyscallEvent[] = range(0, 20_000).map((e) => {
      const args = e.args;
      return Object.defineProperty(e, 'args', { get: () => (touched++, args) });
    });
    out.write(batch);
    assert.deepEqual([out.stats().queued, out.stats().dropped], [5000, 15_000]);
    assert.ok(touched > 0 && touched <= 2 * 4096, `read the events of the two parts it took from, not all 20,000 (${touched} reads)`);
    await out.close(EMPTY_STATS);
  });

  it('shared lines a queue holds are not overwritten while later batches are made; once delivered, their buffer is reused', async () => {
    const out = new Gated('gated', settings({ maxBatch: 10_000 }));
    const held = range(5000, 300);
    out.write(held);
    const lines = jsonLines(held);
    for (let i = 0; i < 50; i++) jsonLines(range(i * 300, 300)); // each made after the last one was let go: pooled buffers go round
    assert.equal(lines.recycled, false, 'held by the queue');
    out.letThrough();
    await out.close(EMPTY_STATS);
    assert.deepEqual(out.got, held.map((e) => `${eventToJson(e)}\n`), 'delivered as made, byte for byte');
    assert.equal(lines.recycled, true, 'released once delivered');
  });

  it('delivers the JSON lines every JSON output shares, in order, across batches and partial batches', async () => {
    const out = new Recording('rec', settings({ maxQueue: 25, maxBatch: 7 }));
    const a = range(0, 20);
    const b = range(20, 20);
    out.write(a);
    out.write(b); // 5 of these fit
    await out.close(EMPTY_STATS);
    const lines = jsonLines(a);
    assert.equal(out.got[0], lines.bytes.toString('utf8', 0, lines.ends[0]));
    assert.deepEqual(out.got.map((l) => JSON.parse(l).args[0].value), Array.from({ length: 25 }, (_, i) => i));
    assert.deepEqual(out.stats(), { name: 'rec', sent: 25, dropped: 15, retried: 0, queued: 0 });
  });
});
