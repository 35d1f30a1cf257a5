// Turns an uploaded or pasted dataset (JSONL, a JSON array, CSV or plain text) into DataRecords. Every good line
// loads and every bad one is explained by line number, so one typo never costs the learner the whole file.
// decodeDataset reads a file's bytes as text first: UTF-8, or UTF-16 by its byte-order mark or its zero bytes.

import { readCsv } from './csv';
import type { ChatMessage, DataRecord } from './types';
import { plainChat } from './chat';

export type DataFormat = 'jsonl' | 'json' | 'csv' | 'txt';

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
  // text never holds NUL: a line with one is reported and left out (blanked, so every other line keeps its number)
  const nul: ParseIssue[] = [];
  const clean = source
    .split('\n')
    .map((l, i) => {
      if (!l.includes('\0')) return l;
      nul.push(
        issue(
          i + 1,
          `holds ${count(l, '\0')} NUL byte(s) (character code 0), which text never has: is this a binary file, or text saved as UTF-16 or UTF-32? Save it as UTF-8 text`,
        ),
      );
      return '';
    })
    .join('\n');
  const parsed =
    format === 'jsonl'
      ? parseJsonl(clean)
      : format === 'json'
        ? parseJsonArray(clean)
        : format === 'csv'
          ? parseCsv(clean)
          : parseTxt(clean);
  return { records: parsed.records, errors: [...nul, ...parsed.errors].sort((a, b) => a.line - b.line), format };
}

/** The text of an uploaded file, and the encoding it was read in; or why it cannot be read, naming the encoding. */
export type Decoded = { text: string; encoding: TextEncoding } | { error: string };
export type TextEncoding = 'utf-8' | 'utf-16le' | 'utf-16be';

/**
 * Reads a file's bytes as text: a byte-order mark decides (UTF-8, UTF-16 LE/BE; UTF-32 is refused by name);
 * without one, UTF-16 shows as a zero byte in every other position (the high byte of Latin text), else the bytes
 * must be valid UTF-8. NUL bytes in UTF-8 text are left for parseDataset, which reports them by line.
 */
export function decodeDataset(bytes: Uint8Array, fileName = 'the file'): Decoded {
  const b = bytes;
  if (
    (b[0] === 0xff && b[1] === 0xfe && b[2] === 0 && b[3] === 0) ||
    (b[0] === 0 && b[1] === 0 && b[2] === 0xfe && b[3] === 0xff)
  ) {
    return {
      error: `${fileName} is UTF-32 text (it starts with a UTF-32 byte-order mark), which this page does not read: save it as UTF-8`,
    };
  }
  const bom = b[0] === 0xff && b[1] === 0xfe ? 'utf-16le' : b[0] === 0xfe && b[1] === 0xff ? 'utf-16be' : null;
  const encoding: TextEncoding = bom ?? utf16ByZeros(b) ?? 'utf-8';
  try {
    // fatal: a byte sequence that is not valid in this encoding throws rather than turning into U+FFFD
    const text = new TextDecoder(encoding, { fatal: true, ignoreBOM: false }).decode(b);
    return { text, encoding };
  } catch {
    if (encoding !== 'utf-8')
      return {
        error: `${fileName} looks like ${encoding.toUpperCase()} text but holds byte sequences that are not valid in it: save it as UTF-8`,
      };
    const at = firstBadUtf8(b);
    const line = count(new TextDecoder().decode(b.subarray(0, at)), '\n') + 1;
    return {
      error: `${fileName} is not UTF-8 text: line ${line} holds the byte 0x${b[at].toString(16).padStart(2, '0')}, which UTF-8 does not allow (is it Latin-1 / Windows-1252?); save it as UTF-8`,
    };
  }
}

/** UTF-16 without a byte-order mark: in Latin-script text every other byte is zero (odd positions: LE, even: BE). */
function utf16ByZeros(b: Uint8Array): 'utf-16le' | 'utf-16be' | null {
  const n = Math.min(b.length, 4096) & ~1;
  if (n < 4) return null;
  let even = 0;
  let odd = 0;
  for (let i = 0; i < n; i += 2) {
    if (b[i] === 0) even++;
    if (b[i + 1] === 0) odd++;
  }
  const pairs = n / 2;
  if (odd > 0.3 * pairs && even < 0.05 * pairs) return 'utf-16le';
  if (even > 0.3 * pairs && odd < 0.05 * pairs) return 'utf-16be';
  return null;
}

/** Where UTF-8 breaks: the first lead byte without its continuation bytes (overlong forms aside, which TextDecoder also refuses). */
function firstBadUtf8(b: Uint8Array): number {
  for (let i = 0; i < b.length;) {
    const x = b[i];
    const tail = x < 0x80 ? 0 : x >= 0xc2 && x < 0xe0 ? 1 : x >= 0xe0 && x < 0xf0 ? 2 : x >= 0xf0 && x < 0xf5 ? 3 : -1;
    if (tail < 0) return i;
    for (let k = 1; k <= tail; k++) if ((b[i + k] & 0xc0) !== 0x80) return i;
    i += tail + 1;
  }
  return b.length - 1;
}

export function detectFormat(source: string, fileName?: string): DataFormat {
  const ext = fileName?.toLowerCase().match(/\.([a-z0-9]+)$/)?.[1];
  const array = source.trimStart().startsWith('[');
  if (ext === 'jsonl' || ext === 'ndjson') return 'jsonl';
  if (ext === 'json') return array ? 'json' : 'jsonl';
  if (ext === 'csv') return 'csv';
  if (ext === 'txt' || ext === 'md') return 'txt';
  const first =
    source
      .split('\n')
      .find((l) => l.trim() !== '')
      ?.trim() ?? '';
  if (first.startsWith('{')) return 'jsonl';
  if (array) {
    try {
      if (Array.isArray(JSON.parse(source))) return 'json';
    } catch {
      // not JSON: read on as CSV or text
    }
  }
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
      out.errors.push(
        issue(
          line,
          `expected a JSON object such as {"prompt": "...", "completion": "..."}, but found ${describe(value)}`,
        ),
      );
      return;
    }
    collect(out, toRecord(value, line), line);
  });
  return out;
}

/** A JSON array of records ([{...}, {...}]), as other tools export; each record is reported by the line it starts on. */
function parseJsonArray(source: string): Parsed {
  const out: Parsed = { records: [], errors: [] };
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (e) {
    const message = (e as Error).message;
    const at = Number(message.match(/position (\d+)/)?.[1] ?? NaN);
    const line = Number.isFinite(at) ? count(source.slice(0, at), '\n') + 1 : 0;
    out.errors.push(
      line > 0
        ? issue(line, `the JSON array is not valid JSON (${message}); no record could be read`)
        : { line: 0, message: `The file is not a valid JSON array (${message}); no record could be read.` },
    );
    return out;
  }
  if (!Array.isArray(value)) {
    out.errors.push({
      line: 1,
      message: `line 1: expected a JSON array of objects such as [{"prompt": "...", "completion": "..."}], but found ${describe(value)}`,
    });
    return out;
  }
  const starts = elementLines(source);
  value.forEach((v, i) => {
    const line = starts[i] ?? 1;
    if (!isPlainObject(v))
      out.errors.push(
        issue(
          line,
          `record ${i + 1} of the array: expected a JSON object such as {"prompt": "...", "completion": "..."}, but found ${describe(v)}`,
        ),
      );
    else collect(out, toRecord(v, line), line);
  });
  return out;
}

/** The 1-based line on which each element of a valid top-level JSON array starts. */
function elementLines(source: string): number[] {
  const lines: number[] = [];
  let line = 1;
  let depth = 0;
  let inString = false;
  let expectValue = false;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (ch === '\n') line++;
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (/\s/.test(ch)) continue;
    if (depth === 1 && expectValue && ch !== ']') {
      lines.push(line);
      expectValue = false;
    }
    if (ch === '"') inString = true;
    else if (ch === '[' || ch === '{') {
      depth++;
      if (depth === 1) expectValue = true;
    } else if (ch === ']' || ch === '}') depth--;
    else if (ch === ',' && depth === 1) expectValue = true;
  }
  return lines;
}

function parseCsv(source: string): Parsed {
  const { rows, issues } = readCsv(source);
  const out: Parsed = { records: [], errors: issues };
  const [header, ...body] = rows;
  if (!header) return out;
  const keys = header.cells.map(normaliseKey);
  if (!keys.some((k) => KNOWN_KEYS.includes(k))) {
    out.errors.unshift(
      issue(
        header.line,
        `the header row (${header.cells.join(', ')}) names none of the known columns: ${KNOWN_KEYS.join(', ')}`,
      ),
    );
    return out;
  }
  for (const row of body) {
    if (row.cells.length !== keys.length) {
      out.errors.push(
        issue(
          row.line,
          `has ${row.cells.length} fields but the header has ${keys.length}; wrap any value that contains a comma in double quotes`,
        ),
      );
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
  if (raw.messages !== undefined) return chatRecord(raw.messages, `line-${line}`);
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

  const base = {
    id: `line-${line}`,
    ...(label !== undefined && { label }),
    ...(fields.has('group') && { group: fields.get('group') }),
  };
  if (prompt !== undefined && completion !== undefined) return { ...base, prompt, completion };
  if (prompt !== undefined)
    return `has a prompt but no completion; add one of the fields ${COMPLETION_KEYS.join(', ')} or label`;
  if (completion !== undefined)
    return `has a completion or label but no prompt; add one of the fields ${PROMPT_KEYS.join(', ')} or text`;
  if (text !== undefined) return { ...base, text };
  const found = Object.keys(raw).filter((k) => raw[k] !== undefined);
  return `has neither prompt/completion nor text (${found.length ? `found only ${found.map((k) => `"${k}"`).join(', ')}` : 'it has no fields'})`;
}

/**
 * A chat record ({"messages": [{"role": "user", "content": ...}, ..., {"role": "assistant", ...}]}, the format of
 * transformers' chat datasets): trained on its last assistant turn. prompt/completion hold it in a plain form here;
 * a model with a chat template rewrites them its own way when the run is prepared (data/chat.ts).
 */
function chatRecord(raw: unknown, id: string): DataRecord | string {
  if (!Array.isArray(raw) || raw.length === 0)
    return `field "messages" must be a non-empty list of {"role": ..., "content": ...} turns, but it is ${describe(raw)}`;
  const messages: ChatMessage[] = [];
  for (const [i, m] of raw.entries()) {
    const role = (m as { role?: unknown })?.role;
    const content = (m as { content?: unknown })?.content;
    if (role !== 'system' && role !== 'user' && role !== 'assistant')
      return `message ${i + 1} has role ${JSON.stringify(role)}: roles are system, user and assistant`;
    if (typeof content !== 'string') return `message ${i + 1} (${role}) has no text "content"`;
    messages.push({ role, content: content.replace(/\r\n/g, '\n') });
  }
  if (messages.at(-1)!.role !== 'assistant')
    return `the last message is the ${messages.at(-1)!.role}'s: a chat record ends with the assistant's answer, which is what trains`;
  if (messages.length < 2) return "has only the assistant's answer: add the user turn it answers";
  const { prompt, completion } = plainChat(messages);
  return { id, messages, prompt, completion, separator: '' };
}

function collect(out: Parsed, result: DataRecord | string, line: number): void {
  if (typeof result === 'string') out.errors.push(issue(line, result));
  else out.records.push(result);
}

const issue = (line: number, what: string): ParseIssue => ({ line, message: `line ${line}: ${what}` });
const count = (s: string, ch: string) => s.split(ch).length - 1;
const normaliseKey = (k: string) => k.trim().toLowerCase();
const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'an object' : `the ${typeof v} ${JSON.stringify(v)}`;
}
