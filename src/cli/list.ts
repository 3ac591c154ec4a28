import { allEventNames, EVENTS, findEvent } from '../catalog/events.js';
import type { EventDefinition } from '../catalog/types.js';

/** The family; with `all`, every syscall the kernel can trace too (arguments from its format files). */
export function listCommand(all = false): void {
  const lines = [`${'EVENT'.padEnd(17)}${'NR'.padEnd(5)}${'I386'.padEnd(6)}${'SETS'.padEnd(26)}ARGS`];
  const events: EventDefinition[] = all ? allEventNames().map((n) => findEvent(n)!).filter(Boolean) : [...EVENTS];
  for (const e of events) {
    const args = e.args.map((a) => `${a.type} ${a.name}[${a.tags.join(',')}]`).join(', ');
    lines.push(`${e.name.padEnd(17)}${String(e.nr).padEnd(5)}${String(e.compatNr ?? '-').padEnd(6)}${e.sets.join(',').padEnd(26)}${args}`);
  }
  if (!all) lines.push(`(and ${allEventNames().length - EVENTS.length} more syscalls: \`watchpost list --all\`)`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
