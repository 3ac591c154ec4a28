import { compatSupport } from '../../src/probes/compat-support.js';

/**
 * What this kernel can do, for tests that need it: `false` when it can, else the reason a test that needs it is
 * skipped (it names the missing feature). Found out on this machine, never assumed.
 */

const compat = compatSupport();

/** Tests that make 32-bit (int $0x80) calls: some kernels refuse them all (the caller dies with SIGSEGV). */
export const NO_32BIT: string | false = compat.ok ? false : `needs 32-bit syscalls (int $0x80): this kernel runs none (${compat.detail})`;

/** A syscaller command that makes a 32-bit call: NAME32[:ARGS], perfattr32, optionally behind thread:/shortthread:/spawn:. */
export function is32(command: string): boolean {
  const name = command.replace(/^(?:thread|shortthread|spawn):/, '').split(':')[0];
  return name.endsWith('32');
}

/** The commands as given where this kernel runs 32-bit syscalls; elsewhere without the 32-bit ones (the native ones still run). */
export function where32(commands: readonly string[]): string[] {
  return NO_32BIT ? commands.filter((c) => !is32(c)) : [...commands];
}
