/**
 * Captures the example output of each event page: traces the C helper (test/fixtures/syscaller.c) making real calls
 * and keeps what Watchpost's table and JSON printers print for them.
 *   node dist/test/docs/capture-examples.js --write    (root; gcc builds the helper) rewrites src/docs/examples.ts
 * test/docs/examples.test.ts captures again and checks the stored lines still match.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EventExample } from '../../src/docs/event-page.js';
import { eventToJson } from '../../src/sinks/json.js';
import { TABLE_HEADER, eventToRow } from '../../src/sinks/table.js';
import { trace, type SyscallEvent } from '../../src/trace.js';
import { collectAll } from '../support/collect.js';
import { startSyscaller } from '../support/syscaller.js';

/** The helper's commands per event: distinctive args, and a 32-bit call where the syscall has one worth showing. */
export const EXAMPLE_CALLS: Readonly<Record<string, readonly string[]>> = {
  ioperm: ['ioperm:0x378:3:1', 'ioperm32:0x64:1:1'],
  iopl: ['iopl:3', 'iopl32:3'],
  ioctl: ['ioctl:0:0x5413:0', 'ioctl32:0:0x5413:0'],
  perf_event_open: ['perf_event_open:0:-1:0:-1:8'],
  userfaultfd: ['userfaultfd:0x800'],
};

export interface Captured {
  events: SyscallEvent[];
  example: EventExample;
}

/** Runs the helper under `trace({ events: [name], pids })` and returns one event per call, in call order. */
export async function captureExample(name: string): Promise<Captured> {
  const calls = EXAMPLE_CALLS[name];
  const sc = await startSyscaller([...calls]);
  let events: SyscallEvent[];
  try {
    const t = trace({ events: [name], pids: [sc.pid] });
    await t.ready;
    const observed = await sc.go();
    events = (await collectAll(t, 400)).sort((a, b) => a.timestamp - b.timestamp);
    if (events.length !== observed.length) {
      throw new Error(`${name}: the helper made ${observed.length} calls, Watchpost reported ${events.length}`);
    }
    events.forEach((e, i) => {
      if (e.returnValue !== observed[i].ret) throw new Error(`${name}: call ${i} returned ${observed[i].ret}, reported ${e.returnValue}`);
    });
    const backend = t.backend;
    const example: EventExample = {
      kernel: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(),
      backend,
      calls,
      table: [TABLE_HEADER.trimEnd(), ...events.map(eventToRow)],
      json: [eventToJson(events[0])],
    };
    return { events, example };
  } finally {
    await sc.end();
  }
}

async function writeExamples(): Promise<void> {
  const out: Record<string, EventExample> = {};
  for (const name of Object.keys(EXAMPLE_CALLS)) out[name] = (await captureExample(name)).example;
  const file = join(dirname(fileURLToPath(import.meta.url)), '../../../src/docs/examples.ts');
  const text =
    `// Captured by \`node dist/test/docs/capture-examples.js --write\` (as root, after \`npx tsc -p .\`), on ${new Date().toISOString().slice(0, 10)}:\n` +
    '// the test helper test/fixtures/syscaller.c made each call below while Watchpost traced its pid, and these are the lines\n' +
    "// Watchpost's table and JSON printers produced. test/docs/examples.test.ts re-captures and compares. Do not edit by hand.\n" +
    "import type { EventExample } from './event-page.js';\n\n" +
    `export const EXAMPLES: Readonly<Record<string, EventExample>> = ${JSON.stringify(out, null, 2)};\n`;
  writeFileSync(file, text);
  process.stdout.write(`wrote ${file}\n`);
}

if (process.argv.includes('--write')) await writeExamples();
