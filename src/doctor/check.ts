/** One line of `watchpost doctor`: what was checked, what was found, and what to do when it is not ok. */
export interface CheckResult {
  status: 'ok' | 'warn' | 'fail';
  name: string;
  detail: string;
  /** What to do about a warn or fail. */
  fix?: string;
}

export function formatResult(r: CheckResult): string {
  return `${r.status.padEnd(5)}${r.name}: ${r.detail}${r.fix ? ` -> ${r.fix}` : ''}`;
}

/** Runs a check, turning an unexpected exception into a fail line instead of a stack trace. */
export async function guarded(name: string, check: () => CheckResult | Promise<CheckResult>): Promise<CheckResult> {
  try {
    return await check();
  } catch (err) {
    return { status: 'fail', name, detail: `the check itself failed: ${String((err as Error)?.message ?? err).split('\n')[0]}` };
  }
}
