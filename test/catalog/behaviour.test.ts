import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allEventNames, EVENTS, findEvent } from '../../src/catalog/events.js';
import { ENTRY_READ_MAX, type EventDefinition, findArg } from '../../src/catalog/types.js';
import { ARG_DECODERS, STRUCT_DECODERS } from '../../src/enrich/details.js';
import { Entry, Rec } from '../../src/probes/ebpf/record.js';

// Every syscall the catalog can select (format files where tracefs is readable, Tracee's table otherwise).
const ALL: EventDefinition[] = allEventNames().flatMap((n) => findEvent(n) ?? []);
const where = (e: EventDefinition, arg: string): string => `${e.name}.${arg}`;

describe('per-event behaviour declared on the catalog entry', { timeout: 30_000 }, () => {
  it('covers the family and every other syscall', () => {
    assert.ok(ALL.length > 300, `${ALL.length} entries`);
    for (const e of EVENTS) assert.ok(ALL.includes(e), e.name);
  });

  it('shows addresses, flag words and request codes in hex: every pointer, every arg with a decoder, every flags and request arg', () => {
    for (const e of ALL) {
      for (const a of e.args) {
        if (a.type === 'pointer' || a.decoder !== undefined || a.name === 'flags' || a.name === 'request') assert.equal(a.display, 'hex', where(e, a.name));
      }
    }
  });

  it('names decoders that exist, on numeric args, each giving a name for a value', () => {
    for (const e of ALL) {
      for (const a of e.args.filter((x) => x.decoder !== undefined)) {
        assert.notEqual(a.type, 'pointer', where(e, a.name));
        const decode = ARG_DECODERS[a.decoder!];
        assert.equal(typeof decode, 'function', `${where(e, a.name)}: decoder ${a.decoder}`);
        for (const v of [0, 8, 0x5413n]) assert.match(decode(v), /\S/, `${where(e, a.name)} ${v}`);
      }
    }
  });

  it('reads at entry only what the record holds: the bytes behind a pointer arg, at most ENTRY_READ_MAX, with a struct decoder, tagged U and TOCTOU', () => {
    assert.equal(Entry.size - Entry.entryRead, ENTRY_READ_MAX, 'the in-flight entry slot');
    assert.equal(Rec.entryReadSize - Rec.entryRead, ENTRY_READ_MAX, 'the ring-buffer record slot');
    const reading = ALL.filter((e) => e.entryRead !== undefined);
    assert.deepEqual(reading.map((e) => e.name), ['perf_event_open']);
    for (const e of reading) {
      const r = e.entryRead!;
      const i = findArg(e.args, r.arg);
      assert.ok(i >= 0 && e.args[i].type === 'pointer', `${e.name}: ${r.arg} is a pointer arg`);
      assert.deepEqual(e.args[i].tags, ['U', 'TOCTOU'], `${e.name}: ${r.arg} is read from user memory, which the caller can change before the kernel reads it`);
      assert.ok(r.bytes > 0 && r.bytes <= ENTRY_READ_MAX, `${e.name}: ${r.bytes} bytes`);
      assert.match(STRUCT_DECODERS[r.decoder](new Uint8Array(r.bytes)), /\S/, `${e.name}: decoder ${r.decoder}`);
    }
  });

  it('names port args that exist and hold numbers', () => {
    for (const e of ALL.filter((x) => x.ports !== undefined)) {
      const p = e.ports!;
      for (const name of p.kind === 'range' ? [p.from, p.num, p.grant] : [p.level]) {
        const i = findArg(e.args, name);
        assert.ok(i >= 0 && e.args[i].type !== 'pointer', where(e, name));
      }
    }
  });

  it("says which family event gets what, once, on the entry", () => {
    const summary = EVENTS.map((e) => ({
      event: e.name,
      hex: e.args.filter((a) => a.display === 'hex').map((a) => a.name),
      decoders: Object.fromEntries(e.args.flatMap((a) => (a.decoder ? [[a.name, a.decoder]] : []))),
      ports: e.ports?.kind,
      entryRead: e.entryRead && `${e.entryRead.arg}:${e.entryRead.bytes}:${e.entryRead.decoder}`,
    }));
    assert.deepEqual(summary, [
      { event: 'ioperm', hex: ['from'], decoders: {}, ports: 'range', entryRead: undefined },
      { event: 'iopl', hex: [], decoders: {}, ports: 'level', entryRead: undefined },
      { event: 'ioctl', hex: ['request', 'arg'], decoders: { request: 'ioctl-request' }, ports: undefined, entryRead: undefined },
      { event: 'perf_event_open', hex: ['attr', 'flags'], decoders: { flags: 'perf-event-open-flags' }, ports: undefined, entryRead: 'attr:16:perf-event-attr' },
      { event: 'userfaultfd', hex: ['flags'], decoders: { flags: 'userfaultfd-flags' }, ports: undefined, entryRead: undefined },
    ]);
    assert.deepEqual(ALL.filter((e) => e.ports !== undefined).map((e) => e.name), ['ioperm', 'iopl'], 'no other syscall is taken for a port request');
  });
});
