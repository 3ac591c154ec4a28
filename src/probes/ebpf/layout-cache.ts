import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VMLINUX_BTF } from './btf.js';

/**
 * What the programs need from kernel BTF (struct offsets, tp_btf type ids), kept on disk per kernel build: parsing
 * /sys/kernel/btf/vmlinux costs ~120 ms of every start otherwise. The key is the kernel's version string and the BTF
 * file's size, so a new kernel never reads another kernel's offsets. A cache that cannot be read or written is
 * simply not used.
 */

const DIR = process.env.WATCHPOST_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? '/var/cache', 'watchpost');

function kernelKey(): string | undefined {
  try {
    const version = readFileSync('/proc/version', 'utf8');
    const size = statSync(VMLINUX_BTF).size;
    return fnv1a64(`${version}\n${size}`);
  } catch {
    return undefined;
  }
}

/**
 * FNV-1a, 64-bit, in hex: tells kernel builds apart (the directory is root's: there is no one to defend against).
 * Not node:crypto, whose loading cost every eBPF start ~1 MB of RSS for this one hash.
 */
function fnv1a64(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++) h = BigInt.asUintN(64, (h ^ BigInt(text.charCodeAt(i))) * 0x100000001b3n);
  return h.toString(16).padStart(16, '0');
}

interface CacheFile {
  layout?: unknown;
  typeIds?: Record<string, number>;
}

let loaded: { key: string; data: CacheFile } | undefined;

function file(key: string): string {
  return join(DIR, `btf-${key}.json`);
}

function read(): { key: string; data: CacheFile } | undefined {
  if (loaded) return loaded;
  const key = kernelKey();
  if (!key) return undefined;
  let data: CacheFile = {};
  try {
    data = JSON.parse(readFileSync(file(key), 'utf8')) as CacheFile;
  } catch {
    // first start on this kernel
  }
  loaded = { key, data };
  return loaded;
}

function write(): void {
  if (!loaded) return;
  try {
    mkdirSync(DIR, { recursive: true, mode: 0o755 });
    const tmp = `${file(loaded.key)}.${process.pid}`;
    writeFileSync(tmp, JSON.stringify(loaded.data), { mode: 0o644 });
    renameSync(tmp, file(loaded.key));
  } catch {
    // read-only or no room: next start parses BTF again
  }
}

/** The cached layout for this kernel, or the computed one (then cached). */
export function cachedLayout<T>(compute: () => T): T {
  const c = read();
  if (c?.data.layout !== undefined) return c.data.layout as T;
  const layout = compute();
  if (c) {
    c.data.layout = layout;
    write();
  }
  return layout;
}

/** The cached type id for this kernel, or the computed one (then cached). */
export function cachedTypeId(key: string, compute: () => number): number {
  const c = read();
  const hit = c?.data.typeIds?.[key];
  if (hit !== undefined) return hit;
  const id = compute();
  if (c) {
    c.data.typeIds = { ...(c.data.typeIds ?? {}), [key]: id };
    write();
  }
  return id;
}
