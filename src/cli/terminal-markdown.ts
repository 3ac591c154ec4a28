/**
 * The Markdown of an event page (src/docs/event-page.ts) as plain terminal text: headings underlined, tables
 * aligned, code indented, no Markdown marks. It reads the subset those pages use, nothing more.
 */
export function markdownForTerminal(markdown: string, width = 100): string {
  const out: string[] = [];
  const lines = markdown.replace(/\n$/, '').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith('```')) {
      while (++i < lines.length && !lines[i].startsWith('```')) out.push(`    ${lines[i]}`);
    } else if (line.startsWith('|')) {
      const rows: string[] = [];
      for (; i < lines.length && lines[i].startsWith('|'); i++) rows.push(lines[i]);
      i--;
      out.push(...table(rows));
    } else if (/^#{1,6} /.test(line)) {
      const text = inline(line.replace(/^#+ /, ''));
      out.push(text, (line.startsWith('# ') ? '=' : '-').repeat(text.length));
    } else if (line === '---') {
      out.push('-'.repeat(Math.min(width, 40)));
    } else if (line.startsWith('- ')) {
      out.push(...wrap(inline(line.slice(2)), width, '  • ', '    '));
    } else {
      out.push(...wrap(inline(line), width, '', ''));
    }
  }
  return `${out.join('\n')}\n`;
}

/** Inline marks: **bold**, `code` and [text](link) keep their text. */
function inline(text: string): string {
  return text
    .replace(/\*\*(.+?)\*\*/g, '$1')
    .replace(/`([^`]*)`/g, '$1')
    .replace(/\[([^\]]+)\]\([^)]+\)/g, '$1');
}

function wrap(text: string, width: number, first: string, rest: string): string[] {
  if (!text) return [''];
  const lines: string[] = [];
  let line = first;
  for (const word of text.split(' ')) {
    const prefix = lines.length ? rest : first;
    if (line.length > prefix.length && line.length + 1 + word.length > width) {
      lines.push(line);
      line = rest + word;
    } else line += (line.length > prefix.length ? ' ' : '') + word;
  }
  lines.push(line);
  return lines;
}

/** Columns aligned two spaces apart; the header underlined; a table whose header is empty shows no header. */
function table(rows: string[]): string[] {
  const cells = rows
    .filter((r) => !/^\|(\s*:?-+:?\s*\|)+$/.test(r))
    .map((r) =>
      r
        .slice(1, -1)
        .split('|')
        .map((c) => inline(c.trim())),
    );
  const [header, ...body] = cells;
  const showHeader = header.some((c) => c !== '');
  const shown = showHeader ? cells : body;
  const widths = header.map((_, col) => Math.max(...shown.map((r) => (r[col] ?? '').length)));
  const render = (r: string[]): string => r.map((c, col) => (col === r.length - 1 ? c : c.padEnd(widths[col]))).join('  ').trimEnd();
  const out = body.map(render);
  if (showHeader) out.unshift(render(header), widths.map((w) => '-'.repeat(w)).join('  '));
  return out.map((l) => `  ${l}`);
}
