import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EVENTS, findEvent } from '../../src/catalog/events.js';
import { catalogArch, checkCatalogAgainstKernel, normalizeCType } from '../../src/catalog/kernel-check.js';
import type { EventDefinition } from '../../src/catalog/types.js';
import { enterFormatReader } from '../../src/doctor/catalog.js';
import { parseFormat } from '../../src/catalog/tracepoint-format.js';

const kernel = enterFormatReader();
const errors = (events: readonly EventDefinition[]) =>
  checkCatalogAgainstKernel(events, kernel, catalogArch()).filter((f) => f.severity === 'error');

function altered(name: string, change: (e: EventDefinition) => void): EventDefinition {
  const e = structuredClone(findEvent(name)!) as EventDefinition;
  change(e);
  return e;
}

describe('catalog vs the kernel format files', () => {
  it("matches this kernel's sys_enter formats for every catalog event; only arg names differ (ioctl cmd, perf_event_open attr_uptr)", () => {
    const findings = checkCatalogAgainstKernel(EVENTS, kernel, catalogArch());
    assert.deepEqual(findings.filter((f) => f.severity === 'error'), []);
    // the formats really were read: the two known name differences are reported as info
    assert.deepEqual(
      findings.map((f) => [f.event, f.severity, f.message]),
      [
        ['ioctl', 'info', 'arg 1 is "request" in the catalog, "cmd" in the kernel\'s format'],
        ['perf_event_open', 'info', 'arg 0 is "attr" in the catalog, "attr_uptr" in the kernel\'s format'],
      ],
    );
  });

  it('fails on a catalog entry whose kernel type is wrong', () => {
    const e = altered('ioperm', (x) => (x.args[2].kernelType = 'unsigned long'));
    assert.deepEqual(
      errors([e]).map((f) => f.message),
      ['arg 2 "turn_on": catalog kernel type `unsigned long`, kernel format `int`'],
    );
  });

  it('fails on a catalog entry with its args in the wrong order', () => {
    const e = altered('ioperm', (x) => x.args.reverse());
    const msgs = errors([e]).map((f) => f.message);
    assert.ok(msgs.some((m) => /arg 0 is "turn_on" in the catalog but the kernel has "turn_on" at position 2: the order differs/.test(m)), msgs.join('\n'));
  });

  it('fails on a catalog entry with an arg missing or extra', () => {
    const fewer = altered('perf_event_open', (x) => x.args.pop());
    assert.match(errors([fewer])[0].message, /catalog has 4 args .* the kernel's format has 5/);
    const more = altered('iopl', (x) => x.args.push({ ...x.args[0], name: 'extra' }));
    assert.match(errors([more])[0].message, /catalog has 2 args \(level, extra\), the kernel's format has 1 \(level\)/);
  });

  it('fails when the kernel has no tracepoint for an event of this architecture, and only notes one of another architecture', () => {
    const ghost = altered('iopl', (x) => (x.name = 'no_such_syscall'));
    assert.match(errors([ghost])[0].message, /no tracepoint syscalls:sys_enter_no_such_syscall/);
    const foreign = altered('iopl', (x) => {
      x.name = 'no_such_syscall';
      x.arches = ['arm64'];
    });
    assert.deepEqual(checkCatalogAgainstKernel([foreign], kernel, 'x86_64').map((f) => f.severity), ['info']);
  });

  it('compares C types, not their spelling', () => {
    assert.equal(normalizeCType('struct perf_event_attr *'), normalizeCType('struct perf_event_attr*'));
    assert.equal(normalizeCType('const char __user *'), normalizeCType('const char *'));
    assert.notEqual(normalizeCType('unsigned int'), normalizeCType('unsigned long'));
    const format = parseFormat(
      'name: sys_enter_x\nID: 1\nformat:\n\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n\tfield:const char * filename;\toffset:16;\tsize:8;\tsigned:0;\n',
    );
    const e: EventDefinition = { ...findEvent('iopl')!, name: 'x', args: [{ name: 'filename', kernelType: 'const char __user *', type: 'pointer', tags: ['U'], description: '' }] };
    assert.deepEqual(checkCatalogAgainstKernel([e], () => format, 'x86_64'), []);
  });
});
