import { compatSupport, type CompatSupport } from '../probes/compat-support.js';
import type { CheckResult } from './check.js';
import { ia32Emulation, type KernelConfig } from './kernel-config.js';

/** Whether this kernel runs 32-bit syscalls, as found out (not as the config promises): a fact either way, so always ok. */
export function checkCompat(config: KernelConfig | undefined, cmdline: string, support: CompatSupport = compatSupport()): CheckResult {
  const name = '32-bit syscalls';
  if (support.ok) {
    return { status: 'ok', name, detail: `this kernel runs them (${support.detail}): Watchpost catches 32-bit callers by default (--compat auto)` };
  }
  const promised = !support.sandboxed && ia32Emulation(config, cmdline)
    ? ' although the kernel config and boot flags allow them (the hypervisor or platform refuses them)'
    : '';
  return {
    status: 'ok',
    name,
    detail: `this kernel runs none (${support.detail})${promised}: no caller can switch ABI to evade, so --compat auto uses the cheaper 64-bit-only hooks`,
  };
}
