import { UsageError } from '../model/errors.js';

/** Says where an offset of the parsed text sits, e.g. `--events 'ioperm.dta.x=1' (column 8)` or `p.yaml:12:9`. */
export type Locate = (offset: number) => string;

const MAX_SHOWN = 60;

/** Quotes user text for a one-line message: control characters escaped, long text cut. */
export function show(text: string): string {
  let out = '';
  for (const ch of text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text) {
    const code = ch.codePointAt(0) ?? 0;
    out += code < 0x20 || code === 0x7f || code === 0x2028 || code === 0x2029 ? `\\u${code.toString(16).padStart(4, '0')}` : ch;
  }
  return `'${out}'`;
}

/** A flag's value as the location of a problem. */
export function flagLocation(flag: string, value: string): Locate {
  return (offset) => `${flag} ${show(value)} (column ${offset + 1})`;
}

/** The one-line usage error: where, what is wrong, how to fix it. */
export function problem(locate: Locate, offset: number, what: string, fix: string): UsageError {
  return new UsageError(`${locate(offset)}: ${what}; ${fix}`);
}

/** Levenshtein distance. */
export function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length];
}

/** Up to three candidates closest to `name` by edit distance, closest first; none when nothing is near. */
export function closest(name: string, candidates: Iterable<string>): string[] {
  const limit = Math.max(2, Math.floor(name.length / 3));
  return [...candidates]
    .map((c) => ({ c, d: distance(name.toLowerCase(), c.toLowerCase()) }))
    .filter(({ d }) => d <= limit)
    .sort((x, y) => x.d - y.d || x.c.localeCompare(y.c))
    .slice(0, 3)
    .map(({ c }) => c);
}

/** "did you mean a, b?" or the fallback advice. */
export function suggest(name: string, candidates: Iterable<string>, fallback: string): string {
  const near = closest(name, candidates);
  return near.length > 0 ? `did you mean ${near.join(', ')}?` : fallback;
}
