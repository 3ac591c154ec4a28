import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { findEvent } from '../../src/catalog/events.js';
import { pageFor } from '../../src/docs/generate.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');

describe('watchpost describe', () => {
  it('prints the ioperm page: its args, the tracepoints it hooks, never kprobes', () => {
    const r = spawnSync(process.execPath, [CLI, 'describe', 'ioperm'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, pageFor(findEvent('ioperm')!));
    for (const arg of ['`from`', '`num`', '`turn_on`']) assert.ok(r.stdout.includes(`| ${arg} |`), arg);
    assert.match(r.stdout, /syscalls:sys_enter_ioperm` and `syscalls:sys_exit_ioperm` tracepoints/);
    assert.match(r.stdout, /raw tracepoints/);
    assert.doesNotMatch(r.stdout, /kprobe/i);
  });

  it('rejects an unknown event in one line naming the closest ones, exit 2', () => {
    const r = spawnSync(process.execPath, [CLI, 'describe', 'iopermm'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /^watchpost: unknown event "iopermm": did you mean ioperm, /);
  });
});
