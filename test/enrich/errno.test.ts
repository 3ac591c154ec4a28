import assert from 'node:assert/strict';
import { constants } from 'node:os';
import { describe, it } from 'node:test';
import { errnoByNumber, errnoName, errnoNumber } from '../../src/enrich/errno.js';
import { hasCompiler, headerValues } from './c-oracle.js';

describe('errno names', () => {
  it('names the errors ioperm, iopl and ioctl callers see', () => {
    assert.equal(errnoName(-1), 'EPERM');
    assert.equal(errnoName(-38), 'ENOSYS');
    assert.equal(errnoName(-22), 'EINVAL');
    assert.equal(errnoName(-14), 'EFAULT');
    assert.equal(errnoName(-9), 'EBADF');
    assert.equal(errnoName(-25), 'ENOTTY');
    assert.equal(errnoName(-13), 'EACCES');
    assert.equal(errnoName(-133), 'EHWPOISON');
    assert.equal(errnoName(-1n), 'EPERM');
  });

  it('names the kernel-internal codes a sys_exit tracepoint can see', () => {
    assert.equal(errnoName(-512), 'ERESTARTSYS');
    assert.equal(errnoName(-516), 'ERESTART_RESTARTBLOCK');
    assert.equal(errnoName(-524), 'ENOTSUPP');
    assert.equal(errnoName(-520), undefined);
  });

  it('gives nothing for successes, non-errors and unassigned numbers', () => {
    for (const ret of [0, 3, 0x7fffffff, -4096, -5000, -134, -41, -58, 0.5, -0n, -4096n, 5n]) {
      assert.equal(errnoName(ret), undefined, String(ret));
    }
  });

  it('maps names back to numbers, aliases included', () => {
    assert.equal(errnoNumber('EPERM'), 1);
    assert.equal(errnoNumber('eperm'), 1);
    assert.equal(errnoNumber('EWOULDBLOCK'), 11);
    assert.equal(errnoNumber('EDEADLOCK'), 35);
    assert.equal(errnoNumber('ENOTSUP'), 95);
    assert.equal(errnoName(-95), 'EOPNOTSUPP');
    assert.equal(errnoNumber('ERESTARTSYS'), 512);
    assert.equal(errnoNumber('ENOPE'), undefined);
  });

  it("agrees with Node's errno constants for every name both know", () => {
    let compared = 0;
    for (const [name, nr] of Object.entries(constants.errno)) {
      assert.equal(errnoNumber(name), nr, name);
      // Aliases (EWOULDBLOCK, EDEADLOCK, ENOTSUP) come back under the kernel's canonical name.
      assert.equal(errnoNumber(errnoByNumber(nr) ?? ''), nr, `errno ${nr}`);
      compared++;
    }
    assert.ok(compared > 70, `only ${compared} names compared`);
  });

  it('agrees with the system <errno.h> for all of 1..133', { skip: !hasCompiler() && 'no C compiler' }, () => {
    const names: string[] = [];
    for (let nr = 1; nr <= 133; nr++) {
      const name = errnoByNumber(nr);
      if (name !== undefined) names.push(name);
    }
    assert.equal(names.length, 131); // 41 and 58 are aliases
    const header = headerValues(['errno.h'], names);
    for (const name of names) assert.equal(header.get(name), BigInt(errnoNumber(name) ?? -1), name);
  });
});
