import type { KernelExpr } from '../types.js';

/** The kernel refuses a filter of a page or more (event_filter_write); the event then goes unfiltered instead. */
const MAX_FILTER_LENGTH = 4000;
const FIELD_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const U32_MAX = 0xffffffffn;

/**
 * An entry filter in tracefs syntax (`from >= 1016 && (turn_on == 1 || turn_on > 0xffffffff)`), with `fields` the
 * event's format-file fields after `__syscall_nr`; undefined when a field is missing or the text would be too long.
 */
export function tracefsFilter(expr: KernelExpr, fields: readonly string[]): string | undefined {
  let ok = true;
  const render = (e: KernelExpr): string => {
    if (e.kind === 'cmp') {
      const name = e.operand.kind === 'tid' ? 'common_pid' : fields[e.operand.index];
      if (name === undefined || !FIELD_RE.test(name)) ok = false;
      // The 32-bit guard in hex (it reads as one), other values in decimal.
      const value = e.value === U32_MAX && e.op === '>' ? '0xffffffff' : e.value.toString();
      return `${name} ${e.op} ${value}`;
    }
    return e.items.map((i) => (i.kind === 'cmp' ? render(i) : `(${render(i)})`)).join(e.kind === 'and' ? ' && ' : ' || ');
  };
  const text = render(expr);
  return ok && text.length <= MAX_FILTER_LENGTH ? text : undefined;
}
