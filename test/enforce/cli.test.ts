import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ebpfSupport } from '../../src/probes/ebpf/probe.js';
import { CLI, startCli } from '../support/cli.js';
import { expectKilled, helperCopy } from './caller.js';

after(() => rmSync(join(tmpdir(), `wp-enforce-${process.pid}`), { recursive: true, force: true })); // the helper copies

/** `watchpost --kill/--enforce` and `actions: [kill|deny]`: one-line errors, and a kill seen on every output. */

const watchpost = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });
const dir = mkdtempSync(join(tmpdir(), 'wp-kill-cli-'));
const policyFile = (name: string, body: string): string => {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, `apiVersion: tracee.aquasec.com/v1beta1\nkind: Policy\nmetadata:\n  name: ${name}\nspec:\n${body}`);
  return path;
};

describe('kill rules the kernel cannot enforce: one line, exit 2', { timeout: 60_000 }, () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['a return value', ['--kill', 'ioperm.retval=0'], /retval=0 cannot be evaluated in the kernel at syscall entry \(the return value exists only after the call\)/],
    ['an executable path', ['--kill', 'iopl.scope.executable=/usr/bin/x'], /executable=\/usr\/bin\/x cannot be evaluated in the kernel/],
    ['a comm pattern', ['--kill', 'iopl.scope.comm=bash*'], /comm=bash\* cannot be evaluated in the kernel at syscall entry \(comm patterns/],
    ['the tracefs backend', ['--kill', 'iopl.data.level=3', '--backend', 'tracefs', '--enforce'], /--backend tracefs cannot enforce: .*use --backend ebpf or auto/],
    ['--enforce without a kill rule', ['--enforce', '-e', 'iopl'], /--enforce: no rule to enforce; add --kill EXPR or a policy rule with actions: \[kill\]/],
    ['follow in a kill policy', ['--policy', policyFile('follow', '  scope:\n    - comm=bash\n    - follow\n  rules:\n    - event: iopl\n      actions: [kill]\n')], /scope follow cannot be evaluated in the kernel/],
  ];
  for (const [what, args, message] of cases) {
    it(`refuses ${what}`, () => {
      const r = watchpost(args);
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, message);
    });
  }
});

const support = ebpfSupport();
const skip = process.getuid?.() !== 0 ? 'needs root to trace' : support.ok ? false : `needs eBPF: ${support.reason}`;

describe('deny where BPF LSM programs cannot load (eBPF)', { skip, timeout: 60_000 }, () => {
  it('doctor says whether deny works here, and why not', async () => {
    const { checkDeny } = await import('../../src/doctor/deny.js');
    const { probeLsm } = await import('../../src/probes/ebpf/lsm.js');
    const r = await checkDeny();
    assert.equal(r.name, 'enforcement (deny)');
    assert.equal(r.status, 'ok', 'a kernel without deny can still trace and kill: not a fault');
    if (probeLsm('locked_down').ok) assert.match(r.detail, /^BPF LSM programs attach/);
    else assert.match(r.detail, /^deny is unavailable: .*(errno \d+|not active|cannot read|no bpf_lsm_).*Kill rules work/);
    process.stderr.write(`# doctor: ${r.status} ${r.detail}\n`);
  });

  it('is one line naming the rule and the reason, and exit 1 (or runs where the kernel allows it)', async () => {
    const { probeLsm } = await import('../../src/probes/ebpf/lsm.js');
    const lsm = probeLsm('locked_down');
    const r = watchpost(['--policy', policyFile('deny-iopl', '  scope:\n    - global\n  rules:\n    - event: iopl\n      actions: [deny]\n')]);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    if (lsm.ok) assert.match(r.stderr, /deny is not implemented yet/);
    else assert.match(r.stderr, /deny rule "iopl" of policy deny-iopl .*: deny needs BPF LSM programs, which this kernel refuses \(.*\); use actions: \[kill\]/);
    process.stderr.write(`# deny here: ${lsm.ok ? 'BPF LSM attaches' : lsm.reason}\n`);
  });
});

describe('watchpost --kill --enforce (eBPF)', { skip, timeout: 120_000 }, () => {
  it('kills the caller and shows the kill on JSON, in the summary and in the metrics', async () => {
    const K = `wpc${process.pid}`;
    const exe = helperCopy(`wp-enforce-${process.pid}`, K);
    const cli = await startCli(['--kill', 'ioperm.data.from=0x64', '--kill', `ioperm.scope.comm=${K}`, '--enforce', '-o', 'json', '--metrics', '127.0.0.1:0']);
    let pid = 0;
    try {
      pid = await expectKilled(['ioperm:0x64:1:1', 'ioperm:0x70:1:1'], { exe });
      const url = /metrics at (\S+);/.exec(cli.stderr())![1];
      let metrics = '';
      for (let i = 0; i < 100 && !metrics.includes('action="killed"'); i++) {
        await new Promise((r) => setTimeout(r, 20));
        metrics = await (await fetch(url)).text();
      }
      assert.match(metrics, /^watchpost_enforcements_total\{action="killed",policy="kill"\} 1$/m);
    } finally {
      await cli.stop();
    }
    const events = cli.stdout().trim().split('\n').map((l) => JSON.parse(l) as { eventName: string; hostProcessId: number; args: Array<{ name: string; value: unknown }> });
    const finding = events.find((e) => e.eventName === 'enforcement' && e.hostProcessId === pid);
    assert.ok(finding, 'no enforcement finding on the JSON output');
    assert.deepEqual(Object.fromEntries(finding.args.map((a) => [a.name, a.value])), { action: 'killed', rule: `ioperm data.from=0x64 comm=${K}`, policy: 'kill' });
    assert.match(cli.stderr(), /"enforcements":\{"killed":\{"kill":1\},"would kill":\{\}\}/);
    assert.match(cli.stderr(), /^watchpost: 1 kill rule armed: matching callers get SIGKILL at syscall entry$/m);
  });
});
