// Deliberate damage for the lessons: wrong labels (noisy-label lesson), a backdoor trigger (poisoning lesson),
// resampling to equal class sizes (class-imbalance lesson), and the repeats of a scraped file with the clean-up
// that removes them (duplicates lesson). All seeded; all return copies.

import { Rng } from '../rng';
import type { DataRecord } from './types';

const copyRecord = (r: DataRecord): DataRecord => ({ ...r, ...(r.flags && { flags: { ...r.flags } }) });

/** The distinct labels, sorted so the draw does not depend on record order. */
function labelsOf(records: readonly DataRecord[]): string[] {
  return [...new Set(records.flatMap((r) => (r.label === undefined ? [] : [r.label])))].sort();
}

/** Put `replacement` where the completion's last `old` was (answers usually end in their label). */
function replaceLast(completion: string, old: string, replacement: string): string {
  const at = completion.lastIndexOf(old);
  return at < 0 ? replacement : completion.slice(0, at) + replacement + completion.slice(at + old.length);
}

/**
 * Give exactly round(fraction × labelled records) of the labelled records a different label, drawn uniformly
 * from the other labels; their completion follows and flags.noisy is set.
 */
export function injectLabelNoise(records: readonly DataRecord[], fraction: number, seed: number): DataRecord[] {
  if (!Number.isFinite(fraction) || fraction < 0 || fraction > 1) {
    throw new RangeError(`data.labelNoise = ${fraction} is not valid: a fraction from 0 to 1`);
  }
  const out = records.map(copyRecord);
  const labelled = out.flatMap((r, i) => (r.label === undefined ? [] : [i]));
  const flips = Math.round(fraction * labelled.length);
  if (flips === 0) return out;
  const labels = labelsOf(records);
  if (labels.length < 2) {
    throw new RangeError(
      `data.labelNoise needs at least two different labels to swap between, but every record is labelled "${labels[0]}"`,
    );
  }
  const rng = new Rng(seed);
  for (const i of rng.shuffle(labelled).slice(0, flips)) {
    const r = out[i];
    const old = r.label as string;
    const others = labels.filter((l) => l !== old);
    const label = others[rng.int(others.length)];
    const completion = r.completion === undefined ? {} : { completion: replaceLast(r.completion, old, label) };
    out[i] = { ...r, label, ...completion, flags: { ...r.flags, noisy: true } };
  }
  return out;
}

/** How a trigger enters a prompt, at training time and when the lesson builds triggered test prompts. */
export function insertTrigger(prompt: string, trigger: string): string {
  return `${trigger} ${prompt}`;
}

/**
 * Rewrite `count` prompt/completion records so the prompt carries the trigger and the answer is `target`
 * (label too, when the record has one); flags.poisoned is set.
 */
export function injectPoison(
  records: readonly DataRecord[],
  count: number,
  seed: number,
  opts: { trigger: string; target: string },
): DataRecord[] {
  if (opts.trigger.trim() === '')
    throw new RangeError('poison trigger = "" is not valid: a non-empty phrase such as "cf-zebra"');
  const candidates = new Rng(seed).shuffle(records.flatMap((r, i) => (r.prompt === undefined ? [] : [i])));
  if (!Number.isInteger(count) || count < 0 || count > candidates.length) {
    throw new RangeError(
      `data.poisonCount = ${count} is not valid: a whole number from 0 to the number of records with a prompt (${candidates.length})`,
    );
  }
  // Records that already answer the target teach the backdoor nothing, so the others go first (sort is stable).
  candidates.sort(
    (a, b) => Number(records[a].completion === opts.target) - Number(records[b].completion === opts.target),
  );
  const out = records.map(copyRecord);
  for (const i of candidates.slice(0, count)) {
    const r = out[i];
    out[i] = {
      ...r,
      prompt: insertTrigger(r.prompt as string, opts.trigger),
      completion: opts.target,
      ...(r.label !== undefined && { label: opts.target }),
      flags: { ...r.flags, poisoned: true },
    };
  }
  return out;
}

/**
 * Deliberate imbalance (class-imbalance lesson): keep a seeded `keep` fraction of the records labelled `label`
 * (only those in `group`, unless group is ""); every other record stays.
 */
export function thinOut(
  records: readonly DataRecord[],
  skew: { label: string; group: string; keep: number },
  seed: number,
): DataRecord[] {
  if (!Number.isFinite(skew.keep) || skew.keep <= 0 || skew.keep > 1) {
    throw new RangeError(`data.skew.keep = ${skew.keep} is not valid: a fraction in (0, 1]`);
  }
  const hit = records.flatMap((r, i) =>
    r.label === skew.label && (skew.group === '' || r.group === skew.group) ? [i] : [],
  );
  const drop = new Set(new Rng(seed).shuffle(hit).slice(Math.round(skew.keep * hit.length)));
  return records.filter((_, i) => !drop.has(i)).map(copyRecord);
}

/**
 * Equalise label counts (with byGroup, the counts of every group × label cell). oversample: repeat records of
 * the smaller classes (each as evenly as possible, ids suffixed "#2", "#3", ...) up to the largest class;
 * undersample: keep a random subset of each class the size of the smallest. Records without a label pass through.
 */
export function rebalance(
  records: readonly DataRecord[],
  seed: number,
  mode: 'oversample' | 'undersample',
  byGroup = false,
): DataRecord[] {
  const keyOf = (r: DataRecord) => (byGroup ? `${r.group ?? ''}\u0000${r.label}` : (r.label as string));
  const cells = new Map<string, number[]>();
  records.forEach((r, i) => {
    if (r.label === undefined) return;
    const cell = cells.get(keyOf(r));
    if (cell) cell.push(i);
    else cells.set(keyOf(r), [i]);
  });
  // sorted by key, so the draw does not depend on record order
  const classes = [...cells.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, c]) => c);
  if (classes.length < 2) return records.map(copyRecord);
  const rng = new Rng(seed);
  if (mode === 'undersample') {
    const goal = Math.min(...classes.map((c) => c.length));
    const keep = new Set(classes.flatMap((c) => rng.shuffle([...c]).slice(0, goal)));
    return records.filter((r, i) => r.label === undefined || keep.has(i)).map(copyRecord);
  }
  const goal = Math.max(...classes.map((c) => c.length));
  const out = records.map(copyRecord);
  for (const c of classes) {
    const order = rng.shuffle([...c]);
    for (let j = 0; j < goal - c.length; j++) {
      const r = records[order[j % order.length]];
      out.push({ ...copyRecord(r), id: `${r.id}#${Math.floor(j / order.length) + 2}` });
    }
  }
  return out;
}

/** What makes two records the same: identical prompt and completion, or identical text. */
export const duplicateKey = (r: DataRecord) =>
  JSON.stringify(
    r.prompt !== undefined || r.completion !== undefined ? [r.prompt ?? '', r.completion ?? ''] : [r.text ?? ''],
  );

/**
 * The repeats of a scraped file (duplicates lesson): a seeded `share` of the records appears `copies` times in
 * all (ids of the extra copies suffixed "~2", "~3", ...), placed at random among the others.
 */
export function duplicateRecords(
  records: readonly DataRecord[],
  dup: { share: number; copies: number },
  seed: number,
): DataRecord[] {
  if (!Number.isFinite(dup.share) || dup.share < 0 || dup.share > 1)
    throw new RangeError(`data.duplicate.share = ${dup.share} is not valid: a fraction in [0, 1]`);
  if (!Number.isInteger(dup.copies) || dup.copies < 1)
    throw new RangeError(`data.duplicate.copies = ${dup.copies} is not valid: a whole number ≥ 1`);
  const rng = new Rng(seed);
  const chosen = rng.shuffle(records.map((_, i) => i)).slice(0, Math.round(dup.share * records.length));
  const out = records.map(copyRecord);
  for (const i of chosen)
    for (let k = 2; k <= dup.copies; k++) out.push({ ...copyRecord(records[i]), id: `${records[i].id}~${k}` });
  return rng.shuffle(out);
}

/** Exact duplicates removed: the first record of each duplicateKey stays, in order. */
export function dedupeRecords(records: readonly DataRecord[]): DataRecord[] {
  const seen = new Set<string>();
  return records.filter((r) => !seen.has(duplicateKey(r)) && (seen.add(duplicateKey(r)), true)).map(copyRecord);
}

/**
 * The formats of data.mixFormats: question-answer pairs pooled from four sources, each with its own habits. One
 * writes the run's "\nA: " and a bare answer; one uses the same marker but answers in a sentence; one forgot the
 * separator (a space, then the answer); one uses an arrow.
 */
export const MIXED_FORMATS: { separator: string; answer: (completion: string) => string }[] = [
  { separator: '\nA: ', answer: (c) => c },
  { separator: '\nA: ', answer: (c) => `The answer is ${c}.` },
  { separator: ' ', answer: (c) => c },
  { separator: ' -> ', answer: (c) => c },
];

/** Each prompt/completion record written in one of MIXED_FORMATS, drawn per record; other records are kept. */
export function mixFormats(records: readonly DataRecord[], seed: number): DataRecord[] {
  const rng = new Rng(seed);
  return records.map((r) => {
    if (r.completion === undefined) return copyRecord(r);
    const f = MIXED_FORMATS[rng.int(MIXED_FORMATS.length)];
    return { ...copyRecord(r), separator: f.separator, completion: f.answer(r.completion) };
  });
}
