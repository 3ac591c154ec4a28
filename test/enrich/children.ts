import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/** A child process that sleeps until stopped; spawn() returns after its exec, so /proc already shows the new image. */
export function startSleeper(command = 'sleep', args = ['1000']): ChildProcess & { pid: number } {
  const child = spawn(command, args, { stdio: ['pipe', 'ignore', 'ignore'] });
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  return child as ChildProcess & { pid: number };
}

/** Kills one child we started, by its pid, and waits until it has been reaped. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}
