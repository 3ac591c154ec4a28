import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeIoctl, formatIoctl, ioctlCode, ioctlName, IOCTL_REQUESTS } from '../../src/enrich/ioctl.js';
import { hasCompiler, headerValues } from './c-oracle.js';

describe('ioctl requests', () => {
  it('names the common terminal requests, TIOCSTI included', () => {
    assert.equal(ioctlName(0x5401), 'TCGETS');
    assert.equal(ioctlName(0x5402), 'TCSETS');
    assert.equal(ioctlName(0x5413), 'TIOCGWINSZ');
    assert.equal(ioctlName(0x5414), 'TIOCSWINSZ');
    assert.equal(ioctlName(0x541b), 'FIONREAD');
    assert.equal(ioctlName(0x5421), 'FIONBIO');
    assert.equal(ioctlName(0x540e), 'TIOCSCTTY');
    assert.equal(ioctlName(0x5412), 'TIOCSTI');
    assert.equal(ioctlName(0x5451), 'FIOCLEX');
    assert.equal(ioctlName(0x5450), 'FIONCLEX');
    assert.equal(ioctlName(0x8912), 'SIOCGIFCONF');
  });

  it('names perf, userfaultfd, KVM, block and loop requests by their full _IOC codes', () => {
    assert.equal(ioctlName(0x40042408), 'PERF_EVENT_IOC_SET_BPF');
    assert.equal(ioctlName(0x2400), 'PERF_EVENT_IOC_ENABLE');
    assert.equal(ioctlName(0x2401), 'PERF_EVENT_IOC_DISABLE');
    assert.equal(ioctlName(0xc018aa3f), 'UFFDIO_API');
    assert.equal(ioctlName(0xc020aa00), 'UFFDIO_REGISTER');
    assert.equal(ioctlName(0xae01), 'KVM_CREATE_VM');
    assert.equal(ioctlName(0x8090ae81), 'KVM_GET_REGS');
    assert.equal(ioctlName(0x80081272), 'BLKGETSIZE64');
    assert.equal(ioctlName(0x4c00), 'LOOP_SET_FD');
    assert.equal(ioctlName(0x4c82), 'LOOP_CTL_GET_FREE');
    assert.equal(ioctlName(0x1234), undefined);
  });

  it('decodes the _IOC fields: direction, type, number and size', () => {
    assert.deepEqual(decodeIoctl(0x40042408), { code: 0x40042408, direction: 'write', type: 0x24, nr: 8, size: 4, name: 'PERF_EVENT_IOC_SET_BPF' });
    assert.deepEqual(decodeIoctl(0xc018aa3f), { code: 0xc018aa3f, direction: 'read-write', type: 0xaa, nr: 0x3f, size: 24, name: 'UFFDIO_API' });
    assert.deepEqual(decodeIoctl(0x80086601), { code: 0x80086601, direction: 'read', type: 0x66, nr: 1, size: 8, name: 'FS_IOC_GETFLAGS' });
    assert.deepEqual(decodeIoctl(0x5413), { code: 0x5413, direction: 'none', type: 0x54, nr: 0x13, size: 0, name: 'TIOCGWINSZ' });
    assert.deepEqual(decodeIoctl(0x3fff0000 | 0x41ff), { code: 0x3fff41ff, direction: 'none', type: 0x41, nr: 0xff, size: 0x3fff });
  });

  it('takes the low 32 bits of a 64-bit request, as the kernel does', () => {
    assert.equal(ioctlName(0xffffffff00005412n), 'TIOCSTI');
    assert.equal(decodeIoctl(0x1_c018aa3fn).name, 'UFFDIO_API');
    assert.equal(decodeIoctl(-1).direction, 'read-write');
  });

  it('formats unknown requests like strace and known ones by name', () => {
    assert.equal(formatIoctl(0x5412), 'TIOCSTI');
    assert.equal(formatIoctl(0x80085499), "_IOR('T', 0x99, 8)");
    assert.equal(formatIoctl(0xc0105a01), "_IOWR('Z', 0x1, 16)");
    assert.equal(formatIoctl(0x40045c01), '_IOW(0x5c, 0x1, 4)');
    assert.equal(formatIoctl(0x5499), "_IO('T', 0x99)");
  });

  it('maps names back to codes', () => {
    assert.equal(ioctlCode('TIOCSTI'), 0x5412);
    assert.equal(ioctlCode('tiocgwinsz'), 0x5413);
    assert.equal(ioctlCode('NOPE'), undefined);
    assert.ok(IOCTL_REQUESTS.size >= 150, `table has ${IOCTL_REQUESTS.size} names`);
  });

  it('has every code right according to the system headers', { skip: !hasCompiler() && 'no C compiler' }, () => {
    const headers = [
      'asm/ioctls.h', 'asm/termbits.h', 'asm/sockios.h', 'linux/sockios.h', 'linux/if_tun.h', 'linux/fs.h', 'linux/blkpg.h',
      'linux/loop.h', 'linux/kvm.h', 'linux/perf_event.h', 'linux/userfaultfd.h', 'linux/nsfs.h', 'linux/seccomp.h',
      'linux/i2c-dev.h', 'linux/rtc.h', 'linux/input.h', 'asm/msr.h', 'linux/kd.h', 'linux/vt.h',
    ];
    const header = headerValues(headers, [...IOCTL_REQUESTS.keys()]);
    const missing: string[] = [];
    for (const [name, code] of IOCTL_REQUESTS) {
      const value = header.get(name);
      if (value === undefined) missing.push(name);
      else assert.equal(`0x${BigInt.asUintN(32, value).toString(16)}`, `0x${code.toString(16)}`, name);
    }
    assert.deepEqual(missing, [], 'names these headers do not define');
  });
});
