import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { formatPortOwners, ioplPorts, loadIoports, parseIoports, portOwners, type PortRange } from '../../src/enrich/ioports.js';

// A QEMU/q35-like host: a bus window with legacy devices nested in it, a PCI device with a driver below its BAR.
const SAMPLE = `0000-0cf7 : PCI Bus 0000:00
  0000-001f : dma1
  0020-0021 : pic1
  0040-0043 : timer0
  0050-0053 : timer1
  0060-0060 : keyboard
  0064-0064 : keyboard
  0070-0077 : rtc0
    0070-0071 : rtc_cmos
  0080-008f : dma page reg
  03f8-03ff : serial
0cf8-0cff : PCI conf1
0d00-ffff : PCI Bus 0000:00
  c000-c03f : 0000:00:03.0
    c000-c03f : virtio-pci-legacy
  e000-efff : PCI Bus 0000:01
`;

const brief = (ranges: PortRange[]) => ranges.map((r) => [r.first, r.last, r.owner, r.source]);

describe('I/O port owners', () => {
  it('parses nesting from the indentation and marks bus windows', () => {
    const table = parseIoports(SAMPLE);
    assert.equal(table.length, 16);
    assert.deepEqual(table[0], { first: 0, last: 0xcf7, name: 'PCI Bus 0000:00', depth: 0, container: true });
    assert.deepEqual(table.find((e) => e.name === 'rtc0'), { first: 0x70, last: 0x77, name: 'rtc0', depth: 1, container: true });
    assert.deepEqual(table.find((e) => e.name === 'rtc_cmos'), { first: 0x70, last: 0x71, name: 'rtc_cmos', depth: 2, container: false });
    assert.equal(table.find((e) => e.name === 'virtio-pci-legacy')?.depth, 2);
    assert.equal(table.find((e) => e.name === 'PCI Bus 0000:01')?.container, false);
  });

  it('drops the all-zero ranges an unprivileged reader sees', () => {
    assert.deepEqual(parseIoports('0000-0000 : PCI Bus 0000:00\n  0000-0000 : dma1\n'), []);
  });

  it('splits a range that crosses the keyboard controller and the CMOS into each owner', () => {
    const got = portOwners(0x60, 0x12, parseIoports(SAMPLE)); // 0x60..0x71
    assert.deepEqual(brief(got), [
      [0x60, 0x60, 'keyboard / keyboard controller (i8042)', 'ioports'],
      [0x61, 0x61, 'system control port B (PC speaker, NMI status)', 'legacy'],
      [0x62, 0x63, 'unclaimed (PCI Bus 0000:00)', 'ioports'],
      [0x64, 0x64, 'keyboard / keyboard controller (i8042; can reset the CPU)', 'ioports'],
      [0x65, 0x6f, 'unclaimed (PCI Bus 0000:00)', 'ioports'],
      [0x70, 0x71, 'rtc_cmos / CMOS/RTC (also NMI mask)', 'ioports'],
    ]);
  });

  it('falls back to the legacy PC table, then to "unknown", when the host lists nothing', () => {
    assert.deepEqual(brief(portOwners(0x60, 0x12, [])), [
      [0x60, 0x60, 'keyboard controller (i8042)', 'legacy'],
      [0x61, 0x61, 'system control port B (PC speaker, NMI status)', 'legacy'],
      [0x62, 0x63, 'unknown', 'unknown'],
      [0x64, 0x64, 'keyboard controller (i8042; can reset the CPU)', 'legacy'],
      [0x65, 0x6f, 'unknown', 'unknown'],
      [0x70, 0x71, 'CMOS/RTC (also NMI mask)', 'legacy'],
    ]);
  });

  it('prefers the most specific entry: a driver over its device, a device over its bus', () => {
    const table = parseIoports(SAMPLE);
    assert.deepEqual(brief(portOwners(0xc000, 0x40, table)), [[0xc000, 0xc03f, 'virtio-pci-legacy', 'ioports']]);
    assert.deepEqual(brief(portOwners(0x72, 2, table)), [[0x72, 0x73, 'unclaimed (rtc0)', 'ioports']]);
    assert.deepEqual(brief(portOwners(0xe010, 1, table)), [[0xe010, 0xe010, 'PCI Bus 0000:01', 'ioports']]);
    // The legacy table still explains what a host entry is, and its own narrower entries split it.
    assert.deepEqual(brief(portOwners(0xcf8, 8, table)), [
      [0xcf8, 0xcf8, 'PCI conf1 / PCI configuration space (reaches every PCI device)', 'ioports'],
      [0xcf9, 0xcf9, 'PCI conf1 / reset control register (PCI configuration space)', 'ioports'],
      [0xcfa, 0xcff, 'PCI conf1 / PCI configuration space (reaches every PCI device)', 'ioports'],
    ]);
  });

  it('covers the whole port space for iopl(3) without a gap, and nothing for lower levels', () => {
    const { from, num } = ioplPorts(3);
    assert.deepEqual([from, num], [0, 0x10000]);
    assert.deepEqual(ioplPorts(0).num, 0);
    const got = portOwners(from, num, parseIoports(SAMPLE));
    assert.equal(got[0].first, 0);
    assert.equal(got[got.length - 1].last, 0xffff);
    for (let i = 1; i < got.length; i++) assert.equal(got[i].first, got[i - 1].last + 1, `gap before ${got[i].first}`);
    assert.ok(got.some((r) => r.owner === 'virtio-pci-legacy'));
    assert.deepEqual(portOwners(ioplPorts(2).from, ioplPorts(2).num, []), []);
  });

  it('clips to the 64 Ki port space and takes 64-bit arguments', () => {
    assert.deepEqual(brief(portOwners(0xfffe, 10, [])), [[0xfffe, 0xffff, 'unknown', 'unknown']]);
    assert.deepEqual(brief(portOwners(0x378n, 3n, [])), [[0x378, 0x37a, 'parallel port LPT1', 'legacy']]);
    assert.deepEqual(portOwners(0x10000, 1, []), []);
    assert.deepEqual(portOwners(0x60, 0, []), []);
    assert.deepEqual(brief(portOwners(0x80, 0xffffffffffffffffn, [])).slice(0, 1), [[0x80, 0x80, 'POST code', 'legacy']]);
  });

  it('formats one line for the table view, eliding past the limit', () => {
    const ranges = portOwners(0x60, 0x12, []);
    assert.equal(
      formatPortOwners(ranges),
      '0x60 keyboard controller (i8042), 0x61 system control port B (PC speaker, NMI status), 0x62-0x63 unknown, 0x64 keyboard controller (i8042; can reset the CPU), 0x65-0x6f unknown, 0x70-0x71 CMOS/RTC (also NMI mask)',
    );
    assert.equal(formatPortOwners(ranges, 3), '0x60 keyboard controller (i8042), 0x61 system control port B (PC speaker, NMI status), … +4 more ranges');
    assert.equal(formatPortOwners([]), 'no ports');
  });

  it("reads this host's /proc/ioports once", () => {
    const table = loadIoports();
    assert.equal(loadIoports(), table);
    const lines = readFileSync('/proc/ioports', 'latin1').split('\n').filter((l) => l.trim() !== '' && !/^\s*0000-0000 /.test(l));
    assert.equal(table.length, lines.length);
    assert.ok(table.length > 0, 'this test needs a host with a readable /proc/ioports (run as root)');
    const keyboard = table.find((e) => e.first === 0x60);
    if (keyboard) assert.equal(portOwners(0x60, 1, table)[0].owner.startsWith(keyboard.name), true);
  });
});
