import { createRequire } from 'node:module';
import type { LineCounter, Node, YAMLError } from 'yaml';
import { UsageError, yamlSyntaxProblem } from '../model/errors.js';
import { type Locate, problem } from './problem.js';

type YamlModule = typeof import('yaml');
let yamlModule: YamlModule | undefined;

/** The YAML parser, loaded on first use (~40 ms): a run without --policy or --rules files never pays for it. */
export const yaml = (): YamlModule => (yamlModule ??= createRequire(import.meta.url)('yaml') as YamlModule);

/** Positions in one YAML file (policies, rules), as `file:line:column`, for one-line error messages. */
export class YamlSource {
  /** Pass to the parser (`{ lineCounter }`) so that positions can be told. */
  readonly lines: LineCounter = new (yaml().LineCounter)();

  constructor(
    readonly file: string,
    readonly text: string,
  ) {}

  at(offset: number): string {
    const { line, col } = this.lines.linePos(offset);
    return `${this.file}:${line}:${col}`;
  }

  /** Offset in the file of the character at `offset` in a scalar's value: plain, quoted or block (| and >) scalars. */
  private offsetIn(node: Node | null | undefined): (offset: number) => number {
    const start = node?.range?.[0] ?? 0;
    const type = yaml().isScalar(node) ? node.type : undefined;
    if (type === 'BLOCK_LITERAL' || type === 'BLOCK_FOLDED') {
      // the value starts on the line after the indicator; each source line keeps its characters, minus the indentation
      const lines: { at: number; length: number }[] = [];
      let pos = this.text.indexOf('\n', start) + 1;
      const end = node?.range?.[1] ?? this.text.length;
      let indent: number | undefined;
      while (pos > 0 && pos < end) {
        const next = this.text.indexOf('\n', pos);
        const line = this.text.slice(pos, next < 0 ? undefined : next);
        indent ??= line.length - line.trimStart().length;
        lines.push({ at: pos + Math.min(indent, line.length), length: Math.max(0, line.length - indent) });
        pos = next < 0 ? -1 : next + 1;
      }
      return (offset) => {
        let rest = offset;
        for (const l of lines) {
          if (rest <= l.length) return l.at + rest;
          rest -= l.length + 1;
        }
        return start;
      };
    }
    const base = this.text[start] === '"' || this.text[start] === "'" ? start + 1 : start;
    return (offset) => base + offset;
  }

  /** Locate inside a scalar's value: offsets count from its first character (past an opening quote, below a | or >). */
  inside(node: Node | null | undefined): Locate {
    const offset = this.offsetIn(node);
    return (o) => this.at(offset(o));
  }

  /** `file:line:col: what; fix` at the start of `node`'s value. */
  fail(node: Node | null | undefined, what: string, fix: string): UsageError {
    return problem(this.inside(node), 0, what, fix);
  }

  /** The parser's first complaint, where it is. */
  syntaxError(error: YAMLError): UsageError {
    return new UsageError(`${this.at(error.pos[0])}: ${yamlSyntaxProblem(error.message)}; fix the YAML syntax there`);
  }
}
