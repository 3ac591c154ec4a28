import { pageFor } from '../docs/generate.js';
import { resolveEvents } from '../trace.js';
import { markdownForTerminal } from './terminal-markdown.js';

/**
 * Prints an event's page: plain text on a terminal, its Markdown (docs/events/<name>.md) when piped or with
 * --markdown. An unknown name is a UsageError naming the closest.
 */
export function describeCommand(name: string, opts: { markdown?: boolean } = {}): void {
  const [event] = resolveEvents([name]);
  const page = pageFor(event);
  const terminal = process.stdout.isTTY === true && !opts.markdown;
  process.stdout.write(terminal ? markdownForTerminal(page, Math.min(process.stdout.columns || 100, 100)) : page);
}
