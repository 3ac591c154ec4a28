import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EVENTS, findEvent } from '../../src/catalog/events.js';
import { findingToEvent } from '../../src/detect/finding-event.js';
import { builtinSignatures } from '../../src/detect/builtins.js';
import { tableView } from '../../src/detect/table-view.js';
import type { ArgValue, SyscallEvent } from '../../src/model/event.js';
import { eventToRow } from '../../src/sinks/table.js';
import { syscallEvent } from '../support/synthetic-event.js';

/** Values of every kind an arg takes: non-negative (hex or decimal by the entry), negative (always decimal), an address. */
function sample(name: string, negative: boolean): SyscallEvent {
  const values: ArgValue[] = findEvent(name)!.args.map((a) => {
    if (a.type === 'pointer') return '0x7ffd1000';
    const n = negative && a.type.startsWith('int') ? -100 : 100;
    return a.type.endsWith('64') ? BigInt(n) : n;
  });
  return syscallEvent(name, values);
}

/** The table's ARGS column, as name -> text. */
function rowArgs(e: SyscallEvent): Record<string, string> {
  const row = eventToRow(e);
  const args = row.slice(row.indexOf(e.eventName.padEnd(17)) + 17);
  return Object.fromEntries(args.split(', ').map((p) => [p.slice(0, p.indexOf(': ')), p.slice(p.indexOf(': ') + 2)]));
}

/** The call a finding on the event quotes in the table, as name -> text. */
function callArgs(e: SyscallEvent): Record<string, string> {
  const finding = findingToEvent({ signature: builtinSignatures()[0].metadata, event: e, data: {} });
  const call = String(tableView([finding], false)[0].args.find((a) => a.name === 'call')?.value);
  const inner = call.slice(call.indexOf('(') + 1, call.lastIndexOf(') = '));
  return Object.fromEntries(inner.split(', ').map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
}

describe("the table and a finding's call show args alike: both read the catalog entry", { timeout: 30_000 }, () => {
  // the family, and syscalls outside it whose flags, arg and request the generic table shows in hex
  const names = [...EVENTS.map((e) => e.name), 'openat', 'mmap', 'fcntl', 'ptrace', 'kill'];
  for (const name of names) {
    it(`${name}: the same text for every arg, hex exactly where the entry says`, () => {
      for (const negative of [false, true]) {
        const e = sample(name, negative);
        const row = rowArgs(e);
        assert.deepEqual(callArgs(e), row, `${name}${negative ? ' (negative ints)' : ''}`);
        for (const a of findEvent(name)!.args) {
          const v = e.args.find((x) => x.name === a.name)!.value;
          if (typeof v === 'string' || (v !== null && v < 0)) continue;
          assert.equal(row[a.name], a.display === 'hex' ? '0x64' : '100', `${name}.${a.name}`);
        }
      }
    });
  }

  it("shows ioctl's arg in hex in both (the finding's call used to print it in decimal)", () => {
    const e = syscallEvent('ioctl', [3, 0x5413n, 0x7ffdn]);
    assert.equal(rowArgs(e).arg, '0x7ffd');
    assert.equal(callArgs(e).arg, '0x7ffd');
  });
});
