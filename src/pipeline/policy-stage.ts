import { findEvent } from '../catalog/events.js';
import type { EventDefinition } from '../catalog/types.js';
import type { ProcInfo } from '../enrich/proc.js';
import { UsageError } from '../model/errors.js';
import type { SyscallEvent } from '../model/event.js';
import { loadPolicies } from '../policy/policy-file.js';
import { Policies, policyFromFlags, type PolicyEnvironment } from '../policy/policy.js';
import type { ScopeSubject } from '../policy/scope-fields.js';
import type { Condition, PolicySpec, ScopeFlag } from '../policy/spec.js';
import { killPolicyFromFlags } from '../enforce/kill-rules.js';
import { parseEventsFlags } from '../policy/events-grammar.js';
import type { Counters } from './counters.js';

export interface PolicyInput {
  /** -e/--events values (names, globs, sets, -exclusions, EVENT.data.ARG=…, EVENT.retval…, EVENT.scope.…). */
  events?: readonly string[];
  /** --scope values. */
  scope?: readonly string[];
  /** --policy files or directories of Tracee Policy YAML. */
  policyFiles?: readonly string[];
  /** --kill values (-e grammar, filters AND per event): one more policy, `kill`, whose rules have actions [kill]. */
  kill?: readonly string[];
  /**
   * Events the signatures need: traced within the flags' scope even where -e did not select them (as Tracee adds a
   * signature's dependencies), but not shown. With policy files, the files alone choose the events.
   */
  detectEvents?: readonly string[];
}

export interface PolicySetup {
  specs: PolicySpec[];
  policies: Policies;
  events: EventDefinition[];
  /** Events traced only because the signatures need them: not shown. */
  hidden: ReadonlySet<string>;
}

/** Builds the policies from flags or files (not both, as in Tracee) and the catalog events they need. */
export function setupPolicies(input: PolicyInput, defaults: readonly string[], env: PolicyEnvironment): PolicySetup {
  const fromFlags = (input.events?.length ?? 0) > 0 || (input.scope?.length ?? 0) > 0;
  if (input.policyFiles?.length && fromFlags) {
    throw new UsageError('--policy cannot be combined with -e/--events or --scope: put the filters in the policy file, or drop --policy');
  }
  let specs: PolicySpec[];
  const hidden = new Set<string>();
  if (input.policyFiles?.length) specs = loadPolicies(input.policyFiles);
  else {
    const selection = input.events?.length ? input.events : defaults;
    const flags = policyFromFlags({ events: selection, scope: input.scope });
    const asked = new Set(flags.rules.map((r) => r.event));
    // what the user excluded (-e -iopl) stays out, signatures or not: the grammar applies exclusions after selections
    const allowed = new Set(parseEventsFlags([...selection, ...asked, ...(input.detectEvents ?? [])]).events);
    for (const event of input.detectEvents ?? []) {
      if (asked.has(event) || !allowed.has(event)) continue;
      flags.rules.push({ event, conditions: [], actions: [] });
      hidden.add(event);
    }
    specs = [flags];
  }
  if (input.kill?.length) specs.push(killPolicyFromFlags(input.kill));
  const policies = Policies.compile(specs, env);
  const events = [...policies.selectedEvents()].map((name) => findEvent(name)!).filter(Boolean);
  if (events.length === 0) throw new UsageError('the events and policies select no event: check the -e exclusions');
  return { specs, policies, events, hidden };
}

/** Does any policy scope on this flag (e.g. `container=new`, which needs the containers alive at start)? */
export function usesScopeFlag(specs: readonly PolicySpec[], flag: ScopeFlag): boolean {
  const has = (cs: readonly Condition[]): boolean => cs.some((c) => c.kind === 'flag' && c.flag === flag);
  return specs.some((s) => has(s.scope.conditions) || s.rules.some((r) => has(r.conditions)));
}

/** What a policy's `follow`/`tree=` see of an ancestor: the process tree's entry shaped like an event. */
export function subjectOf(p: ProcInfo, host: string): ScopeSubject {
  return {
    timestamp: 0,
    threadStartTime: p.startTime,
    processorId: 0,
    processId: p.nsPid,
    threadId: p.nsTid,
    parentProcessId: p.nsPpid,
    hostProcessId: p.pid,
    hostThreadId: p.tid,
    hostParentProcessId: p.ppid,
    userId: p.uid,
    mountNamespace: p.mntns,
    pidNamespace: p.pidns,
    cgroupId: 0,
    processName: p.comm,
    hostName: host,
    executable: { path: p.exePath },
    containerId: '',
    container: { id: '', name: '', image: '', imageDigest: '' },
    kubernetes: { podName: '', podNamespace: '', podUID: '', podSandbox: false },
    syscall: '',
    contextFlags: { containerStarted: false, isCompat: false },
  };
}

/** Hot path: sets matchedPolicies (a list shared by the events that match the same policies); false: no policy wants it. */
export function applyPolicies(policies: Policies, ev: SyscallEvent): boolean {
  const matched = policies.evaluate(ev);
  if (matched.length === 0) return false;
  ev.matchedPolicies = matched as string[];
  return true;
}

/** policy: an event passes when some policy wants it (matchedPolicies set); what none wants is counted as filtered. */
export class PolicyStage {
  constructor(
    private readonly policies: Policies | undefined,
    private readonly counters: Counters,
  ) {}

  /** Sets matchedPolicies (empty where no policy wants it), counting nothing: for calls delivered whatever the policies say. */
  mark(ev: SyscallEvent): void {
    if (this.policies) applyPolicies(this.policies, ev);
  }

  /** Hot path. */
  admit(ev: SyscallEvent): boolean {
    if (this.policies && !applyPolicies(this.policies, ev)) {
      this.counters.filter(ev.eventName);
      return false;
    }
    this.counters.deliver(ev.eventName);
    return true;
  }
}
