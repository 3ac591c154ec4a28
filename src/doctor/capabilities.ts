import { readFileSync } from 'node:fs';
import type { CheckResult } from './check.js';

/** Capabilities tracing uses: tracefs files are root's, BPF needs CAP_BPF + CAP_PERFMON (or CAP_SYS_ADMIN), /proc of other users' processes needs CAP_SYS_PTRACE. */
const NEEDED: ReadonlyArray<[string, number]> = [
  ['CAP_DAC_OVERRIDE', 1],
  ['CAP_SYS_PTRACE', 19],
  ['CAP_SYS_ADMIN', 21],
  ['CAP_PERFMON', 38],
  ['CAP_BPF', 39],
];

export function parseCapEff(status: string): bigint | undefined {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  return m ? BigInt(`0x${m[1]}`) : undefined;
}

export function checkCapabilities(status = readFileSync('/proc/self/status', 'utf8'), uid = process.getuid?.() ?? -1): CheckResult {
  const name = 'root and capabilities';
  const eff = parseCapEff(status);
  if (eff === undefined) return { status: 'fail', name, detail: 'no CapEff line in /proc/self/status', fix: 'run on Linux' };
  const missing = NEEDED.filter(([, bit]) => ((eff >> BigInt(bit)) & 1n) === 0n).map(([n]) => n);
  const hex = eff.toString(16).padStart(16, '0');
  if (uid !== 0) {
    return {
      status: 'fail',
      name,
      detail: `running as uid ${uid} (CapEff ${hex}); tracefs and the syscall tracepoints are root-only`,
      fix: 'run `sudo watchpost doctor`',
    };
  }
  if (missing.length) {
    return {
      status: 'fail',
      name,
      detail: `root, but CapEff ${hex} lacks ${missing.join(', ')} (a container or a capability-dropping wrapper?)`,
      fix: 'run with full root capabilities (e.g. a privileged container, or outside the wrapper)',
    };
  }
  return { status: 'ok', name, detail: `uid 0, CapEff ${hex}: ${NEEDED.map(([n]) => n).join(', ')} present` };
}
