import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { addFlag } from '../../src/cli/program.js';
import { quickTraceFlags, TRACE_FLAGS } from '../../src/cli/trace-flags.js';

/** What commander makes of trace's flags: the reference the quick reading must match. */
function commanderReads(args: string[]): Record<string, unknown> {
  const cmd = new Command().exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  for (const f of TRACE_FLAGS) addFlag(cmd, f);
  cmd.parse(args, { from: 'user' });
  return { ...cmd.opts() };
}

const READ_ALIKE: string[][] = [
  [],
  ['-e', 'ioperm'],
  ['-e', 'ioperm', '-e', 'iopl', '-o', 'json', '--scope', 'pid=1', '-s', 'uid=0'],
  ['--events=ioperm,iopl', '-ojson', '-eiopl'],
  ['-e', ''],
  ['--no-compat'],
  ['--compat', 'on', '--no-compat'],
  ['--no-compat', '--compat', 'on'],
  ['--compat=off', '--backend', 'tracefs'],
  ['--buffer-kb', '64', '--buffer-kb', '128'],
  ['--no-detect', '--detect-only'],
  ['--finding-window', '0'],
  ['--finding-window', '5', '--no-finding-window'],
  ['--no-finding-window', '--finding-window', '5'],
  ['--kill', 'iopl.data.level=3', '--kill', 'ioperm.scope.container', '--enforce'],
  ['--rules', 'a.yaml', '--rules', 'b.yaml', '--allow-hw-tool', '/usr/bin/x', '--policy', 'p.yaml'],
  ['--explain', '--parse-arguments', '--metrics', '9464'],
];

// what the quick reading leaves to commander, which then reads them (and words the mistakes) as it always did
const LEFT_TO_COMMANDER: string[][] = [['--help'], ['-h'], ['list'], ['trace', '-e', 'ioperm'], ['--nope'], ['-e'], ['-e', '-ioctl'], ['--backend', 'bogus'], ['--', '-e'], ['--explain=1'], ['foo'], ['--finding-window', '-1']];

describe('trace flags read without commander', () => {
  it('reads every trace flag as commander does: values in order, repeats collected, the last of --x and --no-x winning', () => {
    for (const args of READ_ALIKE) assert.deepEqual({ ...quickTraceFlags(args) }, commanderReads(args), args.join(' '));
  });

  it('leaves commands, help, unknown flags, missing, dash-led and unoffered values to commander', () => {
    for (const args of LEFT_TO_COMMANDER) assert.equal(quickTraceFlags(args), undefined, args.join(' '));
  });

  it("throws a bad value's usage error as commander's reading does", () => {
    for (const args of [['--buffer-kb', 'x'], ['--finding-window', 'soon'], ['--buffer-kb', 'x', '--buffer-kb', '8']]) {
      assert.throws(() => quickTraceFlags(args), (e: Error) => {
        assert.throws(() => commanderReads(args), { name: 'UsageError', message: e.message });
        return e.name === 'UsageError';
      });
    }
  });
});
