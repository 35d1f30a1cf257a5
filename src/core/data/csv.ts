// RFC 4180 CSV reader: quoted fields may hold commas, newlines and doubled quotes (""). It keeps each row's
// starting line so a problem can be reported where the learner will find it in their editor.

import type { ParseIssue } from './parse';

export interface CsvRow {
  line: number; // 1-based line on which the row starts
  cells: string[];
}

/** Split CSV text into rows of cells. A malformed row becomes an issue and is left out; the rest still load. */
export function readCsv(source: string): { rows: CsvRow[]; issues: ParseIssue[] } {
  const rows: CsvRow[] = [];
  const issues: ParseIssue[] = [];
  let cells: string[] = [];
  let cell = '';
  // start: nothing read in this cell yet; plain: unquoted text; quoted: inside "..."; closed: just after the closing quote
  let state: 'start' | 'plain' | 'quoted' | 'closed' = 'start';
  let line = 1;
  let rowLine = 1;
  let quoteLine = 1;
  let problem: string | undefined;

  const endCell = () => {
    cells.push(cell);
    cell = '';
    state = 'start';
  };
  const endRow = () => {
    endCell();
    if (problem) issues.push({ line: rowLine, message: `line ${rowLine}: ${problem}` });
    else if (cells.some((c) => c.trim() !== '')) rows.push({ line: rowLine, cells });
    cells = [];
    problem = undefined;
  };

  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (state === 'quoted') {
      if (ch === '"' && source[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') {
        state = 'closed';
      } else {
        if (ch === '\n') line++;
        cell += ch;
      }
      continue;
    }
    if (ch === ',') {
      endCell();
    } else if (ch === '\r' && source[i + 1] === '\n') {
      continue; // CRLF: the \n ends the row
    } else if (ch === '\n') {
      endRow();
      line++;
      rowLine = line;
    } else if (state === 'closed') {
      problem ??= `field ${cells.length + 1} has text after its closing quote; a quoted value must end right before a comma or the end of the line`;
    } else if (ch === '"' && state === 'start') {
      state = 'quoted';
      quoteLine = line;
    } else {
      if (ch === '"') {
        problem ??= `field ${cells.length + 1} has a stray " inside an unquoted value; wrap the whole value in double quotes and write each quote inside it as ""`;
      }
      cell += ch;
      state = 'plain';
    }
  }

  if (state === 'quoted') {
    issues.push({
      line: quoteLine,
      message: `line ${quoteLine}: a quoted field opens here but never closes, so everything after it was read as one value; add the missing closing "`,
    });
  } else if (cells.length > 0 || cell !== '' || state !== 'start') {
    endRow();
  }
  return { rows, issues };
}
