import { closeSync, constants, fchmodSync, fstatSync, ftruncateSync, lstatSync, openSync, renameSync, write } from 'node:fs';
import { promisify } from 'node:util';
import { EnvironmentError, UsageError } from '../model/errors.js';
import { eventToJson } from './json.js';
import { PermanentError, QueuedOutput, queueSettings, type QueuedEvent, type QueueSettings } from './queued-output.js';
import { registerOutput } from './registry.js';
import { StdoutOutput } from './stdout-output.js';
import { TargetOptions } from './target-options.js';

const { O_WRONLY, O_CREAT, O_APPEND, O_NOFOLLOW, O_EXCL } = constants;
const APPEND = O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW; // libuv adds O_CLOEXEC
const writeAsync = promisify(write);

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

  protected async deliver(batch: readonly QueuedEvent[]): Promise<number> {
    if (this.broken) throw new PermanentError(this.broken);
    let lines: string[] = [];
    let bytes = 0;
    let first = 0; // batch index of lines[0]
    for (let i = 0; i < batch.length; i++) {
      const line = `${eventToJson(batch[i].ev)}\n`;
      const n = Buffer.byteLength(line);
      if (this.size + bytes + n > this.opts.maxSize && this.size + bytes > 0) {
        const wrote = await this.append(lines);
        if (wrote < lines.length) return first + wrote; // the rest is retried
        lines = [];
        bytes = 0;
        first = i;
        if (!this.rotate()) throw new PermanentError(this.broken!, i); // the events before it are written
      }
      lines.push(line);
      bytes += n;
    }
    return first + (await this.append(lines));
  }

  /**
   * Appends whole lines and returns how many the file holds: after a failed or short write (ENOSPC, EDQUOT, EFBIG)
   * the file is cut back to its last whole line, so it never ends in half an event and `sent` counts only whole ones.
   */
  private async append(lines: readonly string[]): Promise<number> {
    const buf = Buffer.from(lines.join(''));
    const start = this.size;
    let off = 0;
    try {
      while (off < buf.length) off += (await writeAsync(this.fd, buf, off, buf.length - off, null)).bytesWritten;
      this.size = start + off;
      return lines.length;
    } catch (err) {
      let whole = 0;
      let kept = 0;
      for (const line of lines) {
        const n = Buffer.byteLength(line);
        if (kept + n > off) break;
        kept += n;
        whole++;
      }
      ftruncateSync(this.fd, start + kept);
      this.size = start + kept;
      if (whole === 0) throw err;
      this.warn('partial', `${(err as Error).message}; ${whole} of ${lines.length} events written, the rest retried`);
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
  const queue = queueSettings(options, { retries: 3, maxBatch: 4096 }); // one write per tracer read (up to 4096 events): at 500 the pump fell behind a busy tracer
  options.rejectUnknown();
  return new FileOutput({ path: base, maxSize, keep, queue });
});
