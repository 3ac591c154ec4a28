import { UsageError } from '../model/errors.js';
import type { Output } from './output.js';
import { StdoutOutput } from './stdout-output.js';

/** One `-o` value: `table`, `json`, or `KIND:TARGET` (e.g. `json:/var/log/watchpost.jsonl`). */
export type OutputFactory = (target: string) => Output;

const factories = new Map<string, OutputFactory>();

/** Output kinds with a target (`KIND:TARGET`); each sink module registers itself here. */
export function registerOutput(kind: string, factory: OutputFactory): void {
  factories.set(kind, factory);
}

export function createOutput(spec: string): Output {
  if (spec === 'table' || spec === 'json') return new StdoutOutput(spec);
  const colon = spec.indexOf(':');
  const kind = colon < 0 ? spec : spec.slice(0, colon);
  const factory = factories.get(kind);
  if (!factory || colon < 0) {
    const known = ['table', 'json', ...[...factories.keys()].map((k) => `${k}:…`)].join(', ');
    throw new UsageError(`-o ${spec}: unknown output; use one of ${known}`);
  }
  return factory(spec.slice(colon + 1));
}
