/**
 * Captures the example output of each event page: runs the real CLI (`watchpost -e NAME`, table and `-o json`)
 * while the C helper (test/fixtures/syscaller.c) makes real calls, and keeps the lines the CLI printed for the
 * helper's pid (the trace is system-wide: other processes' lines are left out).
 *   node dist/test/docs/capture-examples.js --write    (root; gcc builds the helper) rewrites src/docs/examples.ts
 * test/docs/examples.test.ts captures again and checks the stored lines still match.
 */
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EventExample } from '../../src/docs/event-page.js';
import { startSyscaller, type ObservedCall } from '../support/syscaller.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const CLI = join(HERE, '../../src/cli/main.js');

/** The helper's commands per event: distinctive args, and a 32-bit call where the syscall has one. */
export const EXAMPLE_CALLS: Readonly<Record<string, readonly string[]>> = {
  ioperm: ['ioperm:0x378:3:1', 'ioperm32:0x64:1:1'],
  iopl: ['iopl:3', 'iopl32:3'],
  ioctl: ['ioctl:0:0x5413:0', 'ioctl32:0:0x5413:0'],
  perf_event_open: ['perf_event_open:0:-1:0:-1:8'],
  userfaultfd: ['userfaultfd:0x800'],
};

interface CliRun {
  command: string;
  backend: string;
  lines: string[];
  calls: ObservedCall[];
}

/** The PID column of a table row, at the position the header gives it. */
function rowPid(header: string, row: string): number {
  const at = header.indexOf(' PID ') + 1;
  return Number(row.slice(at, header.indexOf(' TID ') + 1).trim());
}

/** The EVENT column of a table row. */
function rowEvent(header: string, row: string): string {
  return row.slice(header.indexOf(' EVENT ') + 1, header.indexOf(' ARGS') + 1).trim();
}

/** The helper's `name` events in the CLI's stdout so far (findings left out): the table header and rows, or JSON lines. */
function helperLines(out: string, pid: number, name: string, json: boolean): string[] {
  const lines = out.split('\n').slice(0, -1);
  if (json) {
    return lines.filter((l) => {
      const e = JSON.parse(l) as { processId: number; eventName: string };
      return e.processId === pid && e.eventName === name;
    });
  }
  if (lines.length === 0) return [];
  const [header, ...rows] = lines;
  return [header, ...rows.filter((r) => rowPid(header, r) === pid && [name, `${name}(32)`].includes(rowEvent(header, r)))];
}

/** Starts the CLI (system-wide) and the helper, lets the helper call, and returns the CLI's lines for the helper. */
async function runCli(name: string, extra: string[]): Promise<CliRun> {
  const args = ['-e', name, ...extra];
  const json = extra.includes('json');
  const cli = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => cli.once('exit', () => resolve()));
  let out = '';
  let err = '';
  cli.stdout.on('data', (d: Buffer) => (out += d));
  const sc = await startSyscaller([...EXAMPLE_CALLS[name]]);
  try {
    await new Promise<void>((resolve, reject) => {
      cli.stderr.on('data', (d: Buffer) => {
        err += d;
        if (err.includes('tracing with')) resolve();
      });
      void exited.then(() => reject(new Error(`watchpost ${args.join(' ')} exited: ${err}`)));
    });
    const calls = await sc.go();
    const want = calls.length + (json ? 0 : 1);
    const deadline = Date.now() + 10_000;
    while (helperLines(out, sc.pid, name, json).length < want) {
      if (Date.now() > deadline) throw new Error(`watchpost ${args.join(' ')}: ${want} lines expected for pid ${sc.pid}, got:\n${out}${err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    cli.kill('SIGINT');
    await exited;
    const backend = /tracing with (\w+)/.exec(err)?.[1] ?? 'unknown';
    return { command: `watchpost ${args.join(' ')}`, backend, lines: helperLines(out, sc.pid, name, json), calls };
  } finally {
    cli.kill('SIGINT');
    await exited;
    await sc.end();
  }
}

/** What the CLI prints for the event's calls, as table and as JSON lines. */
export async function captureExample(name: string): Promise<EventExample> {
  const table = await runCli(name, []);
  const json = await runCli(name, ['-o', 'json']);
  if (json.lines.length !== json.calls.length || table.lines.length !== table.calls.length + 1) {
    throw new Error(`${name}: the helper made ${json.calls.length} calls; the CLI printed ${json.lines.length} JSON lines and ${table.lines.length - 1} rows for it`);
  }
  for (const [i, line] of json.lines.entries()) {
    const ev = JSON.parse(line) as { eventName: string; returnValue: number };
    if (ev.eventName !== name || ev.returnValue !== json.calls[i].ret) throw new Error(`${name}: line ${i} is not call ${i}: ${line}`);
  }
  return {
    kernel: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(),
    backend: table.backend,
    calls: EXAMPLE_CALLS[name],
    tableCommand: table.command,
    table: table.lines,
    jsonCommand: json.command,
    json: json.lines.slice(0, 1),
  };
}

async function writeExamples(): Promise<void> {
  const out: Record<string, EventExample> = {};
  for (const name of Object.keys(EXAMPLE_CALLS)) out[name] = await captureExample(name);
  const file = join(HERE, '../../../src/docs/examples.ts');
  const text =
    `// Captured by \`node dist/test/docs/capture-examples.js --write\` (as root, after \`npx tsc -p .\`), on ${new Date().toISOString().slice(0, 10)}:\n` +
    '// the CLI traced the system while the test helper test/fixtures/syscaller.c made each call below, and these are the\n' +
    "// lines the CLI printed for the helper's pid. test/docs/examples.test.ts re-captures and compares. Do not edit by hand.\n" +
    "import type { EventExample } from './event-page.js';\n\n" +
    `export const EXAMPLES: Readonly<Record<string, EventExample>> = ${JSON.stringify(out, null, 2)};\n`;
  writeFileSync(file, text);
  process.stdout.write(`wrote ${file}\n`);
}

if (process.argv.includes('--write')) await writeExamples();
