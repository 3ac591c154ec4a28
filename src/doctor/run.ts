import { readFileSync } from 'node:fs';
import type { EventDefinition } from '../catalog/types.js';
import { checkBpf } from './bpf.js';
import { checkBtf } from './btf.js';
import { checkCapabilities } from './capabilities.js';
import { checkCatalog } from './catalog.js';
import { guarded, type CheckResult } from './check.js';
import { readKernelConfig } from './kernel-config.js';
import { checkCompat } from './compat.js';
import { checkDeny } from './deny.js';
import { compatSupport } from '../probes/compat-support.js';
import { checkKernelOptions } from './kernel-options.js';
import { checkLockdown } from './lockdown.js';
import { roundTrip, type Backend, type RoundTripCall } from './round-trip.js';
import { checkTracefs } from './tracefs.js';

/** Backends whose live round trip doctor runs, one trace() call each with that `backend`. */
export const BACKENDS: readonly Backend[] = ['tracefs', 'ebpf'];

/** Runs every check in order, handing each result to `report` as soon as it is known. */
export async function runDoctor(events: readonly EventDefinition[], report: (r: CheckResult) => void): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const add = (r: CheckResult): void => {
    results.push(r);
    report(r);
  };
  add(await guarded('root and capabilities', () => checkCapabilities()));
  add(await guarded('tracefs', () => checkTracefs(events)));
  add(await guarded('BPF', () => checkBpf()));
  add(await guarded('BTF', () => checkBtf()));
  add(await guarded('catalog vs kernel', () => checkCatalog(events)));
  const cmdline = readFileSync('/proc/cmdline', 'utf8');
  add(await guarded('32-bit syscalls', () => checkCompat(readKernelConfig(), cmdline)));
  const seen: RoundTripCall[] = [];
  const compat = compatSupport().ok;
  for (const backend of BACKENDS) {
    add(
      await guarded(`round trip (${backend})`, async () => {
        const r = await roundTrip(backend, events, { compat });
        seen.push(...r.seen);
        return r.result;
      }),
    );
  }
  add(await guarded('kernel options', () => checkKernelOptions(readKernelConfig(), events, seen)));
  add(await guarded('enforcement (deny)', () => checkDeny()));
  add(await guarded('kernel lockdown', () => checkLockdown(undefined, seen.find((s) => s.event === 'ioperm' && s.abi === 'native')?.ret)));
  return results;
}
