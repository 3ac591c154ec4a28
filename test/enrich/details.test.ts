import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findEvent } from '../../src/catalog/events.js';
import type { EventDefinition } from '../../src/catalog/types.js';
import { decodedArgs, portsOf } from '../../src/enrich/details.js';
import { EpochClock } from '../../src/pipeline/clock.js';
import { EventBuilder } from '../../src/pipeline/to-event.js';
import type { CompletedSyscall } from '../../src/probes/types.js';
import type { ArgValue, EventArg } from '../../src/model/event.js';

const entry = (name: string): EventDefinition => findEvent(name)!;
const argsOf = (def: EventDefinition, values: ArgValue[]): EventArg[] => def.args.map((a, i) => ({ name: a.name, type: a.type, value: values[i] ?? null }));

describe('enrichment follows the catalog entry, whatever the event is called', { timeout: 10_000 }, () => {
  it('gives ports to an entry that declares them, and none to one that does not, even named ioperm', () => {
    const ioperm = entry('ioperm');
    const renamed = { ...ioperm, name: 'ioperm_lookalike' };
    const args = argsOf(ioperm, [0x60n, 5n, 1]);
    assert.deepEqual(portsOf(renamed, args), portsOf(ioperm, args));
    assert.equal(portsOf(renamed, args)?.[0].first, 0x60);
    assert.equal(portsOf({ ...ioperm, ports: undefined }, args), undefined);
  });

  it('reads an iopl-style level: 3 opens all 65536 ports, lower levels none', () => {
    const iopl = entry('iopl');
    const all = portsOf(iopl, argsOf(iopl, [3]))!;
    assert.deepEqual([all[0].first, all[all.length - 1].last], [0, 0xffff]);
    assert.deepEqual(portsOf(iopl, argsOf(iopl, [1])), []);
  });

  it('the event builder reuses ports and decoded names per value of the args that decide them (not turn_on, not fd)', () => {
    const builder = new EventBuilder(new EpochClock(true), () => undefined);
    const call = (name: string, args: ArgValue[]): CompletedSyscall => ({ event: entry(name), monoNs: 1, cpu: 0, tid: 1, compat: false, args, ret: 0 });
    const a = builder.build(call('ioperm', [0x60n, 5n, 1]));
    const b = builder.build(call('ioperm', [0x60n, 5n, 0]));
    const c = builder.build(call('ioperm', [0x60n, 6n, 1]));
    assert.equal(a.ports, b.ports, 'turn_on does not decide the ports');
    assert.notEqual(a.ports, c.ports);
    assert.deepEqual(c.ports, portsOf(entry('ioperm'), argsOf(entry('ioperm'), [0x60n, 6n, 1])));
    assert.deepEqual(builder.build(call('iopl', [3])).ports, portsOf(entry('iopl'), argsOf(entry('iopl'), [3])));
    const x = builder.build(call('ioctl', [0, 0x5413n, 0n]));
    const y = builder.build(call('ioctl', [7, 0x5413n, 9n]));
    assert.deepEqual(x.decoded, { request: 'TIOCGWINSZ' });
    assert.equal(x.decoded, y.decoded, 'shared');
    assert.ok(Object.isFrozen(x.decoded), 'a shared object cannot be changed through one event');
    assert.deepEqual(builder.build(call('ioctl', [0, 0x5401n, 0n])).decoded, { request: 'TCGETS' });
  });

  it("decodes the args whose entry names a decoder, by the entry (a renamed ioctl still decodes, one without the decoder does not)", () => {
    const ioctl = entry('ioctl');
    const args = argsOf(ioctl, [0, 0x5413n, 0n]);
    assert.deepEqual(decodedArgs({ ...ioctl, name: 'not_ioctl' }, args), { request: 'TIOCGWINSZ' });
    assert.equal(decodedArgs({ ...ioctl, args: ioctl.args.map((a) => ({ ...a, decoder: undefined })) }, args), undefined);
    assert.equal(decodedArgs(entry('ioperm'), argsOf(entry('ioperm'), [1n, 1n, 1])), undefined);
  });

  it("decodes a recording's args by name, when some are left out", () => {
    const perf = entry('perf_event_open');
    assert.deepEqual(decodedArgs(perf, [{ name: 'flags', type: 'uint64', value: 8n }]), { flags: 'PERF_FLAG_FD_CLOEXEC' });
  });

  it("decodes the struct read at entry with the entry's decoder: text when read, unread when the read failed, nothing without one (tracefs)", () => {
    const perf = entry('perf_event_open');
    const args = argsOf(perf, ['0x7ffd0000', -1, 0, -1, 0n]);
    const bytes = new Uint8Array(16);
    const d = new DataView(bytes.buffer);
    d.setUint32(0, 1, true); // PERF_TYPE_SOFTWARE
    d.setBigUint64(8, 0n, true); // PERF_COUNT_SW_CPU_CLOCK
    assert.deepEqual(decodedArgs(perf, args, bytes), { flags: '0', attr: 'type=PERF_TYPE_SOFTWARE config=PERF_COUNT_SW_CPU_CLOCK' });
    assert.deepEqual(decodedArgs(perf, args, null), { flags: '0', attr: 'unread' });
    assert.deepEqual(decodedArgs(perf, args), { flags: '0' });
  });
});
