import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findEvent } from '../../src/catalog/events.js';
import { checkCapabilities } from '../../src/doctor/capabilities.js';
import { checkCatalog } from '../../src/doctor/catalog.js';
import { parseKernelConfig } from '../../src/doctor/kernel-config.js';
import { checkKernelOptions } from '../../src/doctor/kernel-options.js';
import { checkLockdown, lockdownState, parseLockdownFile } from '../../src/doctor/lockdown.js';
import { tracefsMount } from '../../src/doctor/tracefs.js';

const ioperm = findEvent('ioperm')!;
const iopl = findEvent('iopl')!;

describe('doctor checks on given input', () => {
  it('capabilities: root with everything is ok; missing CAP_BPF or not root fails with what to do', () => {
    assert.equal(checkCapabilities('CapEff:\t000001ffffffffff\n', 0).status, 'ok');
    const noBpf = checkCapabilities(`CapEff:\t${(0x1ffffffffffn & ~(1n << 39n)).toString(16)}\n`, 0);
    assert.equal(noBpf.status, 'fail');
    assert.match(noBpf.detail, /lacks CAP_BPF \(/);
    const user = checkCapabilities('CapEff:\t0000000000000000\n', 1000);
    assert.equal(user.status, 'fail');
    assert.equal(user.fix, 'run `sudo watchpost doctor`');
  });

  it('lockdown: securityfs first, else the kernel log with the level from the command line or the config', () => {
    assert.equal(parseLockdownFile('none [integrity] confidentiality\n'), 'integrity');
    assert.equal(lockdownState({ file: '[none] integrity confidentiality\n', log: undefined, cmdline: '', config: undefined }).level, 'none');
    const log = '[    0.1] Kernel is locked down from EFI Secure Boot mode; see man kernel_lockdown.7';
    assert.equal(lockdownState({ file: undefined, log, cmdline: 'root=/dev/sda lockdown=confidentiality', config: undefined }).level, 'confidentiality');
    const config = parseKernelConfig('CONFIG_LOCK_DOWN_KERNEL_FORCE_INTEGRITY=y\n', '/proc/config.gz');
    const s = lockdownState({ file: undefined, log, cmdline: '', config });
    assert.equal(s.level, 'integrity');
    assert.match(s.evidence, /EFI Secure Boot mode.*CONFIG_LOCK_DOWN_KERNEL_FORCE_INTEGRITY=y/);
    assert.equal(lockdownState({ file: undefined, log, cmdline: '', config: undefined }).level, undefined);
    assert.equal(lockdownState({ file: undefined, log: 'nothing here', cmdline: '', config: undefined }).level, null);
    const forced = lockdownState({ file: undefined, log: undefined, cmdline: '', config });
    assert.equal(forced.level, 'integrity');
    assert.match(forced.evidence, /kernel log is not readable; but CONFIG_LOCK_DOWN_KERNEL_FORCE_INTEGRITY=y .* locks it down at boot/);
    const integrity = checkLockdown(s, -1);
    assert.equal(integrity.status, 'ok');
    assert.match(integrity.detail, /refuses to grant I\/O ports.*EPERM even for root.*Secure Boot.*the round trip confirms: ioperm\(turn_on=1\) got -1 EPERM/);
    assert.equal(checkLockdown({ level: 'confidentiality', evidence: 'x' }).status, 'warn');
  });

  it('kernel options: an unset CONFIG_X86_IOPL_IOPERM means ENOSYS; without a config, the round trip reveals it', () => {
    const config = parseKernelConfig(
      'CONFIG_FTRACE_SYSCALLS=y\nCONFIG_BPF_SYSCALL=y\nCONFIG_BPF_EVENTS=y\nCONFIG_DEBUG_INFO_BTF=y\nCONFIG_IA32_EMULATION=y\n# CONFIG_X86_IOPL_IOPERM is not set\n',
      '/boot/config-test',
    );
    const r = checkKernelOptions(config, [ioperm, iopl], [{ event: 'ioperm', abi: 'native', ret: -38 }]);
    assert.equal(r.status, 'ok');
    assert.match(r.detail, /CONFIG_X86_IOPL_IOPERM is not set \(ioperm, iopl\): calls return -ENOSYS.*the round trip confirms: ioperm returned -38 ENOSYS/);
    const inferred = checkKernelOptions(undefined, [ioperm], [{ event: 'ioperm', abi: 'native', ret: -38 }]);
    assert.match(inferred.detail, /kernel config not readable.*ioperm returned -38 ENOSYS in the round trip, so CONFIG_X86_IOPL_IOPERM is unset/);
    const noSyscalls = checkKernelOptions(parseKernelConfig('CONFIG_BPF_SYSCALL=y\n', 'x'), [ioperm], []);
    assert.equal(noSyscalls.status, 'fail');
    assert.match(noSyscalls.detail, /CONFIG_FTRACE_SYSCALLS is not set/);
  });

  it('tracefs: finds the mount point in /proc/self/mounts', () => {
    assert.equal(tracefsMount('sysfs /sys sysfs rw 0 0\ntracefs /sys/kernel/tracing tracefs rw 0 0\n'), '/sys/kernel/tracing');
    assert.equal(tracefsMount('sysfs /sys sysfs rw 0 0\n'), undefined);
  });

  it('catalog check: a kernel mismatch is a warning naming the event and the arg', () => {
    const r = checkCatalog([ioperm], [{ event: 'ioperm', severity: 'error', message: 'arg 2 "turn_on": catalog kernel type `long`, kernel format `int`' }]);
    assert.equal(r.status, 'warn');
    assert.match(r.detail, /^ioperm: arg 2 "turn_on"/);
  });
});
