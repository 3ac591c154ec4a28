import { Command, Help, Option } from 'commander';
import { listCommand } from './list.js';
import { outputUsage } from '../sinks/registry.js';
import { fail } from './fail.js';
import { traceCommand } from './trace-command.js';
import { FINDING_WINDOW_FLAG, NO_FINDING_WINDOW_FLAG, TRACE_FLAGS, traceOptionsOf, type Flag, type TraceFlagValues, windowSeconds } from './trace-flags.js';

/** Adds a flag of the table to a command, as commander takes it (a repeatable flag collects its values). */
export function addFlag(cmd: Command, f: Flag): void {
  if (f.choices || f.default !== undefined) {
    const o = new Option(f.flags, f.description);
    if (f.choices) o.choices(f.choices);
    if (f.default !== undefined) o.default(f.default);
    cmd.addOption(o);
  } else if (f.repeatable) {
    const parse = f.parse ?? ((v: string) => v);
    cmd.option(f.flags, f.description, (v: string, prev: unknown[] = []) => prev.concat(parse(v)));
  } else if (f.parse) {
    cmd.option(f.flags, f.description, f.parse);
  } else {
    cmd.option(f.flags, f.description);
  }
}

const program = new Command()
  .name('watchpost')
  .usage('[trace options]          (trace, the default command)\n       watchpost <command> [options]')
  .description('Trace the syscalls that reach for hardware and kernel internals (ioperm, iopl, ioctl, perf_event_open, userfaultfd), system-wide.')
  .showSuggestionAfterError()
  .exitOverride((err) => {
    if (err.exitCode === 0) process.exit(0);
    process.exit(2);
  });

const traceCli = program.command('trace', { isDefault: true }).description('trace events system-wide until Ctrl-C (the default command)');
for (const f of TRACE_FLAGS) addFlag(traceCli, f);
traceCli.action(async (opts: TraceFlagValues) => {
  try {
    await traceCommand(traceOptionsOf(opts));
  } catch (err) {
    fail(err);
  }
});

// `watchpost --help` shows the flags of trace too: `watchpost -e ioperm` runs trace, so they are the program's flags
for (const o of traceCli.options) o.helpGroup('Trace options:');
program.configureHelp({
  visibleOptions(cmd) {
    const own = Help.prototype.visibleOptions.call(this, cmd);
    return cmd === program ? [...Help.prototype.visibleOptions.call(this, traceCli).filter((o) => o.long !== '--help'), ...own] : own;
  },
});

program
  .command('list')
  .description('print the event catalog: names, syscall numbers, sets, arguments')
  .option('--all', 'every syscall with a kernel tracepoint, not only the ioperm family')
  .action((opts: { all?: boolean }) => listCommand(opts.all));

program
  .command('describe')
  .argument('<event>', 'event name (see `watchpost list`)')
  .description("print an event's page: args and their types, how it is hooked, kernel requirements, a real example")
  .option('--markdown', 'print the page as Markdown (what it prints when stdout is not a terminal)')
  .action(async (event: string, opts: { markdown?: boolean }) => {
    try {
      (await import('./describe.js')).describeCommand(event, opts);
    } catch (err) {
      fail(err);
    }
  });

program
  .command('doctor')
  .description('check this machine (root, tracefs, BPF, BTF, kernel options, lockdown, catalog) and prove tracing with a live round trip per backend')
  .option('-e, --events <list>', 'events to check (default: the whole catalog)', (v: string, prev: string[] = []) => prev.concat(v.split(',').filter(Boolean)))
  .action(async (opts: { events?: string[] }) => {
    try {
      process.exitCode = await (await import('./doctor.js')).doctorCommand(opts);
    } catch (err) {
      fail(err);
    }
  });

program
  .command('replay')
  .argument('<file>', 'JSON lines from -o json / -o json:FILE, or from tracee -o json; - reads stdin')
  .description('run the detections on a recording and print their findings (no root needed)')
  .option('-o, --output <spec>', `where findings go (repeatable): ${outputUsage()}`, (v: string, prev: string[] = []) => prev.concat(v))
  .option('--rules <file>', 'YAML detection rules (repeatable)', (v: string, prev: string[] = []) => prev.concat(v))
  .option('--allow-hw-tool <path>', 'a hardware tool allowed raw I/O port access (repeatable)', (v: string, prev: string[] = []) => prev.concat(v))
  .option(FINDING_WINDOW_FLAG.flags, FINDING_WINDOW_FLAG.description, windowSeconds)
  .option(NO_FINDING_WINDOW_FLAG.flags, NO_FINDING_WINDOW_FLAG.description)
  .option('-e, --events <expr>', 'only events these filters select, as for trace (e.g. openat.data.pathname=/tmp*); repeatable', (v: string, prev: string[] = []) => prev.concat(v))
  .option('-s, --scope <expr>', 'only events of this scope, as for trace; repeatable', (v: string, prev: string[] = []) => prev.concat(v))
  .option('--policy <path>', 'only events a Tracee Policy YAML file (or directory) selects; repeatable', (v: string, prev: string[] = []) => prev.concat(v))
  .action(async (file: string, opts: { output?: string[]; rules?: string[]; allowHwTool?: string[]; events?: string[]; scope?: string[]; policy?: string[] }) => {
    try {
      await (await import('./replay.js')).replayCommand(file, { ...opts, output: opts.output ?? [] });
    } catch (err) {
      fail(err);
    }
  });

/** Reads the whole command line (every command, --help, the mistakes) and runs what it names. */
export function runProgram(argv: string[]): void {
  program.parseAsync(argv).catch(fail);
}
