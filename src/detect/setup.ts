import type { SyscallEvent } from '../model/event.js';
import { parseEventsFlags } from '../policy/events-grammar.js';
import { builtinSignatures } from './builtins.js';
import { Detector } from './detector.js';
import { DEFAULT_WINDOW_SECONDS } from './finding-window.js';

export interface DetectOptions {
  /** --rules FILE values. */
  rules?: readonly string[];
  /** --allow-hw-tool PATH values. */
  allowHwTool?: readonly string[];
  /** --finding-window SECONDS: repeats of a finding within it become one summary; 0 or false (--no-finding-window): every finding. */
  findingWindow?: number | false;
}

/** The built-in signatures and the user's rules, with the finding window; a bad rules file is a UsageError naming file, rule and position. */
export async function createDetector(options: DetectOptions = {}): Promise<Detector> {
  const builtins = builtinSignatures({ allowHwTools: options.allowHwTool });
  const window = { windowNs: Math.round((options.findingWindow === false ? 0 : (options.findingWindow ?? DEFAULT_WINDOW_SECONDS)) * 1e9) };
  if (!options.rules?.length) return new Detector(builtins, window);
  const taken = new Set(builtins.map((s) => s.metadata.id));
  // loaded only for --rules (~80 ms of YAML and CEL): a plain run starts without them
  const { loadRuleFiles } = await import('./rules/rule-file.js');
  return new Detector([...builtins, ...loadRuleFiles(options.rules, taken)], window);
}

export interface LivePlan {
  /** -e values to trace: the user's plus the events signatures need (undefined: trace's defaults). */
  events: string[] | undefined;
  /** Which traced events go to the outputs (the rest are there for the signatures only). */
  show: (ev: SyscallEvent) => boolean;
}

/**
 * What a live run traces and shows: signatures see the events they select even when the user did not ask to see
 * them (as Tracee adds a signature's dependencies); with --policy files the files alone choose the events.
 */
export function livePlan(detector: Detector, events: readonly string[] | undefined, opts: { detectOnly?: boolean; policy?: readonly string[] }): LivePlan {
  if (opts.policy?.length) return { events: events ? [...events] : undefined, show: () => !opts.detectOnly };
  const shown = new Set(parseEventsFlags(events ?? []).events);
  // the shown names too: -e with exclusions alone means "the defaults but…", which any added name would cancel
  const names = new Set([...shown, ...detector.events()]);
  return {
    events: [...(events ?? []), ...names],
    show: opts.detectOnly ? () => false : (ev) => shown.has(ev.eventName),
  };
}
