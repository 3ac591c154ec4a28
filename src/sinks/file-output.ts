import { closeSync, constants, fchmodSync, fstatSync, ftruncateSync, lstatSync, openSync, renameSync, writev } from 'node:fs';
import { promisify } from 'node:util';
import { EnvironmentError, UsageError } from '../model/errors.js';
import type { Messages } from './message-queue.js';
import { PermanentError, QueuedOutput, queueSettings, type QueueSettings } from './queued-output.js';
import { registerOutput } from './registry.js';
import { StdoutOutput } from './stdout-output.js';
import { TargetOptions } from './target-options.js';

const { O_WRONLY, O_CREAT, O_APPEND, O_NOFOLLOW, O_EXCL } = constants;
const APPEND = O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW; // libuv adds O_CLOEXEC
const writevAsync = promisify(writev);

/** The buffers less their first n bytes (what a short write left). */
function skipBytes(chunks: readonly Buffer[], n: number): Buffer[] {
  const out: Buffer[] = [];
  for (const c of chunks) {
    if (n >= c.length) n -= c.length;
    else {
      out.push(n ? c.subarray(n) : c);
      n = 0;
    }
  }
  return out;
}

export interface FileOutputOptions {
  path: string;
  /** Rotate before the file would grow past this many bytes. */
  maxSize: number;
  /** Rotated files kept: PATH.1 (newest) … PATH.keep. */
  keep: number;
  queue: QueueSettings;
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * `-o json:PATH?maxSize=100M&keep=5`: JSON lines in a file, rotated by size, mode 0600, never through a symlink
 * (a symlink planted at the path could make a root process overwrite any file).
 */
export class FileOutput extends QueuedOutput {
  private fd: number;
  private size: number;
  private broken: string | undefined;

  constructor(private readonly opts: FileOutputOptions) {
    super(`json:${opts.path}`, opts.queue);
    this.fd = FileOutput.open(opts.path, APPEND);
    this.size = fstatSync(this.fd).size;
  }

  private static open(path: string, flags: number): number {
    let fd: number;
    try {
      fd = openSync(path, flags, 0o600);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ELOOP' || isSymlink(path)) throw new UsageError(`-o json:${path}: the path is a symlink; refusing to write through it (give the real file's path)`);
      if (code === 'EISDIR') throw new UsageError(`-o json:${path}: is a directory; give a file in it, e.g. -o json:${path.replace(/\/+$/, '')}/events.jsonl`);
      if (code === 'ENOENT') throw new UsageError(`-o json:${path}: the directory does not exist; create it first`);
      throw new EnvironmentError(`-o json:${path}: cannot open for writing: ${(err as Error).message}`);
    }
    if (!fstatSync(fd).isFile()) {
      closeSync(fd);
      throw new UsageError(`-o json:${path}: not a regular file`);
    }
    fchmodSync(fd, 0o600); // an existing file keeps no wider mode than a new one gets
    return fd;
  }

  protected async deliver(m: Messages): Promise<number> {
    if (this.broken) throw new PermanentError(this.broken);
    const sizes = m.sizes();
    let first = 0; // the first line not written yet
    let bytes = 0;
    for (let i = 0; i < m.length; i++) {
      const n = sizes[i];
      if (this.size + bytes + n > this.opts.maxSize && this.size + bytes > 0) {
        const wrote = await this.append(m, first, i, sizes);
        if (wrote < i - first) return first + wrote; // the rest is retried
        first = i;
        bytes = 0;
        if (!this.rotate()) throw new PermanentError(this.broken!, i); // the lines before it are written
      }
      bytes += n;
    }
    return first + (await this.append(m, first, m.length, sizes));
  }

  /**
   * Appends lines [from, to) in one writev and returns how many the file holds: after a failed or short write (ENOSPC,
   * EDQUOT, EFBIG) the file is cut back to its last whole line, so it never ends in half an event and `sent` counts
   * only whole ones.
   */
  private async append(m: Messages, from: number, to: number, sizes: Uint32Array): Promise<number> {
    if (from === to) return 0;
    const chunks = m.chunks(from, to);
    let total = 0;
    for (const c of chunks) total += c.length;
    const start = this.size;
    let off = 0;
    try {
      while (off < total) off += (await writevAsync(this.fd, off ? skipBytes(chunks, off) : chunks)).bytesWritten;
      this.size = start + off;
      return to - from;
    } catch (err) {
      let whole = 0;
      let kept = 0;
      for (let i = from; i < to && kept + sizes[i] <= off; i++) {
        kept += sizes[i];
        whole++;
      }
      ftruncateSync(this.fd, start + kept);
      this.size = start + kept;
      if (whole === 0) throw err;
      this.warn('partial', `${(err as Error).message}; ${whole} of ${to - from} events written, the rest retried`);
      return whole;
    }
  }

  /** PATH -> PATH.1 -> … -> PATH.keep (the oldest is removed), then a fresh PATH created exclusively. */
  private rotate(): boolean {
    const { path, keep } = this.opts;
    if (isSymlink(path)) {
      this.broken = `${path} was replaced by a symlink; refusing to rotate or write through it`;
      return false;
    }
    closeSync(this.fd);
    this.fd = -1;
    try {
      for (let i = keep - 1; i >= 1; i--) {
        try {
          renameSync(`${path}.${i}`, `${path}.${i + 1}`); // replaces the oldest; renames links, never follows them
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }
      renameSync(path, `${path}.1`);
      this.fd = FileOutput.open(path, APPEND | O_EXCL);
      this.size = 0;
      return true;
    } catch (err) {
      this.broken = `rotation failed: ${(err as Error).message}`;
      return false;
    }
  }

  protected override async shutdown(): Promise<void> {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

registerOutput('json', (target) => {
  const { base, options } = TargetOptions.split(target);
  if (!base) throw new UsageError('-o json:PATH: the path is missing');
  if (target === '-') return new StdoutOutput('json'); // the usual "-" for stdout, never a file named "-"
  const maxSize = options.count('maxSize', 100 * 1024 * 1024, { min: 4096, bytes: true });
  const keep = options.count('keep', 5, { min: 1 });
  // A disk is fast: each attempt writes all that waits (one writev); the queue absorbs a stall of a few tracer reads.
  const queue = queueSettings(options, { retries: 3, maxBatch: 32_768, maxQueue: 32_768, maxQueueBytes: 32 << 20 });
  options.rejectUnknown();
  return new FileOutput({ path: base, maxSize, keep, queue });
});
