// The validation report of a dataset file as plain text, with the rows and sentences the page's data report
// (src/ui/components/DataReport.svelte) shows: for the CLI, a log or a terminal.

import type { ParseResult } from './parse';
import type { DataReport } from './report';

const MAX_ERRORS = 20; // as the page: the first 20 parse errors, then a count

export function reportText(fileName: string, parsed: ParseResult, r: DataReport): string {
  const labels = r.labels ? Object.entries(r.labels.counts).sort((a, b) => b[1] - a[1]) : [];
  const rows: [string, string][] = [
    ['Usable records', String(parsed.records.length)],
    ['Lines with errors', String(parsed.errors.length)],
    ['Prompt/completion · text', `${r.promptCompletion} · ${r.textOnly}`],
    ['Empty', String(r.empty.count)],
    ['Duplicates', String(r.duplicates.count)],
    ['Conflicting answers', String(r.conflicts.count)],
    ['Over-long (> context)', String(r.overLong.count)],
    ['Mixed formats', r.mixedFormats ? 'yes' : 'no'],
  ];
  if (labels.length > 0) rows.push(['Labels', labels.map(([l, c]) => `${l}: ${c}`).join(', ')]);
  const width = Math.max(...rows.map(([k]) => k.length));
  const out = [`${fileName} (${parsed.format.toUpperCase()})`, ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)];
  if (parsed.errors.length > 0) {
    out.push('Parse errors');
    for (const e of parsed.errors.slice(0, MAX_ERRORS)) out.push(`  ${e.message}`);
    if (parsed.errors.length > MAX_ERRORS) out.push(`  …and ${parsed.errors.length - MAX_ERRORS} more.`);
  }
  if (r.messages.length > 0) {
    out.push('Findings');
    for (const m of r.messages) out.push(`  ${m.level}: ${m.text}`);
  }
  return out.join('\n') + '\n';
}
