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

export function trackForCleanup(c: Closable): () => void {
  if (!installed) {
    installed = true;
    process.on('exit', closeAll);
    for (const s of SIGNALS) process.on(s, onSignal);
  }
  open.add(c);
  return () => open.delete(c);
}
