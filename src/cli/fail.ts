import { EnvironmentError, UsageError } from '../model/errors.js';

/** Ends the CLI on an error: the message alone (exit 2 for a usage mistake, 1 otherwise), the stack only with WATCHPOST_DEBUG. */
export function fail(err: unknown): never {
  if (err instanceof UsageError) {
    process.stderr.write(`watchpost: ${err.message}\n`);
    process.exit(2);
  }
  if (err instanceof EnvironmentError) {
    process.stderr.write(`watchpost: ${err.message}\n`);
    process.exit(1);
  }
  const e = err as Error;
  process.stderr.write(`watchpost: ${e?.message ?? String(err)}\n`);
  if (process.env.WATCHPOST_DEBUG) process.stderr.write(`${e?.stack ?? ''}\n`);
  process.exit(1);
}
