// parseDataset: every good line loads, every bad one is reported by line number with what is wrong.

import { describe, expect, it } from 'vitest';
import { decodeDataset, detectFormat, parseDataset } from '../../src/core/data/parse';

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
    expect(errors[1].message).toBe(
      'line 3: expected a JSON object such as {"prompt": "...", "completion": "..."}, but found a list',
    );
    expect(errors[2].message).toMatch(
      /^line 4: has a prompt but no completion; add one of the fields completion, output/,
    );
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
    const src =
      'prompt,completion,label\r\n"Hello, world",greeting,g\r\n"She said ""hi""","multi\nline",q\r\nplain,text,\r\n';
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
    const src = [
      'input,output',
      'a,b',
      'bad "quote",c',
      '"closed"junk,d',
      'x,y,z',
      'e,f',
      '"never closed,g',
      'h,i',
    ].join('\n');
    const { records, errors } = parseDataset(src, { format: 'csv' });
    expect(records).toEqual([
      { id: 'line-2', prompt: 'a', completion: 'b' },
      { id: 'line-6', prompt: 'e', completion: 'f' },
    ]);
    expect(errors.map((e) => e.line)).toEqual([3, 4, 5, 7]);
    expect(errors[0].message).toMatch(/^line 3: field 1 has a stray " inside an unquoted value/);
    expect(errors[1].message).toMatch(/^line 4: field 1 has text after its closing quote/);
    expect(errors[2].message).toBe(
      'line 5: has 3 fields but the header has 2; wrap any value that contains a comma in double quotes',
    );
    expect(errors[3].message).toMatch(/^line 7: a quoted field opens here but never closes/);
  });

  it('reports a header with no known column', () => {
    const { records, errors } = parseDataset('foo,bar\n1,2\n', { format: 'csv' });
    expect(records).toEqual([]);
    expect(errors[0].message).toBe(
      'line 1: the header row (foo, bar) names none of the known columns: prompt, input, instruction, question, completion, output, response, answer, text, label, group',
    );
  });

  it('reports missing fields in a row', () => {
    const { errors } = parseDataset('prompt,completion\nonly prompt,\n', { format: 'csv' });
    expect(errors[0].message).toMatch(/^line 2: has a prompt but no completion/);
  });
});

describe('parseDataset: TXT and detection', () => {
  it('turns blank-line-separated paragraphs into text records', () => {
    const { records, format } = parseDataset('First para\nstill first.\n\n\nSecond.\n   \nThird.', {
      fileName: 'notes.txt',
    });
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
    expect(parseDataset('\uFEFFprompt,completion\na,b').records).toEqual([
      { id: 'line-2', prompt: 'a', completion: 'b' },
    ]);
  });
});

describe('parseDataset: a JSON array of records', () => {
  const pretty = JSON.stringify(
    [
      { prompt: '2+2=', completion: '4' },
      { instruction: 'say hi', output: 'hi' },
      'oops',
      { text: 'plain' },
      { prompt: 'no answer' },
    ],
    null,
    2,
  );

  it('loads every object in the array and reports each bad element by the line it starts on', () => {
    const { records, errors, format } = parseDataset(pretty, { fileName: 'export.json' });
    expect(format).toBe('json');
    expect(records).toEqual([
      { id: 'line-2', prompt: '2+2=', completion: '4' },
      { id: 'line-6', prompt: 'say hi', completion: 'hi' },
      { id: 'line-11', text: 'plain' },
    ]);
    expect(errors.map((e) => e.message)).toEqual([
      'line 10: record 3 of the array: expected a JSON object such as {"prompt": "...", "completion": "..."}, but found the string "oops"',
      'line 14: has a prompt but no completion; add one of the fields completion, output, response, answer or label',
    ]);
  });

  it('is detected by content without an extension, and a one-line array works too', () => {
    expect(detectFormat(' [{"prompt": "a", "completion": "b"}]')).toBe('json');
    expect(
      parseDataset('[{"prompt": "a", "completion": "b"}, {"prompt": "c", "completion": "d"}]').records,
    ).toHaveLength(2);
    expect(detectFormat('{"prompt": "a"}', 'x.json')).toBe('jsonl'); // JSONL saved as .json still reads line by line
    expect(detectFormat('[not json', 'x.txt')).toBe('txt');
  });

  it('a broken array is reported at the line where the JSON breaks', () => {
    const { records, errors } = parseDataset(
      '[\n{"prompt": "a", "completion": "b"},\n{"prompt": "c" "completion": "d"}\n]',
      { fileName: 'x.json' },
    );
    expect(records).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(errors[0].line).toBe(3);
    expect(errors[0].message).toMatch(/^line 3: the JSON array is not valid JSON/);
  });

  it('a JSON file holding an object or a number says what it found', () => {
    expect(parseDataset('[1] ', { format: 'json' }).errors[0].message).toMatch(
      /record 1 of the array: .* found the number 1/,
    );
    expect(parseDataset('{"rows": []}', { format: 'json' }).errors[0].message).toMatch(
      /expected a JSON array of objects .* found an object/,
    );
  });
});

describe('NUL bytes and text encodings', () => {
  const jsonl = '{"prompt": "2+2=", "completion": "4"}\n{"prompt": "3+3=", "completion": "6"}\n';
  const utf16 = (s: string, bom: boolean, be = false) => {
    const out = new Uint8Array((bom ? 2 : 0) + 2 * s.length);
    if (bom) out.set(be ? [0xfe, 0xff] : [0xff, 0xfe]);
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      out[(bom ? 2 : 0) + 2 * i + (be ? 1 : 0)] = c & 0xff;
      out[(bom ? 2 : 0) + 2 * i + (be ? 0 : 1)] = c >> 8;
    }
    return out;
  };

  it('reports each line that holds a NUL byte by its number and loads the others', () => {
    const { records, errors } = parseDataset(
      '{"prompt": "a", "completion": "b"}\n{"prompt": "\0\0c", "completion": "d"}\n{"prompt": "e", "completion": "f"}',
      { format: 'jsonl' },
    );
    expect(records.map((r) => r.id)).toEqual(['line-1', 'line-3']);
    expect(errors).toHaveLength(1);
    expect(errors[0].message).toMatch(/^line 2: holds 2 NUL byte\(s\) \(character code 0\).*UTF-16/);
  });

  it('a file full of NUL bytes loads nothing and says so by line, in every format', () => {
    const zeros = new TextDecoder().decode(new Uint8Array(64));
    for (const fileName of ['blob.jsonl', 'blob.csv', 'blob.txt']) {
      const { records, errors } = parseDataset(`${zeros}\n${zeros}`, { fileName });
      expect(records, fileName).toEqual([]);
      expect(
        errors.map((e) => e.line),
        fileName,
      ).toEqual([1, 2]);
      expect(errors[0].message).toMatch(/^line 1: holds 64 NUL byte/);
    }
    const decoded = decodeDataset(new Uint8Array(4096), 'blob.bin');
    expect(decoded).toEqual({ text: '\0'.repeat(4096), encoding: 'utf-8' }); // all zeros is not UTF-16: parseDataset reports it
  });

  it('decodes UTF-16 with a byte-order mark (LE and BE) and without one (LE and BE)', () => {
    for (const [bytes, encoding] of [
      [utf16(jsonl, true), 'utf-16le'],
      [utf16(jsonl, true, true), 'utf-16be'],
      [utf16(jsonl, false), 'utf-16le'],
      [utf16(jsonl, false, true), 'utf-16be'],
    ] as const) {
      const d = decodeDataset(bytes, 'data.jsonl');
      expect(d).toEqual({ text: jsonl, encoding });
      if ('text' in d) expect(parseDataset(d.text, { fileName: 'data.jsonl' }).records).toHaveLength(2);
    }
  });

  it('decodes UTF-8 with or without a byte-order mark, accents included', () => {
    const text = '{"prompt": "café?", "completion": "oui"}\n';
    const bytes = new TextEncoder().encode(text);
    expect(decodeDataset(bytes)).toEqual({ text, encoding: 'utf-8' });
    expect(decodeDataset(new Uint8Array([0xef, 0xbb, 0xbf, ...bytes]))).toEqual({ text, encoding: 'utf-8' });
  });

  it('refuses, by name, bytes that are not UTF-8 (naming the line) and UTF-32', () => {
    const latin1 = new Uint8Array([
      ...new TextEncoder().encode('prompt,completion\na,b\n'),
      0x63,
      0x61,
      0x66,
      0xe9,
      0x2c,
      0x78,
    ]); // "café,x" in Latin-1
    expect(decodeDataset(latin1, 'old.csv')).toEqual({
      error:
        'old.csv is not UTF-8 text: line 3 holds the byte 0xe9, which UTF-8 does not allow (is it Latin-1 / Windows-1252?); save it as UTF-8',
    });
    expect(decodeDataset(new Uint8Array([0xff, 0xfe, 0, 0, 0x41, 0, 0, 0]), 'x.txt')).toEqual({
      error:
        'x.txt is UTF-32 text (it starts with a UTF-32 byte-order mark), which this page does not read: save it as UTF-8',
    });
  });
});

describe('parseDataset: chat records ({"messages": [...]})', () => {
  it('trains on the last assistant turn; the turns before it are the prompt in a plain form until a template rewrites them', () => {
    const chat = [
      { role: 'system', content: 'Answer briefly.' },
      { role: 'user', content: 'Who is the farmer? Kai is a farmer.' },
      { role: 'assistant', content: 'Kai.' },
    ];
    const { records, errors } = parseDataset(JSON.stringify({ messages: chat }), { format: 'jsonl' });
    expect(errors).toEqual([]);
    expect(records).toEqual([
      {
        id: 'line-1',
        messages: chat,
        prompt: 'System: Answer briefly.\nUser: Who is the farmer? Kai is a farmer.\nAssistant: ',
        completion: 'Kai.',
        separator: '',
      },
    ]);
  });

  it('names what is wrong with a turn, by line, and loads the rest', () => {
    const good = {
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'hello' },
      ],
    };
    const src = [
      JSON.stringify(good),
      JSON.stringify({ messages: [{ role: 'bot', content: 'x' }] }),
      JSON.stringify({
        messages: [
          { role: 'assistant', content: 'x' },
          { role: 'user', content: 'y' },
        ],
      }),
      JSON.stringify({ messages: [{ role: 'assistant', content: 'x' }] }),
      JSON.stringify({ messages: [{ role: 'user' }, { role: 'assistant', content: 'x' }] }),
      JSON.stringify({ messages: 'hello' }),
    ].join('\n');
    const { records, errors } = parseDataset(src, { format: 'jsonl' });
    expect(records.map((r) => r.id)).toEqual(['line-1']);
    expect(errors.map((e) => e.message)).toEqual([
      'line 2: message 1 has role "bot": roles are system, user and assistant',
      "line 3: the last message is the user's: a chat record ends with the assistant's answer, which is what trains",
      "line 4: has only the assistant's answer: add the user turn it answers",
      'line 5: message 1 (user) has no text "content"',
      'line 6: field "messages" must be a non-empty list of {"role": ..., "content": ...} turns, but it is the string "hello"',
    ]);
  });
});
