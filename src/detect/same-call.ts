import type { SyscallEvent } from '../model/event.js';

/** Comparisons of two events without building anything: hot path (a storm compares each event with the one before). */

/** The same call of the same process: pid and start, result, ABI, argument values. */
export function sameCall(a: SyscallEvent, b: SyscallEvent): boolean {
  if (a.hostProcessId !== b.hostProcessId || a.processEntityId !== b.processEntityId || a.returnValue !== b.returnValue) return false;
  if (a.contextFlags.isCompat !== b.contextFlags.isCompat || a.args.length !== b.args.length) return false;
  for (let i = 0; i < a.args.length; i++) if (a.args[i].value !== b.args[i].value) return false;
  return true;
}

/**
 * Everything a cacheable signature's `fires` may read (see Signature.cacheable) is the same: the event, its call
 * (sameCall's fields, and the argument names), its ports, and its process's executable, comm, container and uid.
 */
export function sameFiringInputs(a: SyscallEvent, b: SyscallEvent): boolean {
  if (a.eventName !== b.eventName || a.ports !== b.ports || a.executable.path !== b.executable.path) return false;
  if (a.processName !== b.processName || a.containerId !== b.containerId || a.userId !== b.userId || !sameCall(a, b)) return false;
  for (let i = 0; i < a.args.length; i++) if (a.args[i].name !== b.args[i].name) return false;
  return true;
}
