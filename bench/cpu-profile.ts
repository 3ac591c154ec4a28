/**
 * The functions a `node --cpu-prof` profile spent most self time in.
 *   node dist/bench/cpu-profile.js FILE.cpuprofile [N]   prints the top N (default 10)
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  /** Function name (`(anonymous)` when it has none) and where it is: file path from the package root, 1-based line. */
  fn: string;
  where: string;
  selfMs: number;
  /** Share of the profile's busy time (idle left out). */
  pct: number;
}

export interface ProfileTop {
  /** Busy time sampled, ms. */
  totalMs: number;
  top: SelfTime[];
}

/** Where a frame is, relative to the package (dist/… for our code, node:… for Node's own). */
function whereOf(f: ProfileNode['callFrame']): string {
  if (!f.url) return '';
  let path = f.url.startsWith('file://') ? fileURLToPath(f.url) : f.url;
  const dist = path.lastIndexOf('/dist/');
  if (dist >= 0) path = path.slice(dist + 1);
  else {
    const nm = path.lastIndexOf('/node_modules/');
    if (nm >= 0) path = path.slice(nm + 1);
  }
  return `${path}:${f.lineNumber + 1}`;
}

/** Self time summed per function (a function shows up as one node per call path), largest first. */
export function topSelfTime(profile: CpuProfile, n = 10): ProfileTop {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, ProfileNode>();
  for (const node of profile.nodes) for (const c of node.children ?? []) parentOf.set(c, node);
  // V8 leaves native code (C++ called from JS: string encoding, builtins) unnamed: name it by its caller
  const nameOf = (node: ProfileNode): string => {
    if (node.callFrame.functionName) return node.callFrame.functionName;
    if (node.callFrame.url) return '(anonymous)';
    const caller = parentOf.get(node.id)?.callFrame.functionName;
    return caller ? `(native, called by ${caller})` : '(native)';
  };
  const self = new Map<string, { fn: string; where: string; us: number }>();
  let busyUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]);
    if (!node) continue;
    // a sample's time is the delta to the next one (V8's own reading of its timeDeltas)
    const us = profile.timeDeltas[i + 1] ?? 0;
    const fn = nameOf(node);
    if (fn === '(idle)') continue;
    busyUs += us;
    const where = whereOf(node.callFrame);
    const key = `${fn}\u0000${where}`;
    const entry = self.get(key);
    if (entry) entry.us += us;
    else self.set(key, { fn, where, us });
  }
  const top = [...self.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, n)
    .map((e) => ({ fn: e.fn, where: e.where, selfMs: e.us / 1000, pct: busyUs ? (100 * e.us) / busyUs : 0 }));
  return { totalMs: busyUs / 1000, top };
}

export function readProfile(file: string): CpuProfile {
  return JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [file, n] = process.argv.slice(2);
  const { totalMs, top } = topSelfTime(readProfile(file), Number(n ?? 10));
  process.stdout.write(`${totalMs.toFixed(0)} ms busy\n`);
  for (const t of top) process.stdout.write(`${t.selfMs.toFixed(1).padStart(9)} ms ${t.pct.toFixed(1).padStart(5)}%  ${t.fn}  ${t.where}\n`);
}
