import { execFile } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = join(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
const NOBODY = 65534;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI as an unprivileged user (uid 65534): replay must not need root. */
export function runCliUnprivileged(args: string[], readable: string[] = []): Promise<CliResult> {
  for (const p of readable) chmodSync(p, p.endsWith('.jsonl') || p.endsWith('.yaml') ? 0o644 : 0o755);
  return new Promise((resolve) => {
    execFile(
      '/usr/bin/setpriv',
      ['--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups', process.execPath, CLI, ...args],
      { env: { ...process.env, HOME: '/tmp' } },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** `watchpost replay FILE -o json` as nobody: the finding lines it printed. */
export async function replayJson(file: string, extra: string[] = []): Promise<{ lines: string[]; stderr: string; code: number }> {
  const r = await runCliUnprivileged(['replay', file, '-o', 'json', ...extra], [dirname(file), file]);
  return { lines: r.stdout.split('\n').filter(Boolean), stderr: r.stderr, code: r.code };
}
