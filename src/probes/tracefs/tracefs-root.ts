import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { EnvironmentError } from '../../model/errors.js';

const CANDIDATES = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];

/** Finds the mounted tracefs, mounting it at /sys/kernel/tracing when it is not (that changes no tracing state). */
export function tracefsRoot(): string {
  const mounted = mountedTracefsRoot();
  if (mounted) return mounted;
  try {
    execFileSync('mount', ['-t', 'tracefs', 'nodev', CANDIDATES[0]], { stdio: 'ignore' });
  } catch {
    // reported below
  }
  if (existsSync(`${CANDIDATES[0]}/instances`)) return CANDIDATES[0];
  throw new EnvironmentError(
    'tracefs is not mounted and could not be mounted: run `mount -t tracefs nodev /sys/kernel/tracing` as root (kernel needs CONFIG_TRACING)',
  );
}

/** The mounted tracefs, or undefined: never mounts it (for work that only matters where it is already there). */
export function mountedTracefsRoot(): string | undefined {
  return CANDIDATES.find((dir) => existsSync(`${dir}/instances`));
}
