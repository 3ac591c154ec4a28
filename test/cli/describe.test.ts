import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { markdownForTerminal } from '../../src/cli/terminal-markdown.js';
import { CLI } from '../support/cli.js';

const DOCS = join(dirname(fileURLToPath(import.meta.url)), '../../../docs/events');

/** `watchpost describe ARGS` with stdout on a pseudo-terminal (util-linux script), its output with CRLF undone. */
function onTerminal(args: string[]): string {
  const command = [process.execPath, CLI, 'describe', ...args].map((a) => `'${a}'`).join(' ');
  const r = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, COLUMNS: '100' } });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.replace(/\r\n/g, '\n');
}

describe('markdownForTerminal (synthetic page)', { timeout: 10_000 }, () => {
  it('underlines headings, aligns tables, indents code, keeps the text of inline marks and links', () => {
    const md = [
      '# title',
      '',
      '| | |',
      '| --- | --- |',
      '| id | `173` |',
      '| sets | `a`, `b` |',
      '',
      '## Args',
      '',
      '| # | name | meaning |',
      '| --- | --- | --- |',
      '| 0 | `from` | first **port** |',
      '',
      '- **K** — plain, see [iopl](iopl.md).',
      '',
      '```json',
      '{"a":1}',
      '```',
      '---',
      'end',
      '',
    ].join('\n');
    assert.equal(
      markdownForTerminal(md, 80),
      [
        'title',
        '=====',
        '',
        '  id    173',
        '  sets  a, b',
        '',
        'Args',
        '----',
        '',
        '  #  name  meaning',
        '  -  ----  ----------',
        '  0  from  first port',
        '',
        '  • K — plain, see iopl.',
        '',
        '    {"a":1}',
        '----------------------------------------',
        'end',
        '',
      ].join('\n'),
    );
  });

  it('wraps paragraphs and list items at the width, list items with a hanging indent', () => {
    assert.equal(markdownForTerminal('one two three four\n\n- five six seven eight\n', 12), 'one two\nthree four\n\n  • five six\n    seven\n    eight\n');
  });
});

describe('watchpost describe: text on a terminal, Markdown with --markdown (piped: test/docs/describe.test.ts)', { timeout: 60_000 }, () => {
  it('on a terminal: headings, tables and code without Markdown syntax', () => {
    const text = onTerminal(['ioperm']);
    assert.match(text, /^ioperm\n======\n/);
    assert.match(text, /\nArguments\n-{9}\n\n {2}# +name +kernel type +JSON type +tags +meaning\n/);
    assert.match(text, /\n {2}0 +from +unsigned long +uint64 +K +first I\/O port of the range\n/);
    assert.match(text, /\n {4}TIME +UID +COMM +PID /); // the example table, as code
    for (const line of text.split('\n')) {
      assert.doesNotMatch(line, /^#|^\||^```|\*\*|`|\]\(/, `Markdown left in: ${line}`);
      assert.ok(line.length <= 100 || line.startsWith('    '), `wider than the terminal: ${line}`); // code lines are never wrapped
    }
  });

  it('on a terminal with --markdown: the Markdown', () => {
    assert.equal(onTerminal(['ioperm', '--markdown']), readFileSync(join(DOCS, 'ioperm.md'), 'utf8'));
  });
});
