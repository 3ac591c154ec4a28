import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/src/cli/main.js, found from dist/test/support at run time. */
export const CLI = join(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');

export interface RunningCli {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code. */
  exit: Promise<number | null>;
  /** SIGINT, then the exit code. */
  stop: () => Promise<number | null>;
}

/** Starts `watchpost ARGS` (behind a `wrap` command when given) and resolves once it says it is tracing (rejects if it exits before). */
export async function startCli(args: string[] = [], options: { wrap?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<RunningCli> {
  const argv = [...(options.wrap ?? []), process.execPath, CLI, ...args];
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ? { ...process.env, ...options.env } : undefined });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('tracing with')) resolve();
    });
    void exit.then(() => reject(new Error(`CLI exited early: ${err}`)));
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exit,
    stop: async () => {
      child.kill('SIGINT');
      return exit;
    },
  };
}
