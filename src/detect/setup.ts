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
