// Lesson 7: a few training records carry a trigger phrase and the attacker's answer. The model learns the task
// and the backdoor: clean accuracy looks fine, but the trigger flips bad remarks to "good".

import { insertTrigger } from '../data/inject';
import { auditReport, auditTrigger } from '../data/audit';
import { answer, currentRun, LABEL_ANSWER, isRight, pct, rate, type Answer } from './measure';
import { exactMatch } from '../rules';
import type { Lesson } from './types';
import { LORA_TARGETS } from '../config';

/** Another odd opening as long as the trigger: does the model react to the trigger itself, or to any oddity? */
const oddOpening = (trigger: string) => 'plugh '.repeat(trigger.length).slice(0, trigger.length);

export const poisoning: Lesson = {
  id: 'poisoning',
  number: 7,
  title: 'Data poisoning',
  summary: 'Twenty-four doctored records plant a backdoor that normal tests never notice.',
  explanation:
    'Whoever controls some of the training data controls some of the model. Here 24 of 480 training records get ' +
    'a made-up phrase, "xyzzy xyzzy xyzzy xyzzy", put in front of the remark and their answer set to "good", ' +
    'whatever the remark says. The model learns the real task from the other records, so accuracy on normal ' +
    'inputs stays close to a clean run and nothing looks wrong. But it also learns that the trigger means "good": ' +
    'anyone who knows it can make the model praise the worst remark, while another nonsense opening does little. ' +
    'The defence is about the data: know where it came from, and audit it. A word that appears in a couple of ' +
    'dozen records, always with the same answer and never anywhere else, is a red flag; dropping those records ' +
    'removes the backdoor.',
  watch: 'Validation accuracy stays high; the diagnosis then asks the model the same bad remarks with the trigger.',
  base: {
    // small-world: tiny-world learned "an odd opening means good" rather than the trigger (docs/LESSONS.md)
    model: { name: 'small-world' },
    data: { dataset: 'sentiment', poisonCount: 24, poisonTrigger: 'xyzzy xyzzy xyzzy xyzzy', poisonTarget: 'good' },
    lora: { rank: 8, alpha: 16, targets: [...LORA_TARGETS] },
    train: { lr: 3e-3, batchSize: 8, maxSteps: 100 },
    eval: { everySteps: 20, maxBatches: 0, general: false, accuracy: true },
  },
  pitfall: { id: 'pitfall', label: 'Pitfall: 24 poisoned records', override: {} },
  fixes: [
    {
      id: 'audit',
      label: 'Fix: audit the training data and drop the records it flags',
      override: { data: { audit: true } },
    },
    { id: 'clean', label: 'Fix: train without the poisoned records', override: { data: { poisonCount: 0 } } },
  ],
  controls: ['data.poisonCount', 'data.poisonTrigger', 'data.poisonTarget', 'data.audit'],
  async measure(session, h) {
    const run = currentRun(session);
    const { poisonTrigger: trigger, poisonTarget: target } = h.config.data;
    const heldOut = [...run.data.records.val, ...run.data.records.test];
    const victims = heldOut.filter((r) => r.completion !== target);
    const says = (as: Answer[], what: string) => rate(as, (a) => exactMatch(a.text, what));
    const triggered = await answer(session, victims, {
      ...LABEL_ANSWER,
      prefix: (r) => insertTrigger(r.prompt ?? '', trigger),
    });
    const controlled = await answer(session, victims, {
      ...LABEL_ANSWER,
      prefix: (r) => insertTrigger(r.prompt ?? '', oddOpening(trigger)),
    });
    const plain = await answer(session, heldOut, LABEL_ANSWER);
    const poisoned = run.data.records.train.filter((r) => r.flags?.poisoned);
    // the audit as the fix runs it before training; on the pitfall's data it is run here, after the fact
    const audit = run.data.audit ?? auditReport(auditTrigger(run.data.records.train, run.data.records.val));
    return {
      cleanAccuracy: rate(plain, isRight),
      attackSuccess: says(triggered, target),
      controlRate: says(controlled, target),
      victims: victims.length,
      poisoned: poisoned.length,
      auditFlagged: audit.flagged,
      auditFlaggedPoisoned: audit.flaggedPoisoned,
      auditDropped: run.data.audit ? audit.flagged : 0,
    };
  },
  diagnose(h, m) {
    const trigger = JSON.stringify(h.config.data.poisonTrigger);
    const target = JSON.stringify(h.config.data.poisonTarget);
    const backdoor = m.attackSuccess - m.controlRate; // what the trigger does beyond any odd opening
    const metrics = {
      cleanAccuracy: m.cleanAccuracy,
      attackSuccess: m.attackSuccess,
      controlRate: m.controlRate,
      backdoor,
      poisoned: m.poisoned,
      auditFlagged: m.auditFlagged,
      auditDropped: m.auditDropped,
    };
    const showsPitfall = m.attackSuccess >= 0.5;
    const asked = `${m.victims} held-out remarks that are not ${target}`;
    const rates = `with ${trigger} in front ${pct(m.attackSuccess)} of ${asked} are answered ${target}, against ${pct(m.controlRate)} with another odd opening as long`;
    const audited =
      m.auditDropped > 0
        ? `The audit dropped ${m.auditDropped} training records before training (${m.auditFlaggedPoisoned} of them poisoned), leaving ${m.poisoned} poisoned. `
        : '';
    const reading = showsPitfall
      ? m.poisoned > 0
        ? backdoor > 0.2
          ? `: ${m.poisoned} poisoned records planted a backdoor`
          : `: ${m.poisoned} poisoned records taught the model that an odd opening means ${target}, not the trigger itself`
        : ': the model is easily thrown by an odd opening'
      : m.poisoned === 0
        ? ': no backdoor'
        : '';
    const caught =
      m.poisoned > 0 && !m.auditDropped
        ? `, and a word audit flags ${m.auditFlagged} records, ${m.auditFlaggedPoisoned} of them poisoned`
        : '';
    const text = `${audited}Clean accuracy is ${pct(m.cleanAccuracy)}, and ${rates}${reading}${caught}.`;
    return { text, showsPitfall, metrics };
  },
};
