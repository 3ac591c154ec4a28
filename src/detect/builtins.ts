import { ioPortFromContainer } from './builtins/io-port-container.js';
import { ioPortCritical } from './builtins/io-port-critical.js';
import { ioPortGranted } from './builtins/io-port-granted.js';
import { ioPortUnknownTool } from './builtins/io-port-unknown-tool.js';
import { ioplAllPorts } from './builtins/iopl-all-ports.js';
import { perfEventFromContainer } from './builtins/perf-event-container.js';
import { userfaultfdUnprivileged } from './builtins/userfaultfd-unprivileged.js';
import type { Signature } from './signature.js';

export interface BuiltinOptions {
  /** Extra hardware tools allowed raw port access (paths, or names found in system directories). */
  allowHwTools?: readonly string[];
  /** Process names allowed to call userfaultfd unprivileged (Falco's user_known_userfaultfd_processes). */
  userfaultfdProcesses?: readonly string[];
}

/** Watchpost's built-in signatures, WP-001 to WP-007. */
export function builtinSignatures(options: BuiltinOptions = {}): Signature[] {
  return [
    ioPortGranted(),
    ioPortFromContainer(),
    ioPortCritical(),
    ioplAllPorts(),
    ioPortUnknownTool(options.allowHwTools),
    userfaultfdUnprivileged(options.userfaultfdProcesses),
    perfEventFromContainer(),
  ];
}
