import { existsSync } from 'node:fs';
import { catalogArch, checkCatalogAgainstKernel, type CatalogFinding } from '../catalog/kernel-check.js';
import type { EventDefinition } from '../catalog/types.js';
import { readFormat, type EventFormat } from '../catalog/tracepoint-format.js';
import { tracefsRoot } from '../probes/tracefs/tracefs-root.js';
import type { CheckResult } from './check.js';

/** Reads `syscalls/sys_enter_<name>/format` (read-only; the global instance's event files are only read). */
export function enterFormatReader(root: string = tracefsRoot()): (e: EventDefinition) => EventFormat | undefined {
  return (e) => {
    const dir = `${root}/events/syscalls/sys_enter_${e.name}`;
    return existsSync(`${dir}/format`) ? readFormat(dir) : undefined;
  };
}

/** The catalog compared with this kernel's format files. */
export function catalogFindings(events: readonly EventDefinition[]): CatalogFinding[] {
  return checkCatalogAgainstKernel(events, enterFormatReader(), catalogArch());
}

export function checkCatalog(events: readonly EventDefinition[], findings = catalogFindings(events)): CheckResult {
  const name = 'catalog vs kernel';
  const errors = findings.filter((f) => f.severity === 'error');
  const infos = findings.filter((f) => f.severity === 'info');
  const info = infos.length ? `; harmless: ${infos.map((f) => `${f.event} ${f.message}`).join('; ')}` : '';
  if (errors.length) {
    return {
      status: 'warn',
      name,
      detail: `${errors.map((f) => `${f.event}: ${f.message}`).join('; ')}${info}`,
      fix: 'those args may be decoded wrongly on this kernel: report it with `uname -r` and the format file',
    };
  }
  return {
    status: 'ok',
    name,
    detail: `${events.length} events: arg count, order and C types match the kernel's sys_enter format files${info}`,
  };
}
