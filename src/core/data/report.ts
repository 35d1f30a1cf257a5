// The data check a learner reads before training: counts of the records that quietly spoil a fine-tune
// (empty, duplicated, contradictory, too long, mixed formats, unbalanced labels or groups, unknown characters),
// each with one plain sentence that names the records and says what to do.

import type { Tokenizer } from '../tokenizer/types';
import { formatRecord, isPromptCompletion } from './format';
import type { DataRecord } from './types';

export interface ReportOptions {
  blockSize: number; // the model's context T; a formatted record longer than T + 1 tokens is cut
  separator: string; // data.separator
  appendEos: boolean; // data.appendEos
}

export interface ReportMessage {
  level: 'error' | 'warning' | 'info';
  text: string;
}

/** Records that belong together; `count` is how many records repeat the first of their group. */
export interface IdGroups {
  count: number;
  groups: string[][];
}

export interface DataReport {
  count: number;
  promptCompletion: number; // records with a prompt and completion
  textOnly: number; // records with text only
  empty: { count: number; ids: string[] }; // empty prompt, completion or text
  duplicates: IdGroups; // identical prompt + completion (or identical text)
  conflicts: IdGroups; // the same prompt with different completions
  overLong: { count: number; ids: string[]; longest: number; answerLost: string[] }; // > blockSize + 1 tokens
  separators: { separator: string; count: number; ids: string[] }[]; // how prompts end, most common first
  mixedFormats: boolean; // both kinds of record, or prompts ending in more than one way
  labels: { counts: Record<string, number>; labelled: number; largestShare: number; imbalanceRatio: number } | null;
  groups: { counts: Record<string, number>; byLabel: Record<string, Record<string, number>> } | null;
  unknownChars: { char: string; count: number; ids: string[] }[]; // characters the tokenizer turns into <unk>
  messages: ReportMessage[]; // errors first, then warnings, then info
}

// How a prompt ends when it carries its own answer marker, tried in order; no match means it ends in nothing.
const SEPARATOR_PATTERNS = [
  /(?:\n|[ \t]+)?[A-Za-z]{1,20}:[ \t]*$/, // "\nA:", " Answer: ", "\nSentiment:"
  /[ \t]*(?:->|=>|→|=|:|\||>)[ \t]*$/, // " ->", " =", ":"
  /[ \t]*#{2,}[ \t]*$/, // "###"
  /\s+$/, // a newline or trailing spaces
];

export function trailingSeparator(prompt: string): string {
  for (const p of SEPARATOR_PATTERNS) {
    const m = prompt.match(p);
    if (m) return m[0];
  }
  return '';
}

// One function on purpose: a list of independent findings read top to bottom in the order the report shows them,
// each a few lines over the same counts; split, the order and the shared counts would be spread across helpers.
export function validationReport(
  records: readonly DataRecord[],
  tokenizer: Tokenizer,
  opts: ReportOptions,
): DataReport {
  const n = records.length;
  const messages: ReportMessage[] = [];
  const say = (level: ReportMessage['level'], text: string) => messages.push({ level, text });
  const share = (k: number) => `${k} of ${n} records (${pct(k, n)})`;
  if (n === 0) say('error', 'The dataset has no records: add at least a few prompt/completion pairs before training.');

  const pc = records.filter(isPromptCompletion);
  const textOnly = n - pc.length;
  if (pc.length > 0 && textOnly > 0) {
    const example = records.find((r) => !isPromptCompletion(r))?.id;
    say(
      'warning',
      `${plural(pc.length, 'record is a prompt/completion pair', 'records are prompt/completion pairs')} but ${plural(textOnly, 'is', 'are')} plain text (e.g. ${example}): plain text trains on every token with no answer to learn. Keep one kind of record per dataset.`,
    );
  }

  const emptyIds = records
    .filter((r) => (isPromptCompletion(r) ? [r.prompt, r.completion] : [r.text]).some((s) => !s?.trim()))
    .map((r) => r.id);
  if (emptyIds.length === n && n > 0)
    say('error', `Every record is empty (${some(emptyIds)}): there is nothing to train on.`);
  else if (emptyIds.length > 0)
    say(
      'warning',
      `${share(emptyIds.length)} have an empty prompt, completion or text (${some(emptyIds)}): they teach the model to answer nothing, or to answer without a question. Fill them in or remove them.`,
    );

  const duplicates = repeats([
    ...groupBy(records, (r) => JSON.stringify(isPromptCompletion(r) ? [r.prompt, r.completion] : [r.text])).values(),
  ]);
  if (duplicates.count > 0) {
    say(
      'warning',
      `${share(duplicates.count)} are exact duplicates (${duplicates.groups
        .slice(0, 3)
        .map((g) => some(g, ' = '))
        .join('; ')}): they count twice in training and can leak into validation. Remove the copies.`,
    );
  }

  const byPrompt = groupBy(pc, (r) => (r.prompt?.trim() ? r.prompt : undefined));
  const conflicting = [...byPrompt.values()].filter((g) => new Set(g.map((r) => r.completion)).size > 1);
  const conflicts = repeats(conflicting);
  if (conflicting.length > 0) {
    const g = conflicting[0];
    const answers = [...groupBy(g, (r) => r.completion ?? '').entries()]
      .map(([a, rs]) => `${show(a)} (${some(rs.map((r) => r.id))})`)
      .slice(0, 3);
    say(
      'warning',
      `${plural(conflicting.length, 'prompt appears', 'prompts appear')} with different answers, e.g. ${show(truncate(g[0].prompt ?? ''))} is answered ${answers.join(' and ')}: the model cannot learn conflicting answers, so at least one is a wrong label. Keep one answer per prompt.`,
    );
  }

  const overLong = overLongCheck(records, tokenizer, opts, say);
  const separators = separatorCheck(pc, opts, say);
  if (pc.length > 0 && !opts.appendEos) {
    say(
      'info',
      'data.appendEos is off: completions carry no end-of-sequence marker, so the model never learns where an answer ends and generation runs on past it.',
    );
  }

  const labels = labelBalance(records, say);
  const groups = groupBalance(records, labels, say);
  const unknownChars = unknownCharacters(records, tokenizer);
  if (unknownChars.length > 0) {
    const listed = unknownChars
      .slice(0, 5)
      .map((u) => `${show(u.char)} (U+${codePoint(u.char)}, ${u.count}×, e.g. ${u.ids[0]})`)
      .join(', ');
    say(
      'warning',
      `${plural(unknownChars.length, 'character is', 'characters are')} not in the tokenizer's alphabet and become <unk>: ${listed}. Replace them (curly quotes with straight ones, accented letters with plain ones) or the model sees an unknown token there.`,
    );
  }
  const badSep = [...new Set(opts.separator)].filter((c) => !known(tokenizer, c));
  if (badSep.length > 0)
    say(
      'warning',
      `data.separator ${show(opts.separator)} contains ${badSep.map(show).join(', ')}, which the tokenizer turns into <unk> in every record. Choose a separator made of plain characters.`,
    );

  const rank = { error: 0, warning: 1, info: 2 };
  messages.sort((a, b) => rank[a.level] - rank[b.level]);
  const mixedFormats = (pc.length > 0 && textOnly > 0) || separators.length > 1;
  return {
    count: n,
    promptCompletion: pc.length,
    textOnly,
    empty: { count: emptyIds.length, ids: emptyIds },
    duplicates,
    conflicts,
    overLong,
    separators,
    mixedFormats,
    labels,
    groups,
    unknownChars,
    messages,
  };
}

type Say = (level: ReportMessage['level'], text: string) => void;

/** Records longer than the T + 1 tokens one example holds: formatRecord cuts them, perhaps the whole answer. */
function overLongCheck(
  records: readonly DataRecord[],
  tokenizer: Tokenizer,
  opts: ReportOptions,
  say: Say,
): DataReport['overLong'] {
  const fits = opts.blockSize + 1;
  const lengths = records.map(
    (r) => formatRecord(r, tokenizer, { ...opts, lossOnPromptTokens: false, blockSize: Infinity }).ids.length,
  );
  const longIdx = lengths.flatMap((len, i) => (len > fits ? [i] : []));
  const answerLost = longIdx
    .filter(
      (i) =>
        isPromptCompletion(records[i]) &&
        !formatRecord(records[i], tokenizer, { ...opts, lossOnPromptTokens: false })
          .lossMask.slice(1)
          .includes(1),
    )
    .map((i) => records[i].id);
  const overLong = {
    count: longIdx.length,
    ids: longIdx.map((i) => records[i].id),
    longest: lengths.reduce((a, b) => Math.max(a, b), 0),
    answerLost,
  };
  if (overLong.count > 0) {
    const lost = opts.appendEos
      ? 'the end of each, including its end-of-sequence marker, is lost'
      : 'the end of each is lost';
    say(
      'warning',
      `${overLong.count} of ${records.length} records (${pct(overLong.count, records.length)}) are longer than ${fits} tokens, the most one example holds with a ${opts.blockSize}-token context (the longest has ${overLong.longest}): they will be truncated, so ${lost} (${some(overLong.ids)}). Shorten them or use a longer context.`,
    );
  }
  if (answerLost.length > 0) {
    say(
      'warning',
      `In ${answerLost.length} of them (${some(answerLost)}) the prompt alone fills the context, so no part of the answer is left to learn from.`,
    );
  }
  return overLong;
}

/** How prompts end: several endings mean mixed formats; none at all with an empty data.separator means a missing one. */
function separatorCheck(pc: DataRecord[], opts: ReportOptions, say: Say): DataReport['separators'] {
  const separators = [
    ...groupBy(
      pc.filter((r) => r.prompt?.trim()),
      (r) => trailingSeparator(r.prompt ?? ''),
    ).entries(),
  ]
    .map(([separator, rs]) => ({ separator, count: rs.length, ids: rs.map((r) => r.id) }))
    .sort((a, b) => b.count - a.count);
  if (separators.length > 1) {
    const ways = separators
      .map((s) => `${s.separator ? show(s.separator) : 'nothing'} (${s.count}, e.g. ${s.ids[0]})`)
      .join(', ');
    say(
      'warning',
      `Prompts end in ${separators.length} different ways: ${ways}. Use one format for every record: the model learns each format separately and answers worse when they are mixed.`,
    );
  } else if (separators.length === 1 && separators[0].separator.trim() === '' && opts.separator === '') {
    const r = pc.find((x) => x.prompt?.trim()) as DataRecord;
    say(
      'warning',
      `No prompt ends with a separator and data.separator is empty, so each prompt runs straight into its answer (${show(truncate((r.prompt ?? '') + (r.completion ?? '')))}): the model cannot tell where the question stops. Set data.separator, e.g. "\\nA: ".`,
    );
  } else if (separators.length === 1 && separators[0].separator.trim() !== '' && opts.separator.trim() !== '') {
    say(
      'info',
      `Every prompt already ends with ${show(separators[0].separator)} and data.separator adds ${show(opts.separator)} after it; make sure that doubled marker is what you want the model to see.`,
    );
  }
  return separators;
}

function labelBalance(records: readonly DataRecord[], say: Say): DataReport['labels'] {
  const labelled = records.filter((r) => r.label !== undefined);
  if (labelled.length === 0) return null;
  const counts = countBy(labelled, (r) => r.label as string);
  const sorted = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  const [top, bottom] = [sorted[0], sorted[sorted.length - 1]];
  const largestShare = top[1] / labelled.length;
  const imbalanceRatio = top[1] / bottom[1];
  if (sorted.length === 1) {
    say(
      'warning',
      `Every labelled record has the label ${show(top[0])}: there is nothing to tell apart, so the model learns to always answer ${show(top[0])}.`,
    );
  } else if (imbalanceRatio >= 2) {
    say(
      'warning',
      `Label ${show(top[0])} has ${top[1]} of ${labelled.length} labelled records (${pct(top[1], labelled.length)}) but ${show(bottom[0])} only ${bottom[1]} (${+imbalanceRatio.toFixed(1)} to 1). Always answering ${show(top[0])} already scores ${pct(top[1], labelled.length)}: judge accuracy against that baseline, or rebalance the classes.`,
    );
  } else {
    say('info', `Labels are balanced: ${sorted.map(([l, c]) => `${show(l)} ${c}`).join(', ')}.`);
  }
  if (labelled.length < records.length) {
    const missing = records.length - labelled.length;
    say(
      'info',
      `${missing} of ${records.length} records (${pct(missing, records.length)}) have no label; the label counts cover the other ${labelled.length}.`,
    );
  }
  return { counts, labelled: labelled.length, largestShare, imbalanceRatio };
}

function groupBalance(records: readonly DataRecord[], labels: DataReport['labels'], say: Say): DataReport['groups'] {
  const grouped = records.filter((r) => r.group !== undefined);
  if (grouped.length === 0) return null;
  const counts = countBy(grouped, (r) => r.group as string);
  const byLabel: Record<string, Record<string, number>> = {};
  for (const g of Object.keys(counts))
    byLabel[g] = countBy(
      grouped.filter((r) => r.group === g && r.label !== undefined),
      (r) => r.label as string,
    );
  const names = Object.keys(counts);
  for (const g of names) {
    if (names.length > 1 && counts[g] / grouped.length < 0.1) {
      say(
        'warning',
        `Group ${show(g)} has only ${counts[g]} of ${grouped.length} grouped records (${pct(counts[g], grouped.length)}): its metrics will be noisy and the model sees few examples of it.`,
      );
    }
    const absent = labels && names.length > 1 ? Object.keys(labels.counts).filter((l) => !byLabel[g][l]) : [];
    if (absent.length > 0 && Object.keys(byLabel[g]).length > 0) {
      say(
        'warning',
        `Group ${show(g)} has no records labelled ${absent.map(show).join(' or ')}, so the model can learn the group itself as a shortcut to the answer.`,
      );
    }
  }
  return { counts, byLabel };
}

function unknownCharacters(records: readonly DataRecord[], tokenizer: Tokenizer): DataReport['unknownChars'] {
  const found = new Map<string, { count: number; ids: Set<string> }>();
  const isKnown = new Map<string, boolean>();
  for (const r of records) {
    for (const ch of [r.prompt, r.completion, r.text].join('')) {
      if (!isKnown.has(ch)) isKnown.set(ch, known(tokenizer, ch));
      if (isKnown.get(ch)) continue;
      const u = found.get(ch) ?? { count: 0, ids: new Set<string>() };
      u.count++;
      u.ids.add(r.id);
      found.set(ch, u);
    }
  }
  return [...found.entries()]
    .map(([char, u]) => ({ char, count: u.count, ids: [...u.ids] }))
    .sort((a, b) => b.count - a.count);
}

/** A character is known when it survives encode → decode (the char tokenizer decodes <unk> as U+FFFD). */
const known = (tokenizer: Tokenizer, ch: string) => tokenizer.decode(tokenizer.encode(ch)) === ch;

function groupBy(
  records: readonly DataRecord[],
  key: (r: DataRecord) => string | undefined,
): Map<string, DataRecord[]> {
  const groups = new Map<string, DataRecord[]>();
  for (const r of records) {
    const k = key(r);
    if (k === undefined) continue;
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  return groups;
}

function repeats(groups: DataRecord[][]): IdGroups {
  const many = groups.filter((g) => g.length > 1).map((g) => g.map((r) => r.id));
  return { count: many.reduce((s, g) => s + g.length - 1, 0), groups: many };
}

function countBy(records: readonly DataRecord[], key: (r: DataRecord) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of records) counts[key(r)] = (counts[key(r)] ?? 0) + 1;
  return counts;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
const pct = (k: number, n: number) => (k > 0 && (100 * k) / n < 1 ? '<1%' : `${Math.round((100 * k) / n)}%`);
const some = (ids: string[], sep = ', ', max = 3) =>
  ids.length <= max ? ids.join(sep) : `${ids.slice(0, max).join(sep)} and ${ids.length - max} more`;
const show = (s: string) => JSON.stringify(s); // quotes the value and makes "\n" visible
const truncate = (s: string, max = 40) => (s.length <= max ? s : `${s.slice(0, max)}…`);
const codePoint = (ch: string) => (ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
