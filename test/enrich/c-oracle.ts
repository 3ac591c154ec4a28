import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Asks the C compiler what the system headers say: compiles a program that prints each name's value.
 * Names that are not macros (enum members) go in `always`; macros missing from these headers come back undefined.
 */
export function headerValues(headers: readonly string[], macros: readonly string[], always: readonly string[] = []): Map<string, bigint | undefined> {
  const dir = mkdtempSync(join(tmpdir(), 'wp-oracle-'));
  try {
    const print = (n: string) => `  printf("%s %lld\\n", "${n}", (long long)(${n}));`;
    const src = [
      '#include <stdio.h>',
      ...headers.map((h) => `#include <${h}>`),
      'int main(void) {',
      ...macros.map((n) => `#ifdef ${n}\n${print(n)}\n#else\n  printf("%s -\\n", "${n}");\n#endif`),
      ...always.map(print),
      '  return 0;',
      '}',
    ].join('\n');
    writeFileSync(join(dir, 'o.c'), src);
    execFileSync('gcc', ['-o', join(dir, 'o'), join(dir, 'o.c')], { stdio: ['ignore', 'ignore', 'pipe'] });
    const out = execFileSync(join(dir, 'o'), { encoding: 'utf8' });
    const values = new Map<string, bigint | undefined>();
    for (const line of out.trim().split('\n')) {
      const [name, value] = line.split(' ');
      values.set(name, value === '-' ? undefined : BigInt(value));
    }
    return values;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function hasCompiler(): boolean {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
