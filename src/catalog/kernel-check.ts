import type { EventDefinition } from './types.js';

/** What the check needs of a tracepoint's format file: its argument fields, in order (EventFormat satisfies it). */
export interface KernelArgFields {
  argFields: readonly { name: string; cType: string }[];
}

export interface CatalogFinding {
  event: string;
  /** error: the catalog would decode this event wrongly; info: harmless (a different arg name). */
  severity: 'error' | 'info';
  message: string;
}

/** Spelling-only differences removed: `__user`, `const`-free spacing, space before `*`. */
export function normalizeCType(t: string): string {
  return t
    .replace(/\b__user\b/g, '')
    .replace(/\s+/g, ' ')
    .replace(/\s*\*\s*/g, ' *')
    .trim()
    .replace(/ \*/g, '*');
}

/**
 * Compares each event's catalog args with the kernel's `syscalls/sys_enter_<name>` format: count, order and C type.
 * `formatOf` returns undefined when the kernel has no such tracepoint. Names differ legitimately (the catalog uses
 * the syscall prototype's, e.g. ioctl `request` is `cmd` in the format) and are reported as info.
 */
export function checkCatalogAgainstKernel(
  events: readonly EventDefinition[],
  formatOf: (event: EventDefinition) => KernelArgFields | undefined,
  arch: string,
): CatalogFinding[] {
  const findings: CatalogFinding[] = [];
  for (const e of events) {
    const format = formatOf(e);
    if (!format) {
      const expected = e.arches.includes(arch);
      findings.push({
        event: e.name,
        severity: expected ? 'error' : 'info',
        message: expected
          ? `the kernel has no tracepoint syscalls:sys_enter_${e.name} (its syscall is not built in, or CONFIG_FTRACE_SYSCALLS is unset)`
          : `not on ${arch} (the catalog lists ${e.arches.join(', ')})`,
      });
      continue;
    }
    const kernel = format.argFields;
    if (kernel.length !== e.args.length) {
      findings.push({
        event: e.name,
        severity: 'error',
        message: `catalog has ${e.args.length} args (${e.args.map((a) => a.name).join(', ')}), the kernel's format has ${kernel.length} (${kernel.map((f) => f.name).join(', ')})`,
      });
    }
    const n = Math.min(kernel.length, e.args.length);
    for (let i = 0; i < n; i++) {
      const ours = e.args[i];
      const theirs = kernel[i];
      if (ours.name !== theirs.name) {
        const elsewhere = kernel.findIndex((f, j) => j !== i && f.name === ours.name);
        if (elsewhere >= 0) {
          findings.push({
            event: e.name,
            severity: 'error',
            message: `arg ${i} is "${ours.name}" in the catalog but the kernel has "${ours.name}" at position ${elsewhere}: the order differs`,
          });
          continue;
        }
        findings.push({ event: e.name, severity: 'info', message: `arg ${i} is "${ours.name}" in the catalog, "${theirs.name}" in the kernel's format` });
      }
      if (normalizeCType(ours.kernelType) !== normalizeCType(theirs.cType)) {
        findings.push({
          event: e.name,
          severity: 'error',
          message: `arg ${i} "${ours.name}": catalog kernel type \`${ours.kernelType}\`, kernel format \`${theirs.cType}\``,
        });
      }
    }
  }
  return findings;
}

/** Node's `process.arch` as the catalog spells architectures. */
export function catalogArch(nodeArch: string = process.arch): string {
  return ({ x64: 'x86_64', ia32: 'i386', arm64: 'arm64' } as Record<string, string>)[nodeArch] ?? nodeArch;
}
