import { pageFor } from '../docs/generate.js';
import { resolveEvents } from '../trace.js';

/** Prints an event's page (the Markdown of docs/events/<name>.md); an unknown name is a UsageError naming the closest. */
export function describeCommand(name: string): void {
  const [event] = resolveEvents([name]);
  process.stdout.write(pageFor(event));
}
