import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const PROBE = join(dirname(fileURLToPath(import.meta.url)), '../../../src/probes/ebpf/probe.js');
const BTF = join(dirname(fileURLToPath(import.meta.url)), '../../../src/probes/ebpf/btf.js');
const LAYOUT = join(dirname(fileURLToPath(import.meta.url)), '../../../src/probes/ebpf/kernel-layout.js');

/** Runs a fresh node with the cache in `dir`; prints the layout it got as JSON. */
function layoutIn(dir: string): unknown {
  const script = `import(${JSON.stringify(PROBE)}).then((m) => console.log(JSON.stringify(m.currentKernelLayout())));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, WATCHPOST_CACHE_DIR: dir } });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe('BTF layout cache (per kernel build, on disk)', () => {
  it('gives the same offsets as parsing BTF, from the second start on without parsing it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wp-btf-cache-'));
    try {
      const { Btf } = (await import(BTF)) as typeof import('../../../src/probes/ebpf/btf.js');
      const { kernelLayout } = (await import(LAYOUT)) as typeof import('../../../src/probes/ebpf/kernel-layout.js');
      const parsed = JSON.parse(JSON.stringify(kernelLayout(Btf.load())));
      assert.deepEqual(layoutIn(dir), parsed, 'first start: parsed, then written');
      const files = readdirSync(dir);
      assert.equal(files.length, 1);
      assert.deepEqual(JSON.parse(readFileSync(join(dir, files[0]), 'utf8')).layout, parsed);
      assert.deepEqual(layoutIn(dir), parsed, 'second start: read from the cache');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
