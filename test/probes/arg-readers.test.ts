import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findEvent } from '../../src/catalog/events.js';
import { argReader } from '../../src/probes/arg-readers.js';

function slot(value: bigint): DataView {
  const v = new DataView(new ArrayBuffer(8));
  v.setBigUint64(0, value, true);
  return v;
}

describe('argument slots', () => {
  const [fd, request, arg] = findEvent('ioctl')!.args;

  it('reads what the kernel uses: ioctl cmd is an unsigned int, so upper bits a caller sets are not part of it', () => {
    assert.equal(argReader(request, false)(slot(0x1_0000_5413n), 0), 0x5413n);
    assert.equal(argReader(arg, false)(slot(0x1_0000_5413n), 0), 0x1_0000_5413n, 'arg is a full unsigned long');
  });

  it('reads an int32 from the low half, signed', () => {
    assert.equal(argReader(fd, false)(slot(0xffff_ffff_ffff_ffffn), 0), -1);
  });

  it('keeps only the low 32 bits of every register of a 32-bit caller', () => {
    assert.equal(argReader(arg, true)(slot(0xdead_0000_0000_0010n), 0), 0x10n);
    const attr = findEvent('perf_event_open')!.args[0];
    assert.equal(argReader(attr, true)(slot(0xffff_0000_0804_a000n), 0), '0x804a000');
    assert.equal(argReader(attr, false)(slot(0x7ffc_0804_a000n), 0), '0x7ffc0804a000');
  });
});
