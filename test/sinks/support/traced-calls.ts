import { spawn, type ChildProcess } from 'node:child_process';
import { CLI } from '../../support/cli.js';
import { startSyscaller } from '../../support/syscaller.js';
import { waitFor } from './events.js';

export interface TracedCalls {
  cli: ChildProcess;
  stderr: () => string;
  /** The exit code, once stderr is read to its end. */
  exit: Promise<number | null>;
}

/** Starts `watchpost ARGS`, then has the helper copy `exe` make `calls`; the caller stops the CLI (and kills it in a finally). */
export async function traceCalls(args: string[], exe: string, calls: string[]): Promise<TracedCalls> {
  const cli = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  cli.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<number | null>((resolve) => cli.once('close', resolve));
  try {
    await waitFor(`watchpost to start (${stderr})`, () => (stderr.includes('tracing with') ? true : cli.exitCode !== null ? Promise.reject(new Error(stderr)) : undefined), 15_000);
    const sc = await startSyscaller(calls, { exe });
    try {
      await sc.go();
    } finally {
      await sc.end();
    }
  } catch (err) {
    cli.kill('SIGKILL');
    throw err;
  }
  return { cli, stderr: () => stderr, exit };
}
