// The data audit the poisoning lesson runs: a word that a couple of dozen training records share, always with
// the same answer, and that no validation record uses, is the mark of a planted trigger.

import type { DataRecord } from './types';

/**
 * The data audit that finds a trigger: among the words of the training prompts that never occur in the validation
 * prompts and always come with the same answer, the one carried by the most records. Returns it (or "" when no
 * word qualifies) and the records that carry it.
 */
export function auditTrigger(
  train: DataRecord[],
  val: DataRecord[],
  minCount = 5,
): { word: string; flagged: DataRecord[] } {
  const words = (r: DataRecord) => new Set((r.prompt ?? '').toLowerCase().match(/[a-z]+/g) ?? []);
  const seen = new Set(val.flatMap((r) => [...words(r)]));
  const stats = new Map<string, { count: number; answers: Set<string | undefined> }>();
  for (const r of train) {
    for (const w of words(r)) {
      const s = stats.get(w) ?? { count: 0, answers: new Set() };
      s.count++;
      s.answers.add(r.completion);
      stats.set(w, s);
    }
  }
  const ranked = [...stats]
    .filter(([w, s]) => s.count >= minCount && s.answers.size === 1 && !seen.has(w))
    .sort((a, b) => b[1].count - a[1].count);
  const word = ranked[0]?.[0] ?? '';
  return { word, flagged: word ? train.filter((r) => words(r).has(word)) : [] };
}

/** What an audit found, in counts: flagged records, and how many of them were poisoned (flags.poisoned). */
export function auditReport(audit: { word: string; flagged: DataRecord[] }): {
  word: string;
  flagged: number;
  flaggedPoisoned: number;
} {
  return {
    word: audit.word,
    flagged: audit.flagged.length,
    flaggedPoisoned: audit.flagged.filter((r) => r.flags?.poisoned).length,
  };
}
