import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { gunzipSync } from 'node:zlib';

export interface KernelConfig {
  source: string;
  /** CONFIG_X -> value ('y', 'm', a string); unset options are absent. */
  values: ReadonlyMap<string, string>;
}

export function parseKernelConfig(text: string, source: string): KernelConfig {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/.exec(line);
    if (m) values.set(m[1], m[2]);
  }
  return { source, values };
}

/** The running kernel's build config, from /proc/config.gz or /boot/config-$(uname -r); undefined when neither is readable. */
export function readKernelConfig(): KernelConfig | undefined {
  try {
    return parseKernelConfig(gunzipSync(readFileSync('/proc/config.gz')).toString('utf8'), '/proc/config.gz');
  } catch {
    // try /boot
  }
  const boot = `/boot/config-${release()}`;
  try {
    return parseKernelConfig(readFileSync(boot, 'utf8'), boot);
  } catch {
    return undefined;
  }
}

export function isSet(config: KernelConfig, option: string): boolean {
  const v = config.values.get(option);
  return v === 'y' || v === 'm';
}

/**
 * Whether 64-bit processes may make 32-bit (`int $0x80`) syscalls: CONFIG_IA32_EMULATION, and the `ia32_emulation=`
 * boot flag (kernel >= 6.7) or its CONFIG_IA32_EMULATION_DEFAULT_DISABLED default. Without a config, assumed on.
 */
export function ia32Emulation(config: KernelConfig | undefined, cmdline: string): boolean {
  if (process.arch !== 'x64') return false;
  const flag = /(?:^|\s)ia32_emulation=(\S+)/.exec(cmdline)?.[1];
  if (flag !== undefined && ['0', 'n', 'no', 'off', 'false'].includes(flag.toLowerCase())) return false;
  if (!config) return true;
  if (!isSet(config, 'CONFIG_IA32_EMULATION')) return false;
  if (isSet(config, 'CONFIG_IA32_EMULATION_DEFAULT_DISABLED')) return flag !== undefined && ['1', 'y', 'yes', 'on', 'true'].includes(flag.toLowerCase());
  return true;
}
