import { readFileSync, readlinkSync } from 'node:fs';
import type { ThreadInfo, ThreadLookup } from './to-event.js';

// TEMPORARY: replaced by src/enrich/proc.ts once it lands.
export function procThreadLookup(): ThreadLookup {
  const cache = new Map<number, { at: number; info: ThreadInfo | undefined }>();
  return (tid) => {
    const now = Date.now();
    const hit = cache.get(tid);
    if (hit && now - hit.at < 500) return hit.info;
    let info: ThreadInfo | undefined;
    try {
      const status = readFileSync(`/proc/${tid}/status`, 'utf8');
      const f = (k: string): string => new RegExp(`^${k}:\\s*(.*)$`, 'm').exec(status)?.[1] ?? '';
      const pid = Number(f('Tgid'));
      let exePath = '';
      try {
        exePath = readlinkSync(`/proc/${pid}/exe`);
      } catch {
        // kernel thread or gone
      }
      info = { pid, ppid: Number(f('PPid')), uid: Number(f('Uid').split(/\s+/)[0]), comm: f('Name'), exePath, startTime: 0, mntns: 0, pidns: 0, nsPid: pid, nsTid: tid, nsPpid: Number(f('PPid')) };
    } catch {
      info = undefined;
    }
    cache.set(tid, { at: now, info });
    return info;
  };
}
