import type { Condition } from '../../src/policy/spec.js';

/** A condition in one short line: `arg:turn_on = 1`, `retval != 0`, `field:processName = exact:x`. */
export function brief(c: Condition): string {
  switch (c.kind) {
    case 'number': {
      const t = c.target.kind === 'arg' ? `arg:${c.target.name}` : c.target.kind === 'retval' ? 'retval' : `field:${c.target.field}`;
      return `${t} ${c.op} ${c.values.join(',')}`;
    }
    case 'string':
      return `field:${c.target.field} ${c.op} ${c.values.map((v) => `${v.match}:${v.text}${v.mntns !== undefined ? `@${v.mntns}` : ''}`).join(',')}`;
    case 'argString':
      return `arg:${c.target.name} ${c.op} ${c.values.map((v) => `${v.match}:${v.text}`).join(',')}`;
    case 'tree':
      return `tree ${c.op} ${c.values.join(',')}`;
    case 'flag':
      return `flag:${c.flag}=${c.value}`;
  }
}


/** For assert.throws: a one-line UsageError whose message matches. */
export function usage(message: RegExp): (err: unknown) => true {
  return (err) => {
    if (!(err instanceof Error) || err.name !== 'UsageError') throw new Error(`expected a UsageError, got ${String(err)}`);
    if (!message.test(err.message)) throw new Error(`message ${JSON.stringify(err.message)} does not match ${message}`);
    if (err.message.includes('\n')) throw new Error('message has more than one line');
    return true;
  };
}
