import assert from 'node:assert/strict';
import { existsSync, lstatSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { UsageError } from '../../src/model/errors.js';
import '../../src/sinks/all.js';
import { createOutput } from '../../src/sinks/registry.js';
import { EMPTY_STATS, range, seqOf } from './support/events.js';
import { tempDir } from './support/servers.js';

const dirs: string[] = [];
const dir = (): string => {
  const d = tempDir('file');
  dirs.push(d);
  return d;
};
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function readAll(path: string, keep: number): number[] {
  const files = [...Array.from({ length: keep }, (_, i) => `${path}.${keep - i}`), path].filter(existsSync);
  return files.flatMap((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => seqOf(JSON.parse(l))));
}

describe('-o json:PATH (file output)', () => {
  it('rotates at the size limit and keeps every event exactly once, in order, across rotations', async () => {
    const path = join(dir(), 'events.jsonl');
    const out = createOutput(`json:${path}?maxSize=8K&keep=50`);
    for (let i = 0; i < 10; i++) out.write(range(i * 20, 20)); // ~1.2 KB per event: ~30 files
    await out.close(EMPTY_STATS);
    assert.deepEqual(out.stats(), { name: `json:${path}`, sent: 200, dropped: 0, retried: 0, queued: 0 });
    assert.ok(existsSync(`${path}.20`), 'rotated at least 20 times');
    for (let i = 1; existsSync(`${path}.${i}`); i++) assert.ok(statSync(`${path}.${i}`).size <= 8192, `${path}.${i} within the limit`);
    assert.deepEqual(readAll(path, 50), Array.from({ length: 200 }, (_, i) => i));
  });

  it('keeps only `keep` rotated files, the newest ones', async () => {
    const path = join(dir(), 'events.jsonl');
    const out = createOutput(`json:${path}?maxSize=4K&keep=2`);
    out.write(range(0, 40));
    await out.close(EMPTY_STATS);
    assert.ok(existsSync(`${path}.2`) && !existsSync(`${path}.3`));
    const kept = readAll(path, 2);
    assert.ok(kept.length > 0 && kept.length < 40);
    assert.deepEqual(kept, Array.from({ length: kept.length }, (_, i) => 40 - kept.length + i), 'the newest events, contiguous');
  });

  it('creates the file and every rotated file with mode 0600, and narrows an existing file to 0600', async () => {
    const d = dir();
    const path = join(d, 'events.jsonl');
    const old = join(d, 'old.jsonl');
    writeFileSync(old, '', { mode: 0o644 });
    const prev = process.umask(0);
    try {
      const out = createOutput(`json:${path}?maxSize=4K`);
      out.write(range(0, 10));
      await out.close(EMPTY_STATS);
      const existing = createOutput(`json:${old}`);
      await existing.close(EMPTY_STATS);
    } finally {
      process.umask(prev);
    }
    for (const f of [path, `${path}.1`, old]) assert.equal(statSync(f).mode & 0o777, 0o600, f);
  });

  it('refuses a symlink at the path, and does not touch its target', () => {
    const d = dir();
    const target = join(d, 'target');
    writeFileSync(target, 'precious\n');
    const path = join(d, 'events.jsonl');
    symlinkSync(target, path);
    assert.throws(() => createOutput(`json:${path}`), (e: unknown) => e instanceof UsageError && /symlink/.test(e.message));
    assert.equal(readFileSync(target, 'utf8'), 'precious\n');
  });

  it('refuses to rotate when the path was replaced by a symlink, counts the rest as dropped, target untouched', async () => {
    const d = dir();
    const target = join(d, 'target');
    writeFileSync(target, 'precious\n');
    const path = join(d, 'events.jsonl');
    const out = createOutput(`json:${path}?maxSize=4K&keep=3`);
    out.write(range(0, 2));
    await new Promise((r) => setTimeout(r, 100));
    renameSync(path, join(d, 'moved'));
    symlinkSync(target, path);
    out.write(range(2, 20));
    await out.close(EMPTY_STATS);
    const s = out.stats();
    assert.equal(readFileSync(target, 'utf8'), 'precious\n');
    assert.ok(lstatSync(path).isSymbolicLink(), 'the link is left as it was');
    assert.ok(s.dropped > 0, 'events after the refused rotation are dropped');
    assert.equal(s.sent + s.dropped, 22);
    assert.equal(s.retried, 0, 'a refused rotation is not retried');
    assert.deepEqual(readAll(join(d, 'moved'), 0), Array.from({ length: s.sent }, (_, i) => i), 'what was sent went to the original file');
  });

  it('rejects unknown options and bad sizes with the option named', () => {
    const path = join(dir(), 'x.jsonl');
    assert.throws(() => createOutput(`json:${path}?maxsize=1M`), /unknown option "maxsize"/);
    assert.throws(() => createOutput(`json:${path}?maxSize=lots`), /maxSize=lots/);
    assert.throws(() => createOutput(`json:/nonexistent-dir/x.jsonl`), /directory does not exist/);
  });
});
