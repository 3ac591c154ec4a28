/** A mistake in what the user asked for: the CLI prints the message alone and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The machine cannot do what was asked (not root, no tracefs, …): the CLI prints the message alone and exits 1. */
export class EnvironmentError extends Error {
  override name = 'EnvironmentError';
}

/** A YAML parser's error as one line in words: its recursion limit on deeply nested input surfaces as a JavaScript RangeError message. */
export function yamlSyntaxProblem(message: string): string {
  if (/call stack size/i.test(message)) return 'nested too deeply to read (thousands of levels); no policy or rule needs more than a few';
  return message.split('\n')[0];
}
