import type { ArgType } from '../catalog/types.js';
import { type Locate, problem, show } from './problem.js';
import type { Operator, StringPattern } from './spec.js';

/** `name<op>values` split at the operator, with offsets into the parsed text for error messages. */
export interface Comparison {
  name: string;
  op: Operator;
  /** Values as written, with the offset of each. */
  values: { text: string; offset: number }[];
}

const OPERATOR_CHARS = '=!<>';

/** Splits `text` (starting at `start`) into name, operator and comma-separated values; undefined when it has no operator. */
export function splitComparison(text: string, start: number, locate: Locate): Comparison | undefined {
  let i = start;
  while (i < text.length && !OPERATOR_CHARS.includes(text[i])) i++;
  if (i === text.length) return undefined;
  const name = text.slice(start, i);
  let op: Operator;
  if (text.startsWith('!=', i)) op = '!=';
  else if (text.startsWith('<=', i)) op = '<=';
  else if (text.startsWith('>=', i)) op = '>=';
  else if (text[i] === '=' || text[i] === '<' || text[i] === '>') op = text[i] as Operator;
  else throw problem(locate, i, `'!' must be followed by '='`, 'use != for "not equal"');
  const valuesStart = i + op.length;
  if (valuesStart < text.length && OPERATOR_CHARS.includes(text[valuesStart])) {
    throw problem(locate, valuesStart, `unexpected ${show(text[valuesStart])} after operator ${op}`, 'use one of = != < > <= >= followed by a value, e.g. uid>=1000');
  }
  const values: Comparison['values'] = [];
  let offset = valuesStart;
  for (const part of text.slice(valuesStart).split(',')) {
    if (part === '') throw problem(locate, offset, `empty value after ${show(name + op)}`, 'write a value, e.g. =1 or =1,2 (comma means "or")');
    values.push({ text: part, offset });
    offset += part.length + 1;
  }
  return { name, op, values };
}

/** Value ranges of the numeric types a filter can compare. */
export type NumericKind = ArgType | 'retval' | 'unsigned';

const RANGES: Record<NumericKind, [bigint, bigint, string]> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n, 'a 32-bit signed integer'],
  uint32: [0n, 2n ** 32n - 1n, 'a 32-bit unsigned integer'],
  int64: [-(2n ** 63n), 2n ** 63n - 1n, 'a 64-bit signed integer'],
  uint64: [0n, 2n ** 64n - 1n, 'a 64-bit unsigned integer'],
  pointer: [0n, 2n ** 64n - 1n, 'an address (64-bit unsigned)'],
  retval: [-(2n ** 63n), 2n ** 63n - 1n, 'a 64-bit signed integer'],
  unsigned: [0n, 2n ** 64n - 1n, 'a non-negative integer'],
};

const NUMBER_RE = /^-?(?:0[xX][0-9a-fA-F]+|[0-9]+)$/;

/** A decimal or 0x-hex integer within the range of `kind`. */
export function parseNumber(text: string, offset: number, kind: NumericKind, what: string, locate: Locate): bigint {
  const [min, max, described] = RANGES[kind];
  if (!NUMBER_RE.test(text)) {
    throw problem(locate, offset, `${what} value ${show(text)} is not a number`, `write ${described} in decimal or 0x hex, e.g. 1 or 0x3f8`);
  }
  const negative = text.startsWith('-');
  const magnitude = BigInt(negative ? text.slice(1) : text);
  const value = negative ? -magnitude : magnitude;
  if (value < min || value > max) {
    throw problem(locate, offset, `${what} value ${show(text)} is out of range`, `write ${described} between ${min} and ${max}`);
  }
  return value;
}

/** Numbers for `op`; rejects comparisons that can never hold, like `uid<0`. */
export function parseNumbers(c: Comparison, kind: NumericKind, what: string, locate: Locate): bigint[] {
  const values = c.values.map((v) => parseNumber(v.text, v.offset, kind, what, locate));
  const [min, max] = RANGES[kind];
  values.forEach((v, i) => {
    if ((c.op === '<' && v === min) || (c.op === '>' && v === max)) {
      throw problem(locate, c.values[i].offset, `${what}${c.op}${c.values[i].text} can never be true`, `use ${c.op}= or another bound`);
    }
  });
  return values;
}

/** A string value with Tracee's wildcards: `x*` prefix, `*x` suffix, `*x*` contains; `*` elsewhere is literal. */
export function parseStringPattern(text: string, offset: number, what: string, locate: Locate): StringPattern {
  if (text === '*' || text === '**') {
    throw problem(locate, offset, `${what} value ${show(text)} matches everything`, 'drop the filter, or write a prefix like bash* or a suffix like *sh');
  }
  const head = text.startsWith('*');
  const tail = text.endsWith('*');
  if (head && tail) return { match: 'contains', text: text.slice(1, -1) };
  if (tail) return { match: 'prefix', text: text.slice(0, -1) };
  if (head) return { match: 'suffix', text: text.slice(1) };
  return { match: 'exact', text };
}

/** Strings compare with = and != only. */
export function requireEquality(c: Comparison, start: number, what: string, locate: Locate): '=' | '!=' {
  if (c.op === '=' || c.op === '!=') return c.op;
  throw problem(locate, start + c.name.length, `${what} cannot be compared with ${c.op}`, 'use = or != (with * for prefix or suffix matches)');
}
