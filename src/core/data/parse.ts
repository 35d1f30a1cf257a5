// Turns an uploaded or pasted dataset (JSONL, CSV or plain text) into DataRecords. Every good line loads and
// every bad one is explained by line number, so one typo never costs the learner the whole file.

import { readCsv } from './csv';
import type { DataRecord } from './types';

export type DataFormat = 'jsonl' | 'csv' | 'txt';

/** A problem with one line of the source. `line` is 1-based; 0 means the file as a whole. */
export interface ParseIssue {
  line: number;
  message: string; // a full sentence starting "line N: ..." (or about the file when line is 0)
}

export interface ParseOptions {
  format?: DataFormat | 'auto'; // auto: by file extension, then by content
  fileName?: string;
}

export interface ParseResult {
  records: DataRecord[];
  errors: ParseIssue[];
  format: DataFormat;
}

// Column names other datasets use (Alpaca, SQuAD-style, OpenAI fine-tuning), mapped onto ours.
// Earlier names win when a row has several.
const PROMPT_KEYS = ['prompt', 'input', 'instruction', 'question'];
const COMPLETION_KEYS = ['completion', 'output', 'response', 'answer'];
const KNOWN_KEYS = [...PROMPT_KEYS, ...COMPLETION_KEYS, 'text', 'label', 'group'];

export function parseDataset(text: string, opts: ParseOptions = {}): ParseResult {
  const source = text.replace(/^\uFEFF/, ''); // spreadsheet exports often start with a byte-order mark
  const format = opts.format && opts.format !== 'auto' ? opts.format : detectFormat(source, opts.fileName);
  if (source.trim() === '') {
    const message = 'The file is empty: add at least one record, e.g. a line {"prompt": "2+2=", "completion": "4"}.';
    return { records: [], errors: [{ line: 0, message }], format };
  }
  const parsed = format === 'jsonl' ? parseJsonl(source) : format === 'csv' ? parseCsv(source) : parseTxt(source);
  return { ...parsed, format };
}

export function detectFormat(source: string, fileName?: string): DataFormat {
  const ext = fileName?.toLowerCase().match(/\.([a-z0-9]+)$/)?.[1];
  if (ext === 'jsonl' || ext === 'ndjson' || ext === 'json') return 'jsonl';
  if (ext === 'csv') return 'csv';
  if (ext === 'txt' || ext === 'md') return 'txt';
  const first = source.split('\n').find((l) => l.trim() !== '')?.trim() ?? '';
  if (first.startsWith('{')) return 'jsonl';
  const header = first.split(',').map(normaliseKey);
  if (header.length >= 2 && header.some((h) => KNOWN_KEYS.includes(h))) return 'csv';
  return 'txt';
}

type Parsed = { records: DataRecord[]; errors: ParseIssue[] };

function parseJsonl(source: string): Parsed {
  const out: Parsed = { records: [], errors: [] };
  source.split('\n').forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      out.errors.push(issue(line, `not valid JSON (${(e as Error).message})`));
      return;
    }
    if (!isPlainObject(value)) {
      out.errors.push(issue(line, `expected a JSON object such as {"prompt": "...", "completion": "..."}, but found ${describe(value)}`));
      return;
    }
    collect(out, toRecord(value, line), line);
  });
  return out;
}

function parseCsv(source: string): Parsed {
  const { rows, issues } = readCsv(source);
  const out: Parsed = { records: [], errors: issues };
  const [header, ...body] = rows;
  if (!header) return out;
  const keys = header.cells.map(normaliseKey);
  if (!keys.some((k) => KNOWN_KEYS.includes(k))) {
    out.errors.unshift(issue(header.line, `the header row (${header.cells.join(', ')}) names none of the known columns: ${KNOWN_KEYS.join(', ')}`));
    return out;
  }
  for (const row of body) {
    if (row.cells.length !== keys.length) {
      out.errors.push(issue(row.line, `has ${row.cells.length} fields but the header has ${keys.length}; wrap any value that contains a comma in double quotes`));
      continue;
    }
    // Every CSV row has every column, so an empty cell means "not given" rather than an empty string.
    const fields = Object.fromEntries(header.cells.map((k, j) => [k, row.cells[j] === '' ? undefined : row.cells[j]]));
    collect(out, toRecord(fields, row.line), row.line);
  }
  out.errors.sort((a, b) => a.line - b.line);
  return out;
}

function parseTxt(source: string): Parsed {
  const records: DataRecord[] = [];
  let paragraph: string[] = [];
  let start = 0;
  const flush = () => {
    if (paragraph.length > 0) records.push({ id: `line-${start}`, text: paragraph.join('\n') });
    paragraph = [];
  };
  source.split(/\r?\n/).forEach((l, i) => {
    if (l.trim() === '') return flush();
    if (paragraph.length === 0) start = i + 1;
    paragraph.push(l);
  });
  flush();
  return { records, errors: [] };
}

/** Map one row's fields onto a DataRecord, or say what is missing. */
function toRecord(raw: Record<string, unknown>, line: number): DataRecord | string {
  const fields = new Map<string, string>();
  for (const [key, value] of Object.entries(raw)) {
    const k = normaliseKey(key);
    if (!KNOWN_KEYS.includes(k) || value === null || value === undefined) continue;
    if (typeof value === 'object') return `field "${key}" must be text, but it is ${describe(value)}`;
    if (!fields.has(k)) fields.set(k, String(value).replace(/\r\n/g, '\n'));
  }
  const pick = (keys: string[]) => keys.map((k) => fields.get(k)).find((v) => v !== undefined);
  let prompt = pick(PROMPT_KEYS);
  let completion = pick(COMPLETION_KEYS);
  let text = fields.get('text');
  const label = fields.get('label');
  // {text, label} is classification: the model reads the text and answers with the label.
  completion ??= label;
  if (prompt === undefined && completion !== undefined && text !== undefined) [prompt, text] = [text, undefined];

  const base = { id: `line-${line}`, ...(label !== undefined && { label }), ...(fields.has('group') && { group: fields.get('group') }) };
  if (prompt !== undefined && completion !== undefined) return { ...base, prompt, completion };
  if (prompt !== undefined) return `has a prompt but no completion; add one of the fields ${COMPLETION_KEYS.join(', ')} or label`;
  if (completion !== undefined) return `has a completion or label but no prompt; add one of the fields ${PROMPT_KEYS.join(', ')} or text`;
  if (text !== undefined) return { ...base, text };
  const found = Object.keys(raw).filter((k) => raw[k] !== undefined);
  return `has neither prompt/completion nor text (${found.length ? `found only ${found.map((k) => `"${k}"`).join(', ')}` : 'it has no fields'})`;
}

function collect(out: Parsed, result: DataRecord | string, line: number): void {
  if (typeof result === 'string') out.errors.push(issue(line, result));
  else out.records.push(result);
}

const issue = (line: number, what: string): ParseIssue => ({ line, message: `line ${line}: ${what}` });
const normaliseKey = (k: string) => k.trim().toLowerCase();
const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'an object' : `the ${typeof v} ${JSON.stringify(v)}`;
}
