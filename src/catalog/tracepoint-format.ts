import { readFileSync } from 'node:fs';

export interface FormatField {
  /** The C declaration's name, e.g. "from", "args" (array suffix removed). */
  name: string;
  cType: string;
  offset: number;
  size: number;
  signed: boolean;
  /** Element count for array fields such as `unsigned long args[6]`. */
  arrayLength?: number;
}

export interface EventFormat {
  name: string;
  id: number;
  /** Every field, common ones first, in file order. */
  fields: FormatField[];
  /** The fields after the common_* header and __syscall_nr: the syscall's arguments, in order. */
  argFields: FormatField[];
}

const FIELD_RE = /^\s*field:(.+?);\s*offset:(\d+);\s*size:(\d+);\s*signed:(\d+);/;

/** Parses the text of an event's `format` file. */
export function parseFormat(text: string): EventFormat {
  let name = '';
  let id = -1;
  const fields: FormatField[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('name: ')) name = line.slice(6).trim();
    else if (line.startsWith('ID: ')) id = Number(line.slice(4));
    else {
      const m = FIELD_RE.exec(line);
      if (!m) continue;
      const decl = m[1].trim();
      const arr = /^(.*?)\s*([A-Za-z_][A-Za-z0-9_]*)\s*\[(\d+)\]$/.exec(decl);
      const plain = /^(.*?)\s*\*?\s*([A-Za-z_][A-Za-z0-9_]*)$/.exec(decl);
      const field: FormatField = {
        name: arr ? arr[2] : plain ? plain[2] : decl,
        cType: (arr ? arr[1] : plain ? decl.slice(0, decl.length - plain[2].length) : decl).trim(),
        offset: Number(m[2]),
        size: Number(m[3]),
        signed: m[4] === '1',
      };
      if (arr) field.arrayLength = Number(arr[3]);
      fields.push(field);
    }
  }
  if (!name || id < 0) throw new Error(`not a tracefs event format file (no name or ID): ${text.slice(0, 80)}`);
  const argFields = fields.filter((f) => !f.name.startsWith('common_') && f.name !== '__syscall_nr');
  return { name, id, fields, argFields };
}

export function readFormat(eventDir: string): EventFormat {
  return parseFormat(readFileSync(`${eventDir}/format`, 'utf8'));
}

