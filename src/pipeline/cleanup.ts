/**
 * Kernel objects must not outlive Watchpost: every open probe is closed on exit, on uncaught errors and on
 * SIGINT/SIGTERM/SIGHUP. When nobody else handles the signal (library use), we close and re-raise it so the
 * process still dies the way the sender asked.
 */
interface Closable {
  close(): void;
}

const open = new Set<Closable>();
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let installed = false;

function closeAll(): void {
  for (const c of [...open]) {
    try {
      c.close();
    } catch {
      // keep closing the others
    }
    open.delete(c);
  }
}

function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return; // the application handles it (the CLI stops gracefully)
  closeAll();
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  process.kill(process.pid, signal);
}

/**
 * Catches SIGINT/SIGTERM/SIGHUP from now on. Call it before making any kernel object: without a handler the kernel
 * kills the process at once, in the middle of start-up, and what was made so far (an armed instance) stays behind.
 */
export function guardSignals(): void {
  if (installed) return;
  installed = true;
  process.on('exit', closeAll);
  for (const s of SIGNALS) process.on(s, onSignal);
}

export function trackForCleanup(c: Closable): () => void {
  guardSignals();
  open.add(c);
  return () => open.delete(c);
}
