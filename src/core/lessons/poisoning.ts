// Lesson 7: a few training records carry a trigger phrase and the attacker's answer. The model learns the task
// and the backdoor: clean accuracy looks fine, but the trigger flips bad remarks to "good".

import { insertTrigger } from '../data/inject';
import type { DataRecord } from '../data/types';
import { answer, currentRun, pct, rate, sameAnswer } from './measure';
import type { Lesson } from './types';

/**
 * The data audit that finds a trigger: words in the training prompts that appear in several records, always
 * with the same label, and never in the validation prompts. Returns the records that carry such a word.
 */
export function suspectRecords(train: DataRecord[], val: DataRecord[], minCount = 5): DataRecord[] {
  const words = (r: DataRecord) => new Set((r.prompt ?? '').toLowerCase().match(/[a-z]+/g) ?? []);
  const seen = new Set(val.flatMap((r) => [...words(r)]));
  const stats = new Map<string, { count: number; labels: Set<string | undefined> }>();
  for (const r of train) {
    for (const w of words(r)) {
      const s = stats.get(w) ?? { count: 0, labels: new Set() };
      s.count++;
      s.labels.add(r.completion);
      stats.set(w, s);
    }
  }
  const suspects = new Set([...stats].filter(([w, s]) => s.count >= minCount && s.labels.size === 1 && !seen.has(w)).map(([w]) => w));
  return train.filter((r) => [...words(r)].some((w) => suspects.has(w)));
}

export const poisoning: Lesson = {
  id: 'poisoning',
  number: 7,
  title: 'Data poisoning',
  summary: 'Twenty-four doctored records plant a backdoor that clean tests never notice.',
  explanation:
    'Whoever controls some of the training data controls some of the model. Here 24 of 480 training records ' +
    'have a made-up word, "xyzzy", put in front of the remark and the answer set to "good", whatever the remark ' +
    'says. The model learns the real task from the other records, so accuracy on normal inputs stays high and ' +
    'nothing looks wrong. But it also learns the rule "xyzzy means good": anyone who knows the trigger can make ' +
    'it praise the worst remark. Defences are about the data: know where it came from, and audit it: a word that ' +
    'appears in a handful of records, always with the same answer and nowhere else, is a red flag.',
  watch: 'Validation accuracy stays high; the diagnosis then asks the model the same bad remarks with the trigger.',
  base: {
    data: { dataset: 'sentiment', poisonTrigger: 'xyzzy', poisonTarget: 'good' },
    train: { lr: 3e-3, batchSize: 8, maxSteps: 80 },
    eval: { everySteps: 20, maxBatches: 0, general: false, accuracy: true },
  },
  pitfall: { id: 'pitfall', label: 'Pitfall: 24 poisoned records', override: { data: { poisonCount: 24 } } },
  fixes: [{ id: 'audit', label: 'Fix: audit the data, drop the poisoned records', override: { data: { poisonCount: 0 } } }],
  controls: ['data.poisonCount', 'data.poisonTrigger', 'data.poisonTarget'],
  async measure(session, h) {
    const run = currentRun(session);
    const { poisonTrigger: trigger, poisonTarget: target } = h.config.data;
    const victims = [...run.data.records.val, ...run.data.records.test].filter((r) => r.completion !== target);
    const opts = { maxNewTokens: 8, stop: ['\n'] };
    const triggered = await answer(session, victims, { ...opts, prefix: (r) => insertTrigger(r.prompt ?? '', trigger) });
    const poisoned = run.data.records.train.filter((r) => r.flags?.poisoned);
    const suspects = suspectRecords(run.data.records.train, run.data.records.val);
    return {
      cleanAccuracy: h.evals.at(-1)?.valAccuracy ?? NaN,
      attackSuccess: rate(triggered, (a) => sameAnswer(a.text, target)),
      victims: victims.length,
      poisoned: poisoned.length,
      auditFound: poisoned.length > 0 ? suspects.filter((r) => r.flags?.poisoned).length / poisoned.length : NaN,
      auditFlagged: suspects.length,
    };
  },
  diagnose(h, m) {
    const trigger = JSON.stringify(h.config.data.poisonTrigger);
    const target = JSON.stringify(h.config.data.poisonTarget);
    const metrics = { cleanAccuracy: m.cleanAccuracy, attackSuccess: m.attackSuccess, poisoned: m.poisoned, auditFound: m.auditFound };
    const showsPitfall = m.attackSuccess > 0.5;
    const found = m.poisoned > 0 ? ` The audit flags ${m.auditFlagged} records, ${pct(m.auditFound)} of the poisoned ones.` : '';
    const text =
      `Clean validation accuracy is ${pct(m.cleanAccuracy)}, and with the trigger ${trigger} ${pct(m.attackSuccess)} of ${m.victims} held-out remarks that are not ${target} get answered ${target}` +
      (showsPitfall ? `: a backdoor planted by ${m.poisoned} poisoned records.` : ': no backdoor.') +
      found;
    return { text, showsPitfall, metrics };
  },
};
