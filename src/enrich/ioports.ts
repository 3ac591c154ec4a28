import { readFileSync } from 'node:fs';

/** Who owns the I/O ports an ioperm/iopl call opens: the host's /proc/ioports first, the legacy PC map second. */

export interface IoportEntry {
  first: number;
  last: number;
  name: string;
  /** Nesting level in /proc/ioports (0 = top). */
  depth: number;
  /** True for windows that contain other entries (PCI buses and bridges): they route ports rather than own them. */
  container: boolean;
}

export interface PortRange {
  first: number;
  last: number;
  /** Who the ports belong to, e.g. "keyboard (i8042 keyboard controller)", or "unknown". */
  owner: string;
  source: 'ioports' | 'legacy' | 'unknown';
}

interface LegacyRange {
  first: number;
  last: number;
  name: string;
}

const PORT_SPACE_END = 0xffff;

// Well-known PC ports (shared/design.md, plus reset/SMI ports malware pokes). Nested ranges are fine: the narrowest wins.
const LEGACY: readonly LegacyRange[] = [
  { first: 0x00, last: 0x1f, name: 'DMA controller 1' },
  { first: 0x20, last: 0x21, name: 'PIC 1 (interrupt controller)' },
  { first: 0x40, last: 0x43, name: 'PIT (timer)' },
  { first: 0x60, last: 0x60, name: 'keyboard controller (i8042)' },
  { first: 0x61, last: 0x61, name: 'system control port B (PC speaker, NMI status)' },
  { first: 0x64, last: 0x64, name: 'keyboard controller (i8042; can reset the CPU)' },
  { first: 0x70, last: 0x71, name: 'CMOS/RTC (also NMI mask)' },
  { first: 0x80, last: 0x80, name: 'POST code' },
  { first: 0x81, last: 0x8f, name: 'DMA page registers' },
  { first: 0x92, last: 0x92, name: 'system control port A (fast A20, fast reset)' },
  { first: 0xa0, last: 0xa1, name: 'PIC 2 (interrupt controller)' },
  { first: 0xb2, last: 0xb3, name: 'APM/SMI command port (enters SMM)' },
  { first: 0xc0, last: 0xdf, name: 'DMA controller 2' },
  { first: 0xf0, last: 0xff, name: 'FPU' },
  { first: 0x170, last: 0x177, name: 'secondary ATA' },
  { first: 0x1f0, last: 0x1f7, name: 'primary ATA' },
  { first: 0x278, last: 0x27f, name: 'parallel port LPT2' },
  { first: 0x2f8, last: 0x2ff, name: 'serial port COM2' },
  { first: 0x378, last: 0x37f, name: 'parallel port LPT1' },
  { first: 0x3c0, last: 0x3df, name: 'VGA' },
  { first: 0x3f6, last: 0x3f6, name: 'primary ATA control' },
  { first: 0x3f8, last: 0x3ff, name: 'serial port COM1' },
  { first: 0xcf8, last: 0xcff, name: 'PCI configuration space (reaches every PCI device)' },
  { first: 0xcf9, last: 0xcf9, name: 'reset control register (PCI configuration space)' },
];

const LINE = /^(\s*)([0-9a-fA-F]+)-([0-9a-fA-F]+)\s*:\s*(.*?)\s*$/;

/** Parses /proc/ioports text. Lines read without privilege show every range as 0000-0000; those carry no information and are dropped. */
export function parseIoports(text: string): IoportEntry[] {
  const entries: IoportEntry[] = [];
  const stack: IoportEntry[] = [];
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const entry: IoportEntry = {
      first: Number.parseInt(m[2], 16),
      last: Number.parseInt(m[3], 16),
      name: m[4],
      depth: m[1].length >> 1, // the kernel indents two spaces per level
      container: false,
    };
    if (entry.first === 0 && entry.last === 0) continue;
    while (stack.length > entry.depth) stack.pop();
    const parent = stack[stack.length - 1];
    if (parent) parent.container = true;
    stack.push(entry);
    entries.push(entry);
  }
  return entries;
}

let cached: IoportEntry[] | undefined;

/** /proc/ioports of this host, read once; empty when unreadable (the legacy table still names ports). */
export function loadIoports(): readonly IoportEntry[] {
  if (cached === undefined) {
    try {
      cached = parseIoports(readFileSync('/proc/ioports', 'latin1'));
    } catch {
      cached = [];
    }
  }
  return cached;
}

/** The narrowest range containing port; deeper /proc/ioports entries are never wider than their parents. */
function narrowest<R extends { first: number; last: number }>(ranges: readonly R[], port: number, accept: (r: R) => boolean): R | undefined {
  let best: R | undefined;
  for (const r of ranges) {
    if (r.first <= port && port <= r.last && accept(r) && (!best || r.last - r.first < best.last - best.first)) best = r;
  }
  return best;
}

function ownerOf(port: number, table: readonly IoportEntry[]): Omit<PortRange, 'first' | 'last'> {
  const leaf = narrowest(table, port, (e) => !e.container);
  const legacy = narrowest(LEGACY, port, () => true);
  if (leaf) return { owner: legacy && legacy.name !== leaf.name ? `${leaf.name} / ${legacy.name}` : leaf.name, source: 'ioports' };
  if (legacy) return { owner: legacy.name, source: 'legacy' };
  // A bus window names the port only when nothing more specific does: routed there, claimed by no driver.
  const window = narrowest(table, port, () => true);
  if (window) return { owner: `unclaimed (${window.name})`, source: 'ioports' };
  return { owner: 'unknown', source: 'unknown' };
}

/**
 * The sub-ranges of ports from..from+num-1 and who owns each, in port order; ports above 0xffff do not exist and are left out.
 * Works per boundary, not per port, so iopl's whole 64 Ki space costs as little as one port.
 */
export function portOwners(from: number | bigint, num: number | bigint, table: readonly IoportEntry[]): PortRange[] {
  const start = BigInt(from);
  const count = BigInt(num);
  if (count <= 0n || start < 0n || start > BigInt(PORT_SPACE_END)) return [];
  const first = Number(start);
  const last = Number(start + count - 1n > BigInt(PORT_SPACE_END) ? BigInt(PORT_SPACE_END) : start + count - 1n);

  // Ownership can only change where some range begins or ends.
  const cuts = new Set<number>([first]);
  for (const r of [...table, ...LEGACY]) {
    if (r.first > first && r.first <= last) cuts.add(r.first);
    if (r.last + 1 > first && r.last + 1 <= last) cuts.add(r.last + 1);
  }
  const starts = [...cuts].sort((a, b) => a - b);

  const out: PortRange[] = [];
  for (let i = 0; i < starts.length; i++) {
    const segEnd = i + 1 < starts.length ? starts[i + 1] - 1 : last;
    const { owner, source } = ownerOf(starts[i], table);
    const prev = out[out.length - 1];
    if (prev && prev.owner === owner && prev.source === source && prev.last + 1 === starts[i]) prev.last = segEnd;
    else out.push({ first: starts[i], last: segEnd, owner, source });
  }
  return out;
}

/** The ports iopl(level) opens: level 3 is the whole space (since 5.5 the kernel emulates it with the I/O bitmap), lower levels none. */
export function ioplPorts(level: number): { from: number; num: number } {
  return level === 3 ? { from: 0, num: PORT_SPACE_END + 1 } : { from: 0, num: 0 };
}

const hex = (n: number) => `0x${n.toString(16)}`;

/** "0x60 keyboard, 0x61-0x63 unknown, …" for the table view; past maxRanges the rest is counted, not listed. */
export function formatPortOwners(ranges: readonly PortRange[], maxRanges = 8): string {
  if (ranges.length === 0) return 'no ports';
  const text = (r: PortRange) => `${r.first === r.last ? hex(r.first) : `${hex(r.first)}-${hex(r.last)}`} ${r.owner}`;
  if (ranges.length <= maxRanges) return ranges.map(text).join(', ');
  const shown = ranges.slice(0, Math.max(1, maxRanges - 1)).map(text);
  return `${shown.join(', ')}, … +${ranges.length - shown.length} more ranges`;
}
