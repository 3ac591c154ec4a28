import { UsageError } from '../model/errors.js';

/** `-o KIND:TARGET?key=value&…`: the part before `?` and the options after it, each read once by name. */
export class TargetOptions {
  private readonly params: URLSearchParams;
  private readonly used = new Set<string>();

  constructor(
    readonly spec: string,
    query: string,
  ) {
    this.params = new URLSearchParams(query);
  }

  /** Splits `base?query` at the last `?` (a file path may not contain one after it). */
  static split(spec: string): { base: string; options: TargetOptions } {
    const q = spec.lastIndexOf('?');
    const base = q < 0 ? spec : spec.slice(0, q);
    return { base, options: new TargetOptions(spec, q < 0 ? '' : spec.slice(q + 1)) };
  }

  string(key: string, fallback: string): string {
    this.used.add(key);
    return this.params.get(key) ?? fallback;
  }

  oneOf<T extends string>(key: string, choices: readonly T[], fallback: T): T {
    const v = this.string(key, fallback);
    if (!(choices as readonly string[]).includes(v)) throw this.bad(key, v, `one of ${choices.join(', ')}`);
    return v as T;
  }

  /** A whole number, with an optional K/M/G suffix (powers of 1024) when `bytes` is set. */
  count(key: string, fallback: number, { min = 0, bytes = false } = {}): number {
    this.used.add(key);
    const raw = this.params.get(key);
    if (raw === null) return fallback;
    const m = /^(\d+)([KMG]?)$/i.exec(raw);
    const unit = m?.[2] ? 1024 ** ('KMG'.indexOf(m[2].toUpperCase()) + 1) : 1;
    const n = m && (bytes || unit === 1) ? Number(m[1]) * unit : NaN;
    if (!Number.isSafeInteger(n) || n < min) throw this.bad(key, raw, `a whole number >= ${min}${bytes ? ' (K, M, G suffixes allowed)' : ''}`);
    return n;
  }

  /** Milliseconds: `250`, `250ms`, `5s`. */
  duration(key: string, fallbackMs: number): number {
    this.used.add(key);
    const raw = this.params.get(key);
    if (raw === null) return fallbackMs;
    const m = /^(\d+)(ms|s)?$/.exec(raw);
    if (!m) throw this.bad(key, raw, 'a duration like 500ms or 5s');
    return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
  }

  /** Call after reading every option: an unknown key is a typo the user wants to hear about. */
  rejectUnknown(): void {
    for (const key of this.params.keys()) {
      if (!this.used.has(key)) throw new UsageError(`-o ${this.spec}: unknown option "${key}"; known: ${[...this.used].join(', ')}`);
    }
  }

  private bad(key: string, value: string, expected: string): UsageError {
    return new UsageError(`-o ${this.spec}: ${key}=${value} is not valid; expected ${expected}`);
  }
}
