import { EVENTS } from '../catalog/events.js';

export function listCommand(): void {
  const lines = [`${'EVENT'.padEnd(17)}${'NR'.padEnd(5)}${'I386'.padEnd(6)}${'SETS'.padEnd(26)}ARGS`];
  for (const e of EVENTS) {
    const args = e.args.map((a) => `${a.type} ${a.name}[${a.tags.join(',')}]`).join(', ');
    lines.push(`${e.name.padEnd(17)}${String(e.nr).padEnd(5)}${String(e.compatNr ?? '-').padEnd(6)}${e.sets.join(',').padEnd(26)}${args}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}
