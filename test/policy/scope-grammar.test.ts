import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../src/model/errors.js';
import { parseScopeFlags } from '../../src/policy/scope-grammar.js';
import { brief } from './brief.js';

function parsed(values: string[]): string[] {
  const s = parseScopeFlags(values);
  return [...(s.global ? ['global'] : []), ...s.conditions.map(brief), ...(s.follow ? ['follow'] : [])];
}

describe('--scope reads Tracee scope expressions', () => {
  const table: [string, string[], string[]][] = [
    ['new processes (Tracee: pid=new)', ['pid=new'], ['flag:pid-new=true']],
    ['pid list, host pids (Tracee: pid=510,1709)', ['pid=510,1709'], ['field:hostProcessId = 510,1709']],
    ['pid short alias, repeated (Tracee: p=510 --scope p=1709)', ['p=510', 'p=1709'], ['field:hostProcessId = 510', 'field:hostProcessId = 1709']],
    ['new containers (Tracee: container=new)', ['container=new'], ['flag:container-new=true']],
    ['started containers', ['container=started'], ['flag:container-started=true']],
    ['a container id, prefix-matched like docker short ids', ['container=ab356bc4dd554'], ['flag:container=true', 'field:containerId = prefix:ab356bc4dd554']],
    ['any container (Tracee: container, c)', ['container'], ['flag:container=true']],
    ['short alias', ['c'], ['flag:container=true']],
    ['the host only (Tracee: not-container)', ['not-container'], ['flag:container=false']],
    ['uid (Tracee: uid=0)', ['uid=0'], ['field:userId = 0']],
    ['mount namespace', ['mntns=4026531840'], ['field:mountNamespace = 4026531840']],
    ['pid namespace excluded (Tracee: pidns!=4026531836)', ['pidns!=4026531836'], ['field:pidNamespace != 4026531836']],
    ['descendants (Tracee: tree=476165)', ['tree=476165'], ['tree = 476165']],
    ['not descendants (Tracee: tree!=5023)', ['tree!=5023'], ['tree != 5023']],
    ['tree or, but not (Tracee: tree=3213,5200 --scope tree!=3215)', ['tree=3213,5200', 'tree!=3215'], ['tree = 3213,5200', 'tree != 3215']],
    ['uid comparison (Tracee: uid>0)', ['uid>0'], ['field:userId > 0']],
    ['uid at least', ['uid>=1000'], ['field:userId >= 1000']],
    ['pid range (Tracee: pid>0 --scope pid<1000)', ['pid>0', 'pid<1000'], ['field:hostProcessId > 0', 'field:hostProcessId < 1000']],
    ['uid short alias (Tracee: u>0 --scope u!=1000)', ['u>0', 'u!=1000'], ['field:userId > 0', 'field:userId != 1000']],
    ['uts (Tracee: uts!=ab356bc4dd554)', ['uts!=ab356bc4dd554'], ['field:hostName != exact:ab356bc4dd554']],
    ['comm (Tracee: comm=ls)', ['comm=ls'], ['field:processName = exact:ls']],
    ['executable (Tracee: executable=/usr/bin/ls)', ['executable=/usr/bin/ls'], ['field:executable = exact:/usr/bin/ls']],
    ['exec alias', ['exec=/usr/bin/ls'], ['field:executable = exact:/usr/bin/ls']],
    ['binary alias', ['binary=/usr/bin/ls'], ['field:executable = exact:/usr/bin/ls']],
    ['executable on the host (Tracee: executable=host:/usr/bin/ls)', ['executable=host:/usr/bin/ls'], ['field:executable = exact:/usr/bin/ls@host']],
    ['executable in a mount namespace', ['executable=4026532448:/usr/bin/ls'], ['field:executable = exact:/usr/bin/ls@4026532448']],
    ['follow (Tracee: comm=bash --scope follow)', ['comm=bash', 'follow'], ['field:processName = exact:bash', 'follow']],
    ['hex numbers too', ['uid=0x3e8'], ['field:userId = 1000']],
    ['global', ['global'], ['global']],
  ];
  for (const [what, values, expected] of table) {
    it(`${what}: ${JSON.stringify(values)}`, () => assert.deepEqual(parsed(values), expected));
  }
});

describe('--scope errors name the input, the column and the fix', () => {
  const table: [string, string[], RegExp][] = [
    ['unknown field with a suggestion', ['ui=0'], /^--scope 'ui=0' \(column 1\): unknown scope field 'ui'; did you mean u(id)?\b/],
    ['field without operator', ['comm'], /'comm' is not a scope expression; compare it, e.g. comm=…/],
    ['typo of a keyword', ['folow'], /'folow' is not a scope expression; did you mean follow\?/],
    ['range on a namespace', ['mntns>1'], /\(column 6\): mntns cannot be compared with >; use = or !=/],
    ['range on a tree', ['tree<5'], /tree cannot be compared with </],
    ['range on a string', ['comm>=a'], /comm cannot be compared with >=/],
    ['negative uid', ['uid=-1'], /\(column 5\): uid value '-1' is out of range; write a non-negative integer/],
    ['uid below zero', ['uid<0'], /uid<0 can never be true/],
    ['pid=new with more', ['pid=new,5'], /pid=new takes no other values/],
    ['pid!=new', ['pid!=new'], /pid=new takes no other values/],
    ['container!=started', ['container!=started'], /container!=started is not supported/],
    ['global with others', ['global', 'uid=0'], /global cannot be combined/],
    ['empty', [''], /empty scope expression/],
    ['bad executable namespace', ['executable=abc:/bin/ls'], /executable mount namespace value 'abc' is not a number/],
  ];
  for (const [what, values, message] of table) {
    it(`${what}: ${JSON.stringify(values)}`, () => {
      assert.throws(() => parseScopeFlags(values), (err: unknown) => {
        assert.ok(err instanceof UsageError, String(err));
        assert.match(err.message, message);
        return true;
      });
    });
  }
});
