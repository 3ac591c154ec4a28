import { Command, Help, Option } from 'commander';
import { EnvironmentError, UsageError } from '../model/errors.js';
import { listCommand } from './list.js';
import { outputUsage } from '../sinks/registry.js';
import { guardSignals } from '../pipeline/cleanup.js';
import { traceCommand } from './trace-command.js';
import type { CompatMode } from '../trace.js';
import { DEFAULT_WINDOW_SECONDS } from '../detect/finding-window.js';
import { DEFAULT_BACKLOG_MB } from '../probes/backlog.js';

function fail(err: unknown): never {
  if (err instanceof UsageError) {
    process.stderr.write(`watchpost: ${err.message}\n`);
    process.exit(2);
  }
  if (err instanceof EnvironmentError) {
    process.stderr.write(`watchpost: ${err.message}\n`);
    process.exit(1);
  }
  const e = err as Error;
  process.stderr.write(`watchpost: ${e?.message ?? String(err)}\n`);
  if (process.env.WATCHPOST_DEBUG) process.stderr.write(`${e?.stack ?? ''}\n`);
  process.exit(1);
}

guardSignals(); // from the first line on: a signal during start-up must not kill us with kernel state half made
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);

const FINDING_WINDOW_HELP = `a finding repeated (same signature, process, arguments) within this many seconds prints once, then as one summary with the count (default ${DEFAULT_WINDOW_SECONDS}; 0: every finding)`;

function windowSeconds(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`--finding-window ${v}: expected seconds >= 0 (e.g. 10; 0 prints every finding)`);
  return n;
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

const traceCli = program
  .command('trace', { isDefault: true })
  .description('trace events system-wide until Ctrl-C (the default command)')
  .option('-e, --events <expr>', 'events and filters, Tracee syntax: ioperm,iopl | io* | -ioctl | ioperm.data.turn_on=1 | ioperm.retval!=0 | ioperm.scope.comm=x (repeatable)', (v: string, prev: string[] = []) => prev.concat(v))
  .option('-s, --scope <expr>', 'who to trace, Tracee syntax: uid=0 | pid=1234 | pid=new | tree=1 | comm=bash | executable=/usr/bin/x | container | not-container | container=ID | mntns=N | pidns=N | follow (repeatable: AND)', (v: string, prev: string[] = []) => prev.concat(v))
  .option('--policy <path>', 'Tracee Policy YAML file or directory (repeatable; instead of -e/--scope)', (v: string, prev: string[] = []) => prev.concat(v))
  .option('--explain', 'print each filter condition and where it runs (kernel or user space), then exit')
  .option('-o, --output <spec>', `where events go (repeatable): ${outputUsage()}`, (v: string, prev: string[] = []) => prev.concat(v))
  .addOption(
    new Option(
      '--compat <mode>',
      '32-bit (int $0x80) callers. auto: caught where this kernel runs 32-bit syscalls at all (found out at start), else the cheaper 64-bit-only hooks, said on stderr; on: always; off: 64-bit callers only (32-bit ones then evade). Catching them hooks every syscall\'s entry (eBPF: +130-190 ns each on the dev VM, against +40-70 ns for the selected tracepoints); see README',
    )
      .choices(['auto', 'on', 'off'])
      .default('auto'),
  )
  .option('--no-compat', 'the same as --compat off')
  .addOption(new Option('--backend <name>', 'auto: eBPF where BPF and BTF work, else tracefs (says which on stderr)').choices(['auto', 'ebpf', 'tracefs']).default('auto'))
  .option('--parse-arguments', 'replace raw argument values by their decoded names in JSON (ioctl request, flags), as Tracee does; the table always shows names')
  .option('--buffer-kb <n>', 'per-CPU kernel buffer in KiB', (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 4) throw new UsageError(`--buffer-kb ${v}: expected a whole number of KiB >= 4`);
    return n;
  })
  .option('--backlog-mb <n>', `memory that holds kernel records while a burst outpaces the pipeline, in MiB (default ${DEFAULT_BACKLOG_MB}; 0: none, the kernel buffer alone)`, (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`--backlog-mb ${v}: expected a whole number of MiB >= 0`);
    return n;
  })
  .option('--metrics <addr>', 'serve Prometheus metrics at HOST:PORT (e.g. 127.0.0.1:9464; a bare PORT binds 127.0.0.1)')
  .option('--detect-only', 'print only findings of the detections (they still see every event they need)')
  .option('--no-detect', 'run no detections: events only, and only the events asked for')
  .option('--rules <file>', 'YAML detection rules: CEL conditions over the event (repeatable; see docs/detections.md)', (v: string, prev: string[] = []) => prev.concat(v))
  .option('--allow-hw-tool <path>', 'a hardware tool allowed raw I/O port access without a WP-005 finding, and never killed by a kill rule (repeatable)', (v: string, prev: string[] = []) => prev.concat(v))
  .option('--finding-window <seconds>', FINDING_WINDOW_HELP, windowSeconds)
  .option('--no-finding-window', 'every finding printed: the same as --finding-window 0')
  .option('--kill <expr>', 'kill the caller of matching calls, decided in the kernel at syscall entry (eBPF), -e grammar: iopl.data.level=3 | ioperm.scope.container | userfaultfd.scope.uid>=1000 (repeatable; a dry run without --enforce; see docs/enforcement.md)', (v: string, prev: string[] = []) => prev.concat(v))
  .option('--enforce', 'arm the kill rules (--kill and policy rules with actions: [kill]); without it they only report `would kill`')
  .action(async (opts: { events?: string[]; scope?: string[]; policy?: string[]; explain?: boolean; output?: string[]; compat: CompatMode | false; bufferKb?: number; backlogMb?: number; backend: 'auto' | 'ebpf' | 'tracefs'; metrics?: string; kill?: string[]; enforce?: boolean }) => {
    try {
      await traceCommand({ ...opts, output: opts.output ?? [], compat: opts.compat === false ? 'off' : opts.compat });
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
  .option('--finding-window <seconds>', FINDING_WINDOW_HELP, windowSeconds)
  .option('--no-finding-window', 'every finding printed: the same as --finding-window 0')
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

program.parseAsync(process.argv).catch(fail);
