import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EVENTS, findEvent } from '../../src/catalog/events.js';
import { builtinSignatures } from '../../src/detect/builtins.js';
import { eventPage } from '../../src/docs/event-page.js';
import { EXAMPLES } from '../../src/docs/examples.js';
import { DOCS_DIR, generateDocs, pageFor } from '../../src/docs/generate.js';

describe('event pages', () => {
  it('committed docs/events/*.md are exactly what `npm run docs` generates (run it after changing the catalog)', () => {
    const generated = generateDocs();
    assert.deepEqual([...generated.keys()].sort(), ['ioctl.md', 'ioperm.md', 'iopl.md', 'perf_event_open.md', 'userfaultfd.md']);
    assert.deepEqual(readdirSync(DOCS_DIR).filter((f) => f.endsWith('.md')).sort(), [...generated.keys()].sort(), 'no stale pages');
    for (const [file, text] of generated) assert.equal(readFileSync(join(DOCS_DIR, file), 'utf8'), text, `docs/events/${file} is stale: run \`npm run docs\``);
  });

  it('the ioperm page has its args with kernel type, JSON type and tag, x86 only, and names the tracepoints it hooks', () => {
    const page = pageFor(findEvent('ioperm')!);
    assert.match(page, /^# ioperm\n/);
    assert.ok(page.includes('| 0 | `from` | `unsigned long` | `uint64` | K | first I/O port of the range |'));
    assert.ok(page.includes('| 1 | `num` | `unsigned long` | `uint64` | K |'));
    assert.ok(page.includes('| 2 | `turn_on` | `int` | `int32` | K |'));
    assert.ok(page.includes('- **K** — plain value taken from the syscall registers in the kernel.'));
    assert.ok(page.includes('- **TOCTOU** (not used here) —'));
    assert.ok(page.includes('| architectures | x86 only: `x86_64`, `i386` |'));
    assert.ok(page.includes('`syscalls:sys_enter_ioperm` and `syscalls:sys_exit_ioperm` tracepoints, enabled in a private tracefs instance'));
    assert.ok(page.includes('filtered in the kernel to `id == 101`'));
    assert.ok(page.includes('`syscalls:sys_enter_ptrace` as a marker'));
    assert.ok(page.includes('BPF program on the `sys_enter` and `sys_exit` raw tracepoints (`raw_syscalls`; attached as BTF-typed `tp_btf`'));
    assert.ok(page.includes('keeps 64-bit calls with `id == 173` and, when the thread\'s `TS_COMPAT` status bit marks a 32-bit call, those with `id == 101`'));
    assert.ok(page.includes('`CONFIG_X86_IOPL_IOPERM`: without it, calls return -ENOSYS (-38)'));
    assert.ok(page.includes('- [iopl](iopl.md): Changes the I/O privilege level of the calling thread.'));
    assert.ok(page.includes('## Detections that use it\n\n- `WP-001` I/O port access granted\n'));
  });

  it('each page lists exactly the built-in signatures that read the event, or says none', () => {
    for (const e of EVENTS) {
      const using = builtinSignatures().filter((s) => s.events.includes(e.name));
      const section = pageFor(e).split('## Detections that use it\n\n')[1].split('\n\n')[0];
      assert.equal(section, using.length ? using.map((s) => `- \`${s.metadata.id}\` ${s.metadata.name}`).join('\n') : 'None yet.', e.name);
    }
    assert.ok(builtinSignatures().some((s) => s.events.includes('iopl')), 'some signature reads iopl');
  });

  it('no page mentions kprobes, and every page embeds its captured example lines verbatim', () => {
    for (const e of EVENTS) {
      const page = pageFor(e);
      assert.doesNotMatch(page, /kprobe/i, e.name);
      assert.doesNotMatch(page, /\bftrace\b/i, e.name); // the seed's "Kprobes + ftrace"
      const ex = EXAMPLES[e.name];
      assert.ok(ex, `an example for ${e.name}`);
      assert.ok(ex.table.length >= 2 && ex.json.length === 1);
      for (const line of [...ex.table, ...ex.json]) assert.ok(page.includes(`\n${line}\n`), `${e.name} page holds ${line.slice(0, 60)}`);
      assert.equal(JSON.parse(ex.json[0]).eventName, e.name);
    }
  });

  it('events without an i386 entry or with detections are described as such', () => {
    const e = { ...findEvent('userfaultfd')!, compatNr: undefined };
    const page = eventPage(e, { detections: [{ id: 'WP-1', name: 'user-mode fault handler', events: ['userfaultfd'] }, { id: 'WP-2', name: 'other', events: ['ioperm'] }] });
    assert.ok(page.includes('no i386 entry'));
    assert.ok(!page.includes('raw_syscalls:sys_enter` /'));
    assert.ok(page.includes('## Detections that use it\n\n- `WP-1` user-mode fault handler\n\n'));
    assert.ok(!page.includes('WP-2'));
    assert.ok(page.includes('No captured example yet.'));
  });
});
