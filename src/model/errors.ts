/** A mistake in what the user asked for: the CLI prints the message alone and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The machine cannot do what was asked (not root, no tracefs, …): the CLI prints the message alone and exits 1. */
export class EnvironmentError extends Error {
  override name = 'EnvironmentError';
}
