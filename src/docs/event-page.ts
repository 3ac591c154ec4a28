import { NATIVE_NAME_BY_NR, findEvent } from '../catalog/events.js';
import { EVENT_KERNEL_NOTES } from '../catalog/kernel-notes.js';
import { TAG_MEANING, type ArgTag, type EventDefinition } from '../catalog/types.js';

/** A detection as an event page lists it; src/detect's signatures map onto this. */
export interface DetectionRef {
  id: string;
  name: string;
  /** Event names the detection reads. */
  events: readonly string[];
}

/** Real Watchpost output for an event, captured by test/docs/capture-examples.ts (see src/docs/examples.ts). */
export interface EventExample {
  /** `uname -r` and the backend of the capture. */
  kernel: string;
  backend: string;
  /** The test helper's commands (test/fixtures/syscaller.c): NAME:ARG:..., NAME32 for an `int $0x80` call. */
  calls: readonly string[];
  /** The CLI command line that printed `table`: the table header and one row per call. */
  tableCommand: string;
  table: readonly string[];
  /** The CLI command line that printed `json`: the first call as a JSON line. */
  jsonCommand: string;
  json: readonly string[];
}

export interface PageInputs {
  example?: EventExample;
  detections: readonly DetectionRef[];
}

const X86 = new Set(['x86_64', 'i386']);
const TAG_ORDER: readonly ArgTag[] = ['K', 'U', 'TOCTOU', 'OPT'];

const code = (s: string | number): string => `\`${s}\``;

function architectures(e: EventDefinition): string {
  const list = e.arches.map(code).join(', ');
  return e.arches.every((a) => X86.has(a)) ? `x86 only: ${list}` : list;
}

function firstSentence(text: string): string {
  const m = /^.*?\.(\s|$)/.exec(text);
  return (m ? m[0] : text).trim();
}

function argsSection(e: EventDefinition): string[] {
  const out = [
    '## Arguments',
    '',
    '| # | name | kernel type | JSON type | tags | meaning |',
    '| --- | --- | --- | --- | --- | --- |',
    ...e.args.map((a, i) => `| ${i} | ${code(a.name)} | ${code(a.kernelType)} | ${code(a.type)} | ${a.tags.join(', ')} | ${a.description} |`),
    '',
    'Argument tags:',
    '',
  ];
  const used = new Set(e.args.flatMap((a) => a.tags));
  for (const tag of TAG_ORDER) out.push(`- **${tag}**${used.has(tag) ? '' : ' (not used here)'} — ${TAG_MEANING[tag]}.`);
  out.push(
    '',
    "The kernel's syscall tracepoint record stores every argument in an 8-byte slot, whatever its C type; Watchpost reads each at the width of its JSON type.",
  );
  return out;
}

function compatLine(e: EventDefinition): string {
  if (e.compatNr === undefined) return 'This syscall has no i386 entry: there are no 32-bit callers to catch.';
  const native = NATIVE_NAME_BY_NR[e.compatNr];
  const marker = native
    ? ` The 64-bit table gives ${e.compatNr} to \`${native}\`, so Watchpost also records \`syscalls:sys_enter_${native}\` as a marker: a raw call with no marker from the same thread is a 32-bit ${e.name}.`
    : '';
  return (
    `32-bit callers (\`int $0x80\`) never fire those; they arrive on \`raw_syscalls:sys_enter\` / \`raw_syscalls:sys_exit\`, filtered in the kernel to \`id == ${e.compatNr}\` (the i386 number of ${e.name}).` +
    `${marker} \`--compat off\` leaves the raw_syscalls hook out.`
  );
}

function hooksSection(e: EventDefinition): string[] {
  const ebpfCompat =
    e.compatNr === undefined
      ? `keeps the calls with \`id == ${e.nr}\``
      : `keeps 64-bit calls with \`id == ${e.nr}\` and, when the thread's \`TS_COMPAT\` status bit marks a 32-bit call, those with \`id == ${e.compatNr}\` (the i386 number)`;
  return [
    '## How Watchpost hooks it',
    '',
    "Through the kernel's syscall tracepoints on both backends; each event is reported at syscall exit, with the entry's arguments and the value the caller got back.",
    '',
    `- **tracefs backend**: the \`syscalls:sys_enter_${e.name}\` and \`syscalls:sys_exit_${e.name}\` tracepoints, enabled in a private tracefs instance (\`instances/watchpost-<pid>\`, never the global one) and read from its per-CPU binary buffers. ${compatLine(e)}`,
    `- **eBPF backend**: a BPF program on the \`sys_enter\` and \`sys_exit\` raw tracepoints (\`raw_syscalls\`; attached as BTF-typed \`tp_btf\` where the kernel allows it, else as a plain raw tracepoint) ${ebpfCompat}. With \`--compat off\`, BPF programs on the \`syscalls:sys_enter_${e.name}\` and \`syscalls:sys_exit_${e.name}\` tracepoints instead: cheaper for every other syscall, blind to 32-bit callers.`,
    '',
    ...(e.compatNr === undefined
      ? []
      : [
          "Whether 32-bit callers exist at all is found out at start (`--compat auto`, the default): a throwaway child makes one `int $0x80` call. Some kernels refuse every 32-bit syscall, killing the caller with SIGSEGV although `CONFIG_IA32_EMULATION=y` (`ia32_emulation=0`, confidential-computing guests, some hypervisors); there no process can switch ABI, so Watchpost uses the 64-bit hooks alone, says so in one stderr line, and `watchpost doctor` reports it. `--compat on` arms the 32-bit hooks anyway.",
          '',
        ]),
    'No hook on kernel functions is involved: only these stable tracepoints, which exist on every kernel built with `CONFIG_FTRACE_SYSCALLS`.',
  ];
}

function kernelSection(e: EventDefinition): string[] {
  const notes = EVENT_KERNEL_NOTES[e.name];
  const lines: string[] = [];
  for (const o of notes?.options ?? []) lines.push(`- ${code(o.option)}: without it, ${o.without}.`);
  if (notes?.lockdown) lines.push(`- Kernel lockdown: ${notes.lockdown}.`);
  if (lines.length === 0) lines.push('- Nothing beyond the syscall tracepoints.');
  return ['## Kernel requirements', '', ...lines, '', '`watchpost doctor` checks these on the running kernel.'];
}

function relatedSection(e: EventDefinition): string[] {
  return [
    '## Related events',
    '',
    ...e.related.map((name) => {
      const r = findEvent(name);
      return `- [${name}](${name}.md)${r ? `: ${firstSentence(r.description)}` : ''}`;
    }),
  ];
}

function detectionsSection(e: EventDefinition, detections: readonly DetectionRef[]): string[] {
  const using = detections.filter((d) => d.events.includes(e.name));
  return ['## Detections that use it', '', ...(using.length ? using.map((d) => `- ${code(d.id)} ${d.name}`) : ['None yet.'])];
}

function describeCall(spec: string): string {
  const [name, ...args] = spec.split(':');
  const compat = name.endsWith('32');
  return `\`${compat ? name.slice(0, -2) : name}(${args.join(', ')})\`${compat ? ' through `int $0x80`' : ''}`;
}

function exampleSection(e: EventDefinition, ex: EventExample | undefined): string[] {
  if (!ex) return ['## Example', '', 'No captured example yet.'];
  return [
    '## Example',
    '',
    `Real output, captured with the ${ex.backend} backend on Linux ${ex.kernel} from the test helper (\`test/fixtures/syscaller.c\`) making ${ex.calls.map(describeCall).join(', ')}; the trace was system-wide and these are the lines printed for the helper.`,
    '',
    `\`${ex.tableCommand}\`:`,
    '',
    '```text',
    ...ex.table,
    '```',
    '',
    `\`${ex.jsonCommand}\` (first call):`,
    '',
    '```json',
    ...ex.json,
    '```',
  ];
}

/** The Markdown page of one event, built only from the catalog and the captured example. */
export function eventPage(e: EventDefinition, inputs: PageInputs): string {
  const sections = [
    [`# ${e.name}`, '', e.description],
    [
      '| | |',
      '| --- | --- |',
      `| event id (x86_64 syscall number) | ${e.nr} |`,
      `| i386 syscall number | ${e.compatNr ?? 'none'} |`,
      `| sets | ${e.sets.map(code).join(', ')} |`,
      `| architectures | ${architectures(e)} |`,
    ],
    argsSection(e),
    hooksSection(e),
    kernelSection(e),
    relatedSection(e),
    detectionsSection(e, inputs.detections),
    exampleSection(e, inputs.example),
  ];
  return `${sections.map((s) => s.join('\n')).join('\n\n')}\n\n---\nGenerated from Watchpost's event catalog (\`src/catalog/events.ts\`) by \`npm run docs\`; do not edit by hand.\n`;
}
