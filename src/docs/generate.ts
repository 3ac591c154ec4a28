import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EVENTS } from '../catalog/events.js';
import type { EventDefinition } from '../catalog/types.js';
import { builtinSignatures } from '../detect/builtins.js';
import { eventPage, type DetectionRef } from './event-page.js';
import { EXAMPLES } from './examples.js';

/** Detections listed on the event pages: the built-in signatures. */
export const DETECTIONS: readonly DetectionRef[] = builtinSignatures().map((s) => ({ id: s.metadata.id, name: s.metadata.name, events: s.events }));

/** The page `watchpost describe` prints and docs/events/<name>.md holds. */
export function pageFor(event: EventDefinition): string {
  return eventPage(event, { example: EXAMPLES[event.name], detections: DETECTIONS });
}

/** docs/events/<name>.md for every catalog event: file name -> content. */
export function generateDocs(): Map<string, string> {
  return new Map(EVENTS.map((e) => [`${e.name}.md`, pageFor(e)]));
}

/** docs/events in the repository, found from dist/src/docs at run time. */
export const DOCS_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../../docs/events');

function main(): void {
  mkdirSync(DOCS_DIR, { recursive: true });
  for (const [file, text] of generateDocs()) writeFileSync(join(DOCS_DIR, file), text);
  process.stdout.write(`wrote ${[...generateDocs().keys()].map((f) => `docs/events/${f}`).join(', ')}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
