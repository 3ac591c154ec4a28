import assert from 'node:assert/strict';
import { asTraceeEvents } from '../../src/detect/finding-event.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Detector } from '../../src/detect/detector.js';
import { loadRuleFiles } from '../../src/detect/rules/rule-file.js';
import { helperCopy, liveRun, removeTree, tempDir } from './live.js';

const dir = tempDir('wp-regex-');
after(() => removeTree(dir));

/** A nested quantifier: JavaScript's backtracking RegExp needs ~2^n steps on n a's followed by a non-match. */
const RULE = `- id: R-200
  name: runs from the r directory
  severity: 1
  events: [ioperm]
  condition: ev.executable.path.matches("^/.*/r/(a+)+$")
`;

function rulesFile(text: string): string {
  const file = join(dir, 'rules.yaml');
  writeFileSync(file, text, { mode: 0o644 });
  return file;
}

const sigIds = (fs: readonly { metadata?: unknown }[]): string[] => fs.map((f) => (f.metadata as { Properties: { signatureID: string } }).Properties.signatureID);

describe('rule regexes run in linear time on attacker-chosen paths', { timeout: 120_000 }, () => {
  it('a crafted executable path against (a+)+$ is decided in well under a second, and the rule still fires where it matches', { skip: process.getuid?.() !== 0 && 'needs root to trace' }, async () => {
    const detector = new Detector(loadRuleFiles([rulesFile(RULE)], new Set()));
    const hostile = await liveRun(['ioperm:0x378:3:0'], { exe: helperCopy(join(dir, 'r', `${'a'.repeat(200)}!`)) });
    const plain = await liveRun(['ioperm:0x378:3:0'], { exe: helperCopy(join(dir, 'r', 'aaaa')) });
    assert.equal(hostile.events.length, 1);
    assert.match(hostile.events[0].executable.path, /\/r\/a{200}!$/);
    const t0 = performance.now();
    const none = asTraceeEvents(detector.process(hostile.events, () => false));
    const ms = performance.now() - t0;
    assert.deepEqual(sigIds(none), [], 'ends in "!": no match');
    assert.ok(ms < 1000, `decided in ${ms.toFixed(1)} ms`);
    assert.deepEqual(sigIds(asTraceeEvents(detector.process(plain.events, () => false))), ['R-200']);
    assert.deepEqual(detector.problems(), []);
    console.log(`# crafted path (200 a's + "!") against ^/.*/r/(a+)+$: ${ms.toFixed(1)} ms`);
  });

  it('a pattern RE2 cannot run in linear time (a backreference) is refused when the rules load', () => {
    assert.throws(() => loadRuleFiles([rulesFile(RULE.replace('(a+)+$', '(a)\\\\1'))], new Set()), /R-200|rules\.yaml/);
  });
});
