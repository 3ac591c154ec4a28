import { statSync } from 'node:fs';
import { findEvent } from '../catalog/events.js';
import type { EventDefinition } from '../catalog/types.js';
import { UsageError } from '../model/errors.js';
import { parseEventsFlags } from '../policy/events-grammar.js';
import { argCondition } from '../policy/kernel-plan.js';
import type { Condition, PolicySpec } from '../policy/spec.js';
import type { KernelCondition, KernelKillRule } from '../probes/types.js';

/**
 * Kill rules: a policy rule with `actions: [kill]` (or `--kill EXPR`) becomes a check the eBPF program makes at syscall
 * entry. Every condition of the rule and of its policy's scope must be one the kernel can evaluate there; anything
 * else is a usage error, never a decision taken late in user space.
 */

export interface KillRule {
  /** The policy that holds the rule, and where it came from (a file, or --kill). */
  policy: string;
  origin: string;
  /** The rule as written, its policy's scope included: `iopl container data.level=3`. */
  text: string;
  event: EventDefinition;
  kernel: KernelKillRule;
}

/**
 * The policy `--kill EXPR` values make, over every process, read as -e reads its values: the events named, and per
 * event the filters of every value ANDed (`--kill iopl.data.level=3 --kill iopl.scope.container`); one rule per
 * event, with actions [kill]. Several rules for one event need a policy file.
 */
export function killPolicyFromFlags(values: readonly string[]): PolicySpec {
  const sel = parseEventsFlags(values, '--kill');
  const rules = sel.events.map((event) => ({ event, conditions: sel.filters[event] ?? [], actions: ['kill'] }));
  return { name: 'kill', origin: '--kill', description: 'kill rules from the command line', scope: { global: true, conditions: [], follow: false }, rules, defaultActions: ['log'] };
}

/** Where kill rules need facts about this host: the mount namespace of pid 1 (what `container` is compared to). */
export interface KillHost {
  hostMntns(): bigint;
}

/**
 * The host as /proc shows it: pid 1's mount namespace; where pid 1 refuses even root a look (a sandbox's init, as on
 * the dev VM), Watchpost's own, which is the host's when Watchpost runs on the host as it should.
 */
export const procHost: KillHost = {
  hostMntns: () => {
    try {
      return statSync('/proc/1/ns/mnt', { bigint: true }).ino;
    } catch {
      return statSync('/proc/self/ns/mnt', { bigint: true }).ino;
    }
  },
};

/** The kill (and deny) rules of the policies, in order; `compat`: also the rules' 32-bit syscall numbers. */
export function killRulesOf(specs: readonly PolicySpec[], compat: boolean, host: KillHost): { kill: KillRule[]; deny: string[] } {
  const kill: KillRule[] = [];
  const deny: string[] = [];
  for (const spec of specs) {
    for (const rule of spec.rules) {
      const actions = rule.actions.length ? rule.actions : spec.defaultActions;
      const text = [rule.event, ...spec.scope.conditions.map((c) => c.text), ...rule.conditions.map((c) => c.text)].join(' ');
      const where = `kill rule "${text}" of policy ${spec.name} (${spec.origin})`;
      if (actions.includes('deny')) deny.push(`${where.replace('kill rule', 'deny rule')}`);
      if (!actions.includes('kill')) continue;
      if (spec.scope.follow) {
        throw new UsageError(`${where}: scope follow cannot be evaluated in the kernel at syscall entry (descendants are known in user space only); drop follow or use a scope the kernel can check (uid, comm, container, mntns, cgroupId)`);
      }
      const event = findEvent(rule.event);
      if (!event) throw new UsageError(`${where}: unknown event ${rule.event}`);
      const conditions = [...spec.scope.conditions, ...rule.conditions].map((c) => kernelCondition(c, where, host));
      kill.push({
        policy: spec.name,
        origin: spec.origin,
        text,
        event,
        kernel: { nr: event.nr, compatNr: compat ? event.compatNr : undefined, conditions },
      });
    }
  }
  return { kill, deny };
}

const KERNEL_FIELDS = 'the event\'s arguments (data.X), uid, comm (exact), container/not-container, mntns and cgroupId';

/** One condition as the kernel checks it, or a UsageError naming the condition. */
function kernelCondition(c: Condition, where: string, host: KillHost): KernelCondition {
  const refuse = (why: string): never => {
    throw new UsageError(`${where}: ${c.text} cannot be evaluated in the kernel at syscall entry (${why}); kill rules may use ${KERNEL_FIELDS} only`);
  };
  switch (c.kind) {
    case 'number':
      if (c.target.kind === 'arg') return argCondition(c.target, c.op, c.values);
      if (c.target.kind === 'retval') return refuse('the return value exists only after the call');
      switch (c.target.field) {
        case 'userId':
          return { on: 'uid', op: c.op, values: c.values };
        case 'mountNamespace':
          return { on: 'mntns', op: c.op, values: c.values };
        case 'cgroupId':
          return { on: 'cgroupId', op: c.op, values: c.values };
      }
      return refuse(`${c.target.field} is not read at entry`);
    case 'string':
      if (c.target.field === 'processName' && c.values.every((v) => v.match === 'exact')) return { on: 'comm', op: c.op, values: c.values.map((v) => v.text) };
      if (c.target.field === 'processName') return refuse('comm patterns with * are matched in user space');
      return refuse(`${c.target.field} is resolved in user space`);
    case 'flag':
      // The kernel sees namespaces, not runtimes: a task in another mount namespace than pid 1 counts as a container.
      if (c.flag === 'container') return { on: 'mntns', op: c.value ? '!=' : '=', values: [host.hostMntns()] };
      return refuse(`${c.flag} is decided in user space`);
    case 'tree':
      return refuse('the process tree is kept in user space');
    default:
      return refuse('its value is read from user memory or resolved in user space, and a kill is decided on registers and task fields only');
  }
}

/** Kernel dev_t (MKDEV: major << 20 | minor) of a stat() st_dev in glibc's encoding. */
export function kernelDev(stDev: bigint): number {
  const major = ((stDev >> 8n) & 0xfffn) | ((stDev >> 32n) & ~0xfffn);
  const minor = (stDev & 0xffn) | ((stDev >> 12n) & ~0xffn);
  return Number((major << 20n) | minor);
}

/** Where a tool given by bare name must live: directories only root can write (kill exemptions and WP-005 alike). */
export const SYSTEM_DIRS = ['/usr/bin/', '/usr/sbin/', '/bin/', '/sbin/', '/usr/local/bin/', '/usr/local/sbin/'];

/** The files `--allow-hw-tool` names (paths, or bare names in system directories), by the identity the kernel sees. */
export function allowedExecutables(entries: readonly string[]): Array<{ dev: number; ino: bigint }> {
  const out = new Map<string, { dev: number; ino: bigint }>();
  for (const e of entries) {
    for (const path of e.includes('/') ? [e] : SYSTEM_DIRS.map((d) => d + e)) {
      try {
        const s = statSync(path, { bigint: true });
        out.set(`${s.dev}:${s.ino}`, { dev: kernelDev(s.dev), ino: s.ino });
      } catch {
        // not installed there
      }
    }
  }
  return [...out.values()];
}
