import { readFileSync, readdirSync } from 'node:fs';

/** Flag words of userfaultfd and perf_event_open, and the perf_event_attr type/config names, as text. */

type FlagTable = readonly (readonly [string, number])[];

const USERFAULTFD_FLAGS: FlagTable = [
  ['O_CLOEXEC', 0o2000000],
  ['O_NONBLOCK', 0o4000],
  // Restricts the fd to faults from user mode; without it, kernel-mode faults need CAP_SYS_PTRACE or vm.unprivileged_userfaultfd.
  ['UFFD_USER_MODE_ONLY', 1],
];

const PERF_FLAGS: FlagTable = [
  ['PERF_FLAG_FD_NO_GROUP', 1],
  ['PERF_FLAG_FD_OUTPUT', 2],
  ['PERF_FLAG_PID_CGROUP', 4],
  ['PERF_FLAG_FD_CLOEXEC', 8],
];

/** "A|B" for the known bits, any unknown bits appended in hex, "0" for none. Flags here fit in 32 bits. */
function formatFlags(value: number | bigint, table: FlagTable): string {
  let rest = typeof value === 'bigint' ? value : BigInt(value);
  if (rest < 0n) rest = BigInt.asUintN(32, rest);
  const parts: string[] = [];
  for (const [name, bit] of table) {
    const b = BigInt(bit);
    if ((rest & b) !== 0n) {
      parts.push(name);
      rest &= ~b;
    }
  }
  if (rest !== 0n) parts.push(`0x${rest.toString(16)}`);
  return parts.length === 0 ? '0' : parts.join('|');
}

/** userfaultfd(2) flags, e.g. 0x80801 -> "O_CLOEXEC|O_NONBLOCK|UFFD_USER_MODE_ONLY". */
export function userfaultfdFlags(flags: number | bigint): string {
  return formatFlags(flags, USERFAULTFD_FLAGS);
}

/** perf_event_open(2) flags, e.g. 8 -> "PERF_FLAG_FD_CLOEXEC". */
export function perfEventOpenFlags(flags: number | bigint): string {
  return formatFlags(flags, PERF_FLAGS);
}

const PERF_TYPES = ['PERF_TYPE_HARDWARE', 'PERF_TYPE_SOFTWARE', 'PERF_TYPE_TRACEPOINT', 'PERF_TYPE_HW_CACHE', 'PERF_TYPE_RAW', 'PERF_TYPE_BREAKPOINT'];

const HW_CONFIGS = [
  'PERF_COUNT_HW_CPU_CYCLES', 'PERF_COUNT_HW_INSTRUCTIONS', 'PERF_COUNT_HW_CACHE_REFERENCES', 'PERF_COUNT_HW_CACHE_MISSES',
  'PERF_COUNT_HW_BRANCH_INSTRUCTIONS', 'PERF_COUNT_HW_BRANCH_MISSES', 'PERF_COUNT_HW_BUS_CYCLES',
  'PERF_COUNT_HW_STALLED_CYCLES_FRONTEND', 'PERF_COUNT_HW_STALLED_CYCLES_BACKEND', 'PERF_COUNT_HW_REF_CPU_CYCLES',
];

const SW_CONFIGS = [
  'PERF_COUNT_SW_CPU_CLOCK', 'PERF_COUNT_SW_TASK_CLOCK', 'PERF_COUNT_SW_PAGE_FAULTS', 'PERF_COUNT_SW_CONTEXT_SWITCHES',
  'PERF_COUNT_SW_CPU_MIGRATIONS', 'PERF_COUNT_SW_PAGE_FAULTS_MIN', 'PERF_COUNT_SW_PAGE_FAULTS_MAJ',
  'PERF_COUNT_SW_ALIGNMENT_FAULTS', 'PERF_COUNT_SW_EMULATION_FAULTS', 'PERF_COUNT_SW_DUMMY', 'PERF_COUNT_SW_BPF_OUTPUT',
  'PERF_COUNT_SW_CGROUP_SWITCHES',
];

const HW_CACHE_IDS = ['L1D', 'L1I', 'LL', 'DTLB', 'ITLB', 'BPU', 'NODE'];
const HW_CACHE_OPS = ['READ', 'WRITE', 'PREFETCH'];
const HW_CACHE_RESULTS = ['ACCESS', 'MISS'];

/**
 * The name of perf_event_attr.type. Types from 6 up belong to dynamic PMUs (kprobe, uprobe, msr, …) whose numbers
 * differ per boot: pass the map from loadPmuTypes() to name them.
 */
export function perfTypeName(type: number, pmus?: ReadonlyMap<number, string>): string {
  return PERF_TYPES[type] ?? (pmus?.get(type) !== undefined ? `PMU ${pmus.get(type)}` : `type ${type}`);
}

/** The name of perf_event_attr.config for the generic types, e.g. (1, 10) -> "PERF_COUNT_SW_BPF_OUTPUT"; hex otherwise. */
export function perfConfigName(type: number, config: number | bigint): string {
  const value = typeof config === 'bigint' ? config : BigInt(config);
  const hex = `0x${value.toString(16)}`;
  // Since 6.0, hardware and cache events on hybrid CPUs carry the PMU type in config bits 32-63.
  const low = Number(value & 0xffffffffn);
  const pmu = Number(value >> 32n);
  const onPmu = (name: string | undefined) => (name === undefined ? hex : pmu !== 0 ? `${name} (PMU ${pmu})` : name);
  switch (type) {
    case 0:
      return onPmu(HW_CONFIGS[low]);
    case 1:
      return value < BigInt(SW_CONFIGS.length) ? SW_CONFIGS[Number(value)] : hex;
    case 2:
      return `tracepoint id ${value}`;
    case 3: {
      const [id, op, result] = [low & 0xff, (low >>> 8) & 0xff, (low >>> 16) & 0xff];
      const known = low <= 0xffffff && HW_CACHE_IDS[id] && HW_CACHE_OPS[op] && HW_CACHE_RESULTS[result];
      return onPmu(known ? `PERF_COUNT_HW_CACHE_${HW_CACHE_IDS[id]}:${HW_CACHE_OPS[op]}:${HW_CACHE_RESULTS[result]}` : undefined);
    }
    default:
      return hex;
  }
}

const pmuCache = new Map<string, ReadonlyMap<number, string>>();

/** Dynamic PMU type numbers of this boot, from <root>/<name>/type; read once per root. Empty if unreadable. */
export function loadPmuTypes(root = '/sys/bus/event_source/devices'): ReadonlyMap<number, string> {
  const hit = pmuCache.get(root);
  if (hit !== undefined) return hit;
  const map = new Map<number, string>();
  let names: string[] = [];
  try {
    names = readdirSync(root);
  } catch {
    // No sysfs or no perf support: perfTypeName falls back to the number.
  }
  for (const name of names) {
    try {
      const type = Number.parseInt(readFileSync(`${root}/${name}/type`, 'latin1'), 10);
      if (Number.isInteger(type) && !map.has(type)) map.set(type, name);
    } catch {
      // A PMU without a readable type file is skipped.
    }
  }
  pmuCache.set(root, map);
  return map;
}
