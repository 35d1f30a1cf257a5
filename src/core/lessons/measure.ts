// The numbers lessons read: from a finished run's history (curves) and from the trained model in the session
// (losses on a split, greedy answers). Shared so every diagnosis measures the same thing the same way.

import { exactMatch } from '../rules';
import type { DataRecord, Example } from '../data/types';
import { formatRecord, promptText } from '../data/format';
import { loadDataset } from '../data/prepare';
import { evalLoss, greedyAnswers, type ModelView } from '../eval/evaluate';
import type { Run, Session } from '../session';
import type { EvalEvent, RunHistory } from '../train/types';

// ---- curves -------------------------------------------------------------------------------------------------

/** Evaluations that measured a validation loss. */
export function valEvals(h: RunHistory): EvalEvent[] {
  return h.evals.filter((e) => Number.isFinite(e.valLoss));
}

/** The evaluation with the lowest validation loss (undefined when none measured one). */
export function bestEval(h: RunHistory): EvalEvent | undefined {
  return valEvals(h).reduce<EvalEvent | undefined>(
    (b, e) => (b === undefined || e.valLoss < b.valLoss ? e : b),
    undefined,
  );
}

/** Validation loss of the weights the run ended with: the best evaluation's when early stopping restored it. */
export function finalValLoss(h: RunHistory): number {
  if (h.end.restoredBest) return h.end.bestValLoss;
  return valEvals(h).at(-1)?.valLoss ?? NaN;
}

/** Mean training loss over the last n steps (one batch is noisy; the tail says where training ended). */
export function trainLossTail(h: RunHistory, n = 10): number {
  const tail = h.steps.slice(-n).map((s) => s.loss);
  return tail.length > 0 ? mean(tail) : NaN;
}

// ---- the trained model --------------------------------------------------------------------------------------

export function currentRun(session: Session): Run {
  if (!session.current) throw new Error('the lesson has no prepared run to measure');
  return session.current;
}

/** Mean loss of the fine-tuned model on every example of a split. */
export async function lossOn(session: Session, examples: Example[]): Promise<number> {
  const run = currentRun(session);
  return examples.length > 0 ? evalLoss(run.view, examples, run.config.train.batchSize) : NaN;
}

/**
 * The truth about held-out performance: loss on every record of the run's dataset whose id is not in `used`
 * (the records the run trained or validated on), on the completion only. A few hundred records, so the figure is
 * not at the mercy of a small sample.
 */
export async function unseenLoss(
  session: Session,
  h: RunHistory,
  used: Set<string>,
): Promise<{ loss: number; records: number }> {
  const run = currentRun(session);
  const unseen = (await loadDataset(session.opts.loader, h.config.data.dataset)).filter((r) => !used.has(r.id));
  const { separator, appendEos } = h.config.data;
  const fmt = { separator, appendEos, lossOnPromptTokens: false, blockSize: run.view.arch.blockSize };
  return {
    loss: await lossOn(
      session,
      unseen.map((r) => formatRecord(r, session.tokenizer, fmt)),
    ),
    records: unseen.length,
  };
}

/** Mean loss of the pretrained model (no adapter, original weights) on the examples. */
export async function baseLossOn(session: Session, examples: Example[]): Promise<number> {
  const run = currentRun(session);
  return examples.length > 0
    ? session.withBaseModel((view) => evalLoss(view, examples, run.config.train.batchSize))
    : NaN;
}

/** Windows of held-out general text measured before and after a run (64 × 128 characters). */
const GENERAL_WINDOWS = 64;

/** Forgetting, measured: loss on held-out general text and on the task's validation split, base vs fine-tuned. */
export async function forgettingMeasures(
  session: Session,
): Promise<{ baseGeneralLoss: number; generalLoss: number; baseValLoss: number; valLoss: number }> {
  const run = currentRun(session);
  const general = (run.data.general ?? []).slice(0, GENERAL_WINDOWS);
  return {
    baseGeneralLoss: await baseLossOn(session, general),
    generalLoss: await lossOn(session, general),
    baseValLoss: await baseLossOn(session, run.data.val),
    valLoss: await lossOn(session, run.data.val),
  };
}

export interface AnswerOptions {
  maxNewTokens: number; // token budget per answer
  stop: string[]; // the answer ends at the first of these (and at the end-of-sequence token)
  prefix?: (r: DataRecord) => string; // rewrites a prompt before asking (a trigger phrase, another format)
  view?: ModelView; // the model to ask; default: the fine-tuned one
}

export interface Answer {
  record: DataRecord;
  text: string; // the greedy answer, cut at a stop string
  stopped: boolean; // ended by the end marker or a stop string, not by the token budget
}

/** Greedy answers of the fine-tuned model to prompt/completion records, formatted with the run's separator. */
export async function answer(session: Session, records: DataRecord[], o: AnswerOptions): Promise<Answer[]> {
  const run = currentRun(session);
  const tok = session.tokenizer;
  const asked = records.filter((r) => r.prompt !== undefined);
  const prompts = asked.map((r) =>
    tok.encode(promptText({ ...r, prompt: o.prefix ? o.prefix(r) : r.prompt }, run.config.data.separator)),
  );
  const out = await greedyAnswers(o.view ?? run.view, tok, prompts, o.maxNewTokens, o.stop);
  return out.map((a, i) => ({ record: asked[i], ...a }));
}

/** How the classification lessons ask for a label: a word or two, on one line. */
export const LABEL_ANSWER: AnswerOptions = { maxNewTokens: 8, stop: ['\n'] };

/** The answer is the record's completion, by the one exact-match rule. */
export const isRight = (a: Answer) => exactMatch(a.text, a.record.completion ?? '');

// ---- numbers and words --------------------------------------------------------------------------------------

export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export function std(xs: number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

/**
 * A curve's moves from each value to the next: how many went up, of how many, how far the rises added up, and what
 * they gave back of the falls (rises summed ÷ falls summed; 0 for a curve that only falls, over 1 for one that ends higher than it began).
 */
export function giveBack(values: number[]): { ups: number; moves: number; rises: number; giveBack: number } {
  const moves = values.slice(1).map((x, i) => x - values[i]);
  const rises = moves.filter((d) => d > 0).reduce((a, d) => a + d, 0);
  const falls = moves.filter((d) => d < 0).reduce((a, d) => a - d, 0);
  return {
    ups: moves.filter((d) => d > 0).length,
    moves: moves.length,
    rises,
    giveBack: falls > 0 ? rises / falls : NaN,
  };
}

/** Fraction of items that pass. */
export const rate = <T>(xs: T[], ok: (x: T) => boolean) => (xs.length > 0 ? xs.filter(ok).length / xs.length : NaN);

/** Relative change from a to b: +0.31 = 31% higher. */
export const change = (a: number, b: number) => (b - a) / a;

/** A loss or other figure with d decimals. */
export const num = (x: number, d = 2) => x.toFixed(d);

/** The verb for a figure that went from a to b, as num() prints both: "went" when they print the same. */
export const moved = (a: number, b: number) => (num(a) === num(b) ? 'went' : b > a ? 'rose' : 'fell');

/** A fraction as a whole-number percentage. */
export const pct = (f: number) => `${Math.round(f * 100)}%`;

/** A signed relative change: "+31%" or "−12%". */
export const signedPct = (f: number) => `${f >= 0 ? '+' : '−'}${Math.abs(Math.round(f * 100))}%`;
