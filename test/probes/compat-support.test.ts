import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { compatProbeProgram, decideCompat, runCompatProbe, type CompatSupport } from '../../src/probes/compat-support.js';
import { fixturePath, ownSyscaller } from '../support/syscaller.js';
import { startCli } from '../support/cli.js';

const MODULE = join(dirname(fileURLToPath(import.meta.url)), '../../src/probes/compat-support.js');

/** What the C compiler's int $0x80 getpid says (the oracle), run directly or under the no32 seccomp wrapper. */
function oracle(wrap: boolean): boolean {
  const exe = fixturePath('syscaller');
  const args = ['--now', 'iopl32:0'];
  const r = wrap ? spawnSync(fixturePath('no32'), [exe, ...args], { stdio: 'pipe' }) : spawnSync(exe, args, { stdio: 'pipe' });
  return r.status === 0 && r.signal === null;
}

/** runCompatProbe() in a fresh node, optionally under the no32 wrapper (a kernel that refuses 32-bit syscalls, as far as it can tell). */
function probeIn(wrap: boolean): CompatSupport {
  const code = `import(${JSON.stringify(MODULE)}).then((m) => process.stdout.write(JSON.stringify(m.runCompatProbe())))`;
  const argv = [process.execPath, '-e', code];
  const out = wrap ? execFileSync(fixturePath('no32'), argv, { encoding: 'utf8' }) : execFileSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  return JSON.parse(out) as CompatSupport;
}

describe('32-bit syscalls: found out, never assumed', { timeout: 60_000 }, () => {
  it('writes a static x86-64 ELF program: one read+exec PT_LOAD segment, entry right after the headers', () => {
    const b = compatProbeProgram();
    assert.deepEqual([...b.subarray(0, 7)], [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
    assert.equal(b.readUInt16LE(16), 2, 'ET_EXEC');
    assert.equal(b.readUInt16LE(18), 0x3e, 'EM_X86_64');
    assert.equal(b.readBigUInt64LE(24), 0x40_0000n + 120n, 'e_entry');
    assert.equal(b.readUInt16LE(56), 1, 'one program header');
    assert.equal(b.readUInt32LE(64), 1, 'PT_LOAD');
    assert.equal(b.readUInt32LE(68), 5, 'R+X');
    assert.equal(b.readBigUInt64LE(64 + 32), BigInt(b.length), 'p_filesz maps the whole file');
    assert.deepEqual([...b.subarray(120, 127)], [0xb8, 20, 0, 0, 0, 0xcd, 0x80], 'mov eax, 20 (i386 getpid); int $0x80');
  });

  it('--compat: auto follows the kernel, on always arms (with a warning where useless), off never arms', () => {
    const yes = (): CompatSupport => ({ ok: true, detail: 'ran' });
    const no = (): CompatSupport => ({ ok: false, detail: 'killed by SIGSEGV' });
    assert.deepEqual(decideCompat('auto', yes), { compat: true });
    assert.equal(decideCompat('auto', no).compat, false);
    assert.match(decideCompat('auto', no).note ?? '', /runs no 32-bit syscalls \(killed by SIGSEGV\): tracing 64-bit callers only/);
    assert.deepEqual(decideCompat('on', yes), { compat: true });
    assert.equal(decideCompat('on', no).compat, true);
    assert.match(decideCompat('on', no).note ?? '', /^--compat on: this kernel runs no 32-bit syscalls/);
    let asked = false;
    assert.deepEqual(decideCompat('off', () => ((asked = true), no())), { compat: false });
    assert.equal(asked, false, 'off runs no probe');
  });

  it('agrees with a compiled int $0x80 program on this kernel', () => {
    const r = runCompatProbe();
    assert.ok(r, 'the probe could run somewhere');
    assert.equal(r.ok, oracle(false), r.detail);
  });

  it('says no, naming the signal, where 32-bit syscalls kill the caller (a seccomp filter refuses them here)', () => {
    assert.equal(oracle(true), false, 'the no32 wrapper refuses int $0x80');
    const r = probeIn(true);
    assert.equal(r.ok, false);
    assert.match(r.detail, /killed by SIGSYS/);
    assert.equal(probeIn(false).ok, oracle(false));
  });

  it('the CLI says in one line that it traces 64-bit callers only, and still reports their calls, on both backends', async () => {
    const helper = ownSyscaller('wpc32'); // a comm of this run's own: other processes' calls stay out
    for (const backend of ['tracefs', 'ebpf']) {
      const cli = await startCli(['--backend', backend, '--no-detect', '-o', 'json', '-s', `comm=${helper.comm}`], { wrap: [fixturePath('no32')] });
      try {
        spawnSync(helper.exe, ['--now', 'ioperm:0x378:3:1'], { stdio: 'ignore' });
        await new Promise((resolve) => setTimeout(resolve, 300));
      } finally {
        assert.equal(await cli.stop(), 0, cli.stderr());
      }
      assert.match(cli.stderr(), /this kernel runs no 32-bit syscalls \(.*SIGSYS.*\): tracing 64-bit callers only/);
      assert.match(cli.stderr(), new RegExp(`tracing with ${backend} \\(64-bit callers only\\)`));
      const events = cli.stdout().trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { eventName: string; args: { value: unknown }[]; contextFlags: { isCompat: boolean } });
      assert.deepEqual(events.map((e) => [e.eventName, e.args.map((a) => a.value), e.contextFlags.isCompat]), [['ioperm', [888, 3, 1], false]], backend);
    }
  });

  it('--compat on where the kernel runs none: a one-line warning, and tracing goes on', async () => {
    const cli = await startCli(['--compat', 'on', '--no-detect', '-o', 'json', '-s', `comm=${ownSyscaller('wpc32').comm}`], { wrap: [fixturePath('no32')] });
    assert.equal(await cli.stop(), 0, cli.stderr());
    assert.match(cli.stderr(), /--compat on: this kernel runs no 32-bit syscalls .*the 32-bit hooks are armed anyway/);
    assert.doesNotMatch(cli.stderr(), /64-bit callers only/);
  });
});
