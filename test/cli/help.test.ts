import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { CLI } from '../support/cli.js';

function help(args: string[]): string {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  return r.stdout;
}

/** The -o description, its wrapped lines joined. */
function outputHelp(text: string): string {
  const start = text.indexOf('-o, --output <spec>');
  const next = text.indexOf('\n  -', start + 1);
  return text.slice(start, next).replace(/\s+/g, ' ');
}

describe('help a person can use', { timeout: 60_000 }, () => {
  it('watchpost --help shows the flags of trace (the default command) and the commands', () => {
    const text = help(['--help']);
    assert.match(text, /^Usage: watchpost \[trace options\]/);
    assert.match(text, /\nTrace options:\n {2}-e, --events <expr> /);
    for (const flag of ['-s, --scope <expr>', '--policy <path>', '--explain', '-o, --output <spec>', '--backend <name>', '--parse-arguments', '--kill <expr>', '--enforce', '--rules <file>', '--finding-window <seconds>', '--no-finding-window']) {
      assert.ok(text.includes(`  ${flag} `) || text.includes(`  ${flag}\n`), `${flag} missing from watchpost --help`);
    }
    assert.match(text, /\nCommands:\n {2}trace \[options\] /);
    for (const command of ['list [options]', 'describe [options] <event>', 'doctor [options]', 'replay [options] <file>']) assert.ok(text.includes(`\n  ${command} `), command);
    assert.equal(help(['-h']), text);
  });

  it("-o's help lists every output kind, in trace and in replay", () => {
    for (const args of [['--help'], ['trace', '--help'], ['replay', '--help']]) {
      const o = outputHelp(help(args));
      for (const kind of ['table (the default)', 'table-verbose', 'json (JSON lines on stdout)', 'none', 'json:FILE[,FILE…]', 'webhook:URL', 'syslog:udp://HOST:PORT', 'nats:nats://HOST:PORT', 'option:parse-arguments,relative-time']) {
        assert.ok(o.includes(kind), `${args.join(' ')}: "${kind}" missing from: ${o}`);
      }
    }
  });

  it('shows no empty defaults of repeatable flags', () => {
    for (const args of [['--help'], ['trace', '--help'], ['replay', '--help']]) assert.doesNotMatch(help(args), /default: \[\]/);
  });
});
