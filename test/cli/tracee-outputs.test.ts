import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CLI, startCli, type RunningCli } from '../support/cli.js';
import { startSyscaller, type ObservedCall } from '../support/syscaller.js';
import { waitFor } from '../sinks/support/events.js';
import { tempDir } from '../sinks/support/servers.js';

/** `watchpost ARGS` to its end (usage errors exit before tracing starts). */
function run(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts the CLI on the helper's pid alone, lets the helper make its calls, stops the CLI (also when something failed). */
async function traceHelper(
  commands: string[],
  args: string[],
  seen: (cli: RunningCli) => boolean = () => true,
): Promise<{ cli: RunningCli; code: number | null; calls: ObservedCall[] }> {
  const sc = await startSyscaller(commands);
  let cli: RunningCli | undefined;
  try {
    cli = await startCli([...args, '-s', `pid=${sc.pid}`]);
    const calls = await sc.go();
    await waitFor('the calls to be printed', () => (seen(cli!) ? true : undefined), 10_000);
    return { cli, code: await cli.stop(), calls };
  } finally {
    if (cli?.child.exitCode === null) await cli.stop();
    await sc.end();
  }
}

function jsonLines(text: string): Array<Record<string, any>> {
  return text
    .split('\n')
    .slice(0, -1) // complete lines only
    .map((l) => JSON.parse(l) as Record<string, any>);
}

describe('-o forms Tracee users type: refused ones in one line, exit 2, before tracing', { timeout: 60_000 }, () => {
  const refused: Array<[string[], RegExp]> = [
    [['-o', 'bogus', '--explain'], /^watchpost: -o bogus: unknown output; use one of table, table-verbose, json, none, json:FILE, .*option:NAME$/],
    [['-o', 'table:/tmp/x'], /^watchpost: -o table:\/tmp\/x: the table goes to stdout only; use -o json:\/tmp\/x for a file/],
    [['-o', 'table-verbose:/tmp/x'], /the table goes to stdout only/],
    [['-o', 'gob:/tmp/x'], /^watchpost: -o gob:\/tmp\/x: not supported: gob is Go's own encoding, for Go programs; use -o json$/],
    [['-o', 'gotemplate=/t.tmpl'], /^watchpost: -o gotemplate=\/t\.tmpl: not supported: .*use -o json/],
    [['-o', 'forward:tcp://127.0.0.1:24224?tag=tracee'], /not supported: Fluent Forward .*use -o webhook:URL/],
    [['-o', 'option:stack-addresses'], /^watchpost: -o option:stack-addresses: not supported: neither backend captures user stacks/],
    [['-o', 'option:exec-env'], /not supported: neither backend reads user memory/],
    [['-o', 'option:exec-hash=dev-inode'], /^watchpost: -o option:exec-hash=dev-inode: not supported: Watchpost traces syscalls, not sched_process_exec/],
    [['-o', 'option:parse-arguments-fds'], /not supported: .*use option:parse-arguments/],
    [['-o', 'option:sort-events'], /not supported: .*not re-sorted by timestamp; sort downstream/],
    [['-o', 'option:parse-arguments,bogus'], /^watchpost: -o option:parse-arguments,bogus: unknown option "bogus"; known: parse-arguments, relative-time/],
    [['-o', 'option:relative-time=1'], /option:relative-time takes no value/],
    [['-o', 'none', '-o', 'json', '--explain'], /^watchpost: -o none: cannot be combined with other outputs \(json\); drop one$/],
    [['-o', 'json:/nonexistent-dir-wp/a,/tmp/b'], /^watchpost: -o json:\/nonexistent-dir-wp\/a: the directory does not exist/],
  ];
  for (const [args, message] of refused) {
    it(`watchpost ${args.join(' ')}`, () => {
      const r = run(args);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr.split('\n').length, 2, `one line: ${r.stderr}`);
      assert.match(r.stderr.trim(), message);
      assert.equal(r.stdout, '');
    });
  }

  it('--explain accepts every form it would trace with (none, table-verbose, option lists, json file lists) and opens nothing', () => {
    const dir = tempDir('explain');
    try {
      for (const out of [['none'], ['table-verbose', 'option:parse-arguments,relative-time'], [`json:${join(dir, 'a')},${join(dir, 'b')}`]]) {
        const r = run(['-e', 'ioperm', '--explain', ...out.flatMap((o) => ['-o', o])]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /ioperm/);
      }
      assert.throws(() => readFileSync(join(dir, 'a')), /ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('replay refuses option: forms (they change events as they are traced)', () => {
    const r = run(['replay', '-o', 'option:parse-arguments', '/dev/null']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^watchpost: -o option:parse-arguments: output options change events as they are traced; replay prints a recording's values as they are\n$/);
  });
});

describe('-o forms Tracee users type: accepted ones do what they say (live, the helper traced by pid)', { timeout: 120_000 }, () => {
  it('-o none prints no events, and the summary counts them', async () => {
    const { cli, code, calls } = await traceHelper(['ioperm:0x378:3:1', 'ioperm:0x80:1:0'], ['-e', 'ioperm', '-o', 'none']);
    assert.equal(code, 0);
    assert.equal(calls.length, 2);
    assert.equal(cli.stdout(), '');
    assert.match(cli.stderr().trim().split('\n').pop()!, /^watchpost: ioperm 2 delivered, 0 lost;/);
  });

  it('-o table-verbose adds UTS_NAME CONTAINER_ID MNT_NS PID_NS PPID; json:A,B writes both files', async () => {
    const dir = tempDir('verbose');
    const files = [join(dir, 'a.jsonl'), join(dir, 'b.jsonl')];
    try {
      const { cli, code, calls } = await traceHelper(['ioperm:0x378:3:1'], ['-e', 'ioperm', '--no-detect', '-o', 'table-verbose', '-o', `json:${files.join(',')}`], (c) =>
        c.stdout().includes(' ioperm '),
      );
      assert.equal(code, 0);
      const [header, row] = cli.stdout().split('\n');
      assert.match(header, /^TIME +UTS_NAME +CONTAINER_ID +MNT_NS +PID_NS +UID +COMM +PID +TID +PPID +RET +EVENT +ARGS$/);
      const mntns = /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/mnt'))![1];
      const pidns = /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))![1];
      const cols = row.split(/ +/);
      // TIME UTS_NAME (no container: the column is blank) MNT_NS PID_NS UID COMM PID TID PPID RET…
      assert.deepEqual([cols[2], cols[3], cols[7], cols[8]], [mntns, pidns, String(calls[0].tid), String(process.pid)], row);
      assert.match(row, /ioperm +from: 0x378, num: 3, turn_on: 1/);
      for (const f of files) {
        const events = jsonLines(readFileSync(f, 'utf8'));
        assert.deepEqual(
          events.map((e) => [e.eventName, e.hostProcessId]),
          [['ioperm', calls[0].tid]],
          f,
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('-o json -o option:parse-arguments,relative-time: decoded names as argument values, timestamps since boot', async () => {
    const { cli, code, calls } = await traceHelper(['ioctl:0:0x5413:0'], ['-e', 'ioctl', '--no-detect', '-o', 'json', '-o', 'option:parse-arguments,relative-time'], (c) =>
      c.stdout().includes('"ioctl"'),
    );
    const uptimeNs = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 1e9;
    assert.equal(code, 0);
    const [ev] = jsonLines(cli.stdout());
    assert.equal(ev.returnValue, calls[0].ret);
    assert.deepEqual(ev.args.find((a: any) => a.name === 'request'), { name: 'request', type: 'uint64', value: 'TIOCGWINSZ' });
    assert.ok(ev.timestamp > 0 && ev.timestamp <= uptimeNs, `${ev.timestamp} ns is not a time since boot (uptime ${uptimeNs} ns)`);
    assert.ok(uptimeNs - ev.timestamp < 60e9, 'the call was made within the last minute');
  });
});
