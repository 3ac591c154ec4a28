import { builtinSignatures } from './builtins.js';
import { Detector } from './detector.js';

export interface DetectOptions {
  /** --rules FILE values. */
  rules?: readonly string[];
  /** --allow-hw-tool PATH values. */
  allowHwTool?: readonly string[];
}

/** The built-in signatures and the user's rules; a bad rules file is a UsageError naming file, rule and position. */
export async function createDetector(options: DetectOptions = {}): Promise<Detector> {
  const builtins = builtinSignatures({ allowHwTools: options.allowHwTool });
  if (!options.rules?.length) return new Detector(builtins);
  const taken = new Set(builtins.map((s) => s.metadata.id));
  // loaded only for --rules (~80 ms of YAML and CEL): a plain run starts without them
  const { loadRuleFiles } = await import('./rules/rule-file.js');
  return new Detector([...builtins, ...loadRuleFiles(options.rules, taken)]);
}
