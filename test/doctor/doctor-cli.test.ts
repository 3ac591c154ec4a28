import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { NO_32BIT } from '../support/kernel-features.js';
import { fileURLToPath } from 'node:url';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');

/** Options set in this kernel's build (=y or =m), read independently of the code under test. */
const CONFIG = new Set(
  (() => {
    try {
      return gunzipSync(readFileSync('/proc/config.gz')).toString('utf8');
    } catch {
      return '';
    }
  })()
    .split('\n')
    .filter((l) => /=[ym]$/.test(l))
    .map((l) => l.split('=')[0]),
);

function run(args: string[], options: { uid?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { uid: options.uid, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('watchpost doctor on this machine', { timeout: 120_000 }, () => {
  it('exits 0 with every check ok, a live round trip per backend, and says ioperm returns ENOSYS because CONFIG_X86_IOPL_IOPERM is unset', async () => {
    const r = await run(['doctor']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const lines = r.stdout.trim().split('\n');
    const checks = lines.slice(0, -1);
    assert.deepEqual(
      checks.map((l) => l.slice(5, l.indexOf(':'))),
      ['root and capabilities', 'tracefs', 'BPF', 'BTF', 'catalog vs kernel', '32-bit syscalls', 'round trip (tracefs)', 'round trip (ebpf)', 'kernel options', 'enforcement (deny)', 'kernel lockdown'],
    );
    for (const l of checks) assert.match(l, /^ok   /, l);
    assert.equal(lines.at(-1), `watchpost doctor: all ${checks.length} checks ok`);
    for (const backend of ['tracefs', 'ebpf']) {
      const line = checks.find((l) => l.includes(`round trip (${backend})`))!;
      for (const e of ['ioperm', 'iopl', 'ioctl', 'perf_event_open', 'userfaultfd']) assert.ok(line.includes(`${e} (= `), `${backend}: ${e}`);
      if (!CONFIG.has('CONFIG_X86_IOPL_IOPERM')) assert.ok(line.includes('ioperm (= -38 ENOSYS)'), line);
      if (NO_32BIT) assert.ok(line.includes('(no 32-bit calls: this kernel runs none)'), line);
      else assert.ok(line.includes('and as a 32-bit caller (int $0x80) ioperm, iopl, ioctl, perf_event_open, userfaultfd;'), line);
    }
    const compat = checks.find((l) => l.includes('32-bit syscalls:'))!;
    assert.match(compat, NO_32BIT ? /this kernel runs none \(.+\): no caller can switch ABI/ : /this kernel runs them \(a 32-bit int \$0x80 getpid returned the caller's pid\)/);
    const options = checks.find((l) => l.includes('kernel options:'))!;
    if (!CONFIG.has('CONFIG_X86_IOPL_IOPERM')) {
      assert.match(options, /CONFIG_X86_IOPL_IOPERM is not set \(ioperm, iopl\): calls return -ENOSYS \(-38\)/);
      assert.match(options, /the round trip confirms: ioperm and iopl returned -38 ENOSYS/);
    }
    if (CONFIG.has('CONFIG_LOCK_DOWN_KERNEL_FORCE_INTEGRITY')) {
      const lockdown = checks.find((l) => l.includes('kernel lockdown:'))!;
      assert.match(lockdown, /integrity mode .*Kernel is locked down from Kernel configuration/);
      assert.match(lockdown, /ioperm\(turn_on=1\) and raising iopl fail with EPERM even for root/);
    }
  });

  it('doctor -e ioctl exercises only ioctl', async () => {
    const r = await run(['doctor', '-e', 'ioctl']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const trip = r.stdout.split('\n').find((l) => l.includes('round trip (tracefs)'))!;
    assert.match(trip, NO_32BIT ? /a child made ioctl \(= -9 EBADF\) \(no 32-bit calls: this kernel runs none\);/ : /a child made ioctl \(= -9 EBADF\), and as a 32-bit caller \(int \$0x80\) ioctl;/);
    assert.doesNotMatch(trip, /ioperm/);
  });

  it('exits 1 and says to use sudo when not root', async () => {
    const r = await run(['doctor', '-e', 'ioperm'], { uid: 65534 });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^fail root and capabilities: running as uid 65534 .* -> run `sudo watchpost doctor`$/m);
    assert.match(r.stdout, /^fail round trip \(tracefs\): /m);
    assert.match(r.stdout, /checks need attention/);
  });

  it('rejects an unknown event with exit 2', async () => {
    const r = await run(['doctor', '-e', 'iopl,nosuch']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^watchpost: unknown event "nosuch": did you mean/);
  });
});
