// parseDataset: every good line loads, every bad one is reported by line number with what is wrong.

import { describe, expect, it } from 'vitest';
import { detectFormat, parseDataset } from '../../src/core/data/parse';

describe('parseDataset: JSONL', () => {
  it('loads prompt/completion, text, label and group fields with line-N ids', () => {
    const src = [
      '{"prompt": "2+2=", "completion": "4"}',
      '',
      '{"text": "The sky is blue."}',
      '{"prompt": "great film", "completion": "positive", "label": "positive", "group": "A"}',
    ].join('\n');
    const { records, errors, format } = parseDataset(src, { format: 'jsonl' });
    expect(format).toBe('jsonl');
    expect(errors).toEqual([]);
    expect(records).toEqual([
      { id: 'line-1', prompt: '2+2=', completion: '4' },
      { id: 'line-3', text: 'The sky is blue.' },
      { id: 'line-4', prompt: 'great film', completion: 'positive', label: 'positive', group: 'A' },
    ]);
  });

  it('accepts input/output, instruction/response, question/answer and text+label', () => {
    const src = [
      '{"input": "a", "output": "b"}',
      '{"instruction": "c", "response": "d"}',
      '{"Question": "e", "Answer": "f"}',
      '{"text": "loved it", "label": "pos"}',
      '{"prompt": "3+3=", "completion": 6}',
    ].join('\n');
    const { records, errors } = parseDataset(src);
    expect(errors).toEqual([]);
    expect(records).toEqual([
      { id: 'line-1', prompt: 'a', completion: 'b' },
      { id: 'line-2', prompt: 'c', completion: 'd' },
      { id: 'line-3', prompt: 'e', completion: 'f' },
      { id: 'line-4', prompt: 'loved it', completion: 'pos', label: 'pos' },
      { id: 'line-5', prompt: '3+3=', completion: '6' },
    ]);
  });

  it('reports malformed and incomplete lines by number and still loads the rest', () => {
    const src = [
      '{"prompt": "ok", "completion": "yes"}',
      '{"prompt": "broken", ',
      '["a", "b"]',
      '{"prompt": "no answer"}',
      '{"completion": "no question"}',
      '{"foo": 1}',
      '{"prompt": {"nested": true}, "completion": "x"}',
      '{"text": "fine"}',
    ].join('\r\n');
    const { records, errors } = parseDataset(src, { fileName: 'data.jsonl' });
    expect(records.map((r) => r.id)).toEqual(['line-1', 'line-8']);
    expect(errors.map((e) => e.line)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(errors[0].message).toMatch(/^line 2: not valid JSON \(.+\)$/);
    expect(errors[1].message).toBe('line 3: expected a JSON object such as {"prompt": "...", "completion": "..."}, but found a list');
    expect(errors[2].message).toMatch(/^line 4: has a prompt but no completion; add one of the fields completion, output/);
    expect(errors[3].message).toMatch(/^line 5: has a completion or label but no prompt/);
    expect(errors[4].message).toBe('line 6: has neither prompt/completion nor text (found only "foo")');
    expect(errors[5].message).toBe('line 7: field "prompt" must be text, but it is an object');
  });

  it('reports an empty file', () => {
    for (const src of ['', '  \n\n']) {
      const { records, errors } = parseDataset(src, { fileName: 'x.jsonl' });
      expect(records).toEqual([]);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ line: 0, message: expect.stringMatching(/^The file is empty/) });
    }
  });
});

describe('parseDataset: CSV', () => {
  it('handles quoted commas, doubled quotes, newlines in quotes and CRLF', () => {
    const src = 'prompt,completion,label\r\n"Hello, world",greeting,g\r\n"She said ""hi""","multi\nline",q\r\nplain,text,\r\n';
    const { records, errors, format } = parseDataset(src, { fileName: 'd.csv' });
    expect(format).toBe('csv');
    expect(errors).toEqual([]);
    expect(records).toEqual([
      { id: 'line-2', prompt: 'Hello, world', completion: 'greeting', label: 'g' },
      { id: 'line-3', prompt: 'She said "hi"', completion: 'multi\nline', label: 'q' },
      { id: 'line-5', prompt: 'plain', completion: 'text' },
    ]);
  });

  it('treats empty cells as not given, so text-only rows work beside prompt rows', () => {
    const { records, errors } = parseDataset('text,label\nloved it,pos\njust text,\n', { format: 'csv' });
    expect(errors).toEqual([]);
    expect(records).toEqual([
      { id: 'line-2', prompt: 'loved it', completion: 'pos', label: 'pos' },
      { id: 'line-3', text: 'just text' },
    ]);
  });

  it('reports bad quoting and wrong field counts by line and keeps the good rows', () => {
    const src = ['input,output', 'a,b', 'bad "quote",c', '"closed"junk,d', 'x,y,z', 'e,f', '"never closed,g', 'h,i'].join('\n');
    const { records, errors } = parseDataset(src, { format: 'csv' });
    expect(records).toEqual([
      { id: 'line-2', prompt: 'a', completion: 'b' },
      { id: 'line-6', prompt: 'e', completion: 'f' },
    ]);
    expect(errors.map((e) => e.line)).toEqual([3, 4, 5, 7]);
    expect(errors[0].message).toMatch(/^line 3: field 1 has a stray " inside an unquoted value/);
    expect(errors[1].message).toMatch(/^line 4: field 1 has text after its closing quote/);
    expect(errors[2].message).toBe('line 5: has 3 fields but the header has 2; wrap any value that contains a comma in double quotes');
    expect(errors[3].message).toMatch(/^line 7: a quoted field opens here but never closes/);
  });

  it('reports a header with no known column', () => {
    const { records, errors } = parseDataset('foo,bar\n1,2\n', { format: 'csv' });
    expect(records).toEqual([]);
    expect(errors[0].message).toBe('line 1: the header row (foo, bar) names none of the known columns: prompt, input, instruction, question, completion, output, response, answer, text, label, group');
  });

  it('reports missing fields in a row', () => {
    const { errors } = parseDataset('prompt,completion\nonly prompt,\n', { format: 'csv' });
    expect(errors[0].message).toMatch(/^line 2: has a prompt but no completion/);
  });
});

describe('parseDataset: TXT and detection', () => {
  it('turns blank-line-separated paragraphs into text records', () => {
    const { records, format } = parseDataset('First para\nstill first.\n\n\nSecond.\n   \nThird.', { fileName: 'notes.txt' });
    expect(format).toBe('txt');
    expect(records).toEqual([
      { id: 'line-1', text: 'First para\nstill first.' },
      { id: 'line-5', text: 'Second.' },
      { id: 'line-7', text: 'Third.' },
    ]);
  });

  it('detects by extension first, then by content', () => {
    expect(detectFormat('a,b', 'x.jsonl')).toBe('jsonl');
    expect(detectFormat('{"a":1}', 'x.CSV')).toBe('csv');
    expect(detectFormat('prompt,completion', 'x.txt')).toBe('txt');
    expect(detectFormat('\n  {"prompt": "a"}')).toBe('jsonl');
    expect(detectFormat('Prompt, Completion\na,b')).toBe('csv');
    expect(detectFormat('Once upon a time, there was')).toBe('txt');
    expect(parseDataset('{"text": "a"}', { format: 'txt' }).records).toEqual([{ id: 'line-1', text: '{"text": "a"}' }]);
  });

  it('strips a byte-order mark', () => {
    expect(parseDataset('\uFEFFprompt,completion\na,b').records).toEqual([{ id: 'line-2', prompt: 'a', completion: 'b' }]);
  });
});
