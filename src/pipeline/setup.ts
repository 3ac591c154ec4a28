import { DEFAULT_EVENTS } from '../catalog/events.js';
import type { EventDefinition } from '../catalog/types.js';
import { syscallArgFieldNames } from '../catalog/kernel-syscalls.js';
import { EnvironmentError, UsageError } from '../model/errors.js';
import type { PolicyEnvironment } from '../policy/policy.js';
import type { PolicySpec } from '../policy/spec.js';
import { allowedExecutables, type KillRule, killRulesOf, procHost } from '../enforce/kill-rules.js';
import { TRACEFS_CANNOT_ENFORCE } from '../probes/open.js';
import type { ProbeOptions } from '../probes/types.js';
import { mountedTracefsRoot } from '../probes/tracefs/tracefs-root.js';
import { setupPolicies, type PolicySetup } from './policy-stage.js';

/** What selects a run's events: flags or policy files, kill rules, and the events the signatures need. */
export interface Selection {
  events?: readonly string[];
  scope?: readonly string[];
  policyFiles?: readonly string[];
  kill?: readonly string[];
  enforce?: boolean;
  allowHwTools?: readonly string[];
  backend?: 'auto' | 'ebpf' | 'tracefs';
  detectEvents?: readonly string[];
}

export function policySetup(s: Selection, env: PolicyEnvironment): PolicySetup {
  return setupPolicies({ events: s.events, scope: s.scope, policyFiles: s.policyFiles, kill: s.kill, detectEvents: s.detectEvents }, DEFAULT_EVENTS, env);
}

/** The kill rules for the probe, or undefined without any; a rule the kernel cannot evaluate, or deny here, throws. */
export async function enforcementOf(specs: readonly PolicySpec[], s: Selection, compat: boolean): Promise<{ rules: KillRule[]; probe: NonNullable<ProbeOptions['enforce']> } | undefined> {
  const { kill, deny } = killRulesOf(specs, compat, procHost);
  if (deny.length) {
    const { probeLsm } = await import('../probes/ebpf/lsm.js');
    const lsm = probeLsm('locked_down');
    throw new EnvironmentError(
      lsm.ok
        ? `${deny[0]}: deny is not implemented yet (this kernel does let BPF LSM programs attach); use actions: [kill]`
        : `${deny[0]}: deny needs BPF LSM programs, which this kernel refuses (${lsm.reason}); use actions: [kill] (see \`watchpost doctor\`)`,
    );
  }
  refuseEnforcementMistakes(kill.length, s);
  if (kill.length === 0) return undefined;
  return { rules: kill, probe: { rules: kill.map((r) => r.kernel), armed: s.enforce === true, allowExecutables: allowedExecutables(s.allowHwTools ?? []) } };
}

/** The usage errors of kill rules, for checkSelection (before the root check) and for the run alike. */
export function refuseEnforcementMistakes(rules: number, s: Selection): void {
  if (s.enforce && rules === 0) throw new UsageError('--enforce: no rule to enforce; add --kill EXPR or a policy rule with actions: [kill]');
  if (rules > 0 && s.backend === 'tracefs') throw new UsageError(TRACEFS_CANNOT_ENFORCE);
}

/** The kernel's argument field names, for --explain: from tracefs where it is mounted (never mounting it), else the catalog's. */
export function fieldNamesOf(events: readonly EventDefinition[]): Record<string, string[]> {
  const root = mountedTracefsRoot();
  const fromKernel = root ? syscallArgFieldNames(root, events.map((e) => e.name)) : {};
  for (const e of events) fromKernel[e.name] ??= e.args.map((a) => a.aliases?.[0] ?? a.name); // an alias is the kernel's name where it differs
  return fromKernel;
}
