// From a config to what the trainer eats: load the dataset, split it with the run's seed (or cut the training
// split into cross-validation folds), skew or rebalance it, inject label noise or poison into the training split
// only, tokenize, and gather the general text that measures forgetting.

import type { AssetLoader } from '../assets';
import type { RunConfig } from '../config';
import type { Tokenizer } from '../tokenizer/types';
import type { TrainData } from '../train/trainer';
import { chunkDocuments, chunkText, formatRecord, isPromptCompletion, promptText } from './format';
import { Rng } from '../rng';
import { auditReport, auditTrigger } from './audit';
import {
  dedupeRecords,
  duplicateRecords,
  injectLabelNoise,
  injectPoison,
  mixFormats,
  rebalance,
  thinOut,
} from './inject';
import { parseDataset } from './parse';
import { kFold, splitRecords } from './split';
import { withChatTemplate } from './chat';
import type { DataRecord, Example } from './types';

export interface PreparedData extends TrainData {
  records: { train: DataRecord[]; val: DataRecord[]; test: DataRecord[] };
  audit?: { word: string; flagged: number; flaggedPoisoned: number }; // what data.audit dropped from training
  test: Example[];
}

export const GENERAL_HELDOUT = 'corpus/general-heldout.txt';
export const GENERAL_TRAIN = 'corpus/general-train.txt';

/**
 * The general text a model was pretrained on and its held-out part, and how to cut it: small-world saw
 * documents joined by <eos>, tiny-world (and imported models) plain text.
 */
export function generalCorpus(modelName: string): { train: string; heldout: string; cut: typeof chunkText } {
  if (modelName === 'small-world')
    return { train: 'corpus/small-world/train.txt', heldout: 'corpus/small-world/heldout.txt', cut: chunkDocuments };
  return { train: GENERAL_TRAIN, heldout: GENERAL_HELDOUT, cut: chunkText };
}

/** Records of a built-in dataset, by name (public/datasets/<name>.jsonl). Malformed lines are an error here. */
export async function loadDataset(loader: AssetLoader, name: string): Promise<DataRecord[]> {
  const file = `datasets/${name}.jsonl`;
  const parsed = parseDataset(await loader.text(file), { format: 'jsonl', fileName: file });
  if (parsed.errors.length > 0) throw new Error(`${file}: ${parsed.errors[0].message}`);
  return parsed.records;
}

// Long on purpose: the data pipeline in the order it runs (load, dedupe, split, budget, duplicates, folds, skew,
// rebalance, label noise, poison, formats, audit, tokenize, general text), each stage a few lines that the next
// reads; one place to see what a run trains on.
export async function prepareData(
  c: RunConfig,
  tok: Tokenizer,
  loader: AssetLoader,
  custom?: DataRecord[],
): Promise<PreparedData> {
  // chat records take the model's own chat template, where it has one (data/chat.ts)
  const loaded = (custom ?? (await loadDataset(loader, c.data.dataset))).map((r) => withChatTemplate(r, tok));
  if (loaded.length === 0) throw new Error(`dataset "${c.data.dataset}" has no records`);
  // copies removed before the split, so none can sit in training and validation at once
  const all = c.data.dedupe ? dedupeRecords(loaded) : loaded;
  const seed = c.train.seed;
  const split = splitRecords(all, c.data.split, seed);
  let train = c.data.maxRecords > 0 ? split.train.slice(0, c.data.maxRecords) : split.train;
  if (c.data.recordBudget > 0) {
    // one budget for training and validation: the validation records are paid for with training records
    const { train: ft, val: fv } = c.data.split;
    const nVal = Math.min(split.val.length, Math.round((c.data.recordBudget * fv) / (ft + fv)));
    split.val = split.val.slice(0, nVal);
    train = split.train.slice(0, c.data.recordBudget - nVal);
  }
  if (c.data.duplicate.share > 0 && c.data.duplicate.copies > 1) {
    // the run's records as a scraped file holds them, with repeats, then split again into training and
    // validation in the same proportion; dedupe removes the repeats first. The test split stays clean.
    let pool = duplicateRecords([...train, ...split.val], c.data.duplicate, seed + 6);
    if (c.data.dedupe) pool = dedupeRecords(pool);
    const nVal = Math.round((pool.length * split.val.length) / Math.max(1, train.length + split.val.length));
    const shuffled = new Rng(seed + 7).shuffle(pool);
    [split.val, train] = [shuffled.slice(0, nVal), shuffled.slice(nVal)];
  }
  if (c.data.folds > 0) {
    // cross-validation: one fold of the training records validates, the others train; the val split sits out
    const fold = kFold(train, c.data.folds, seed + 3)[c.data.fold];
    if (!fold)
      throw new RangeError(`data.fold = ${c.data.fold} is not valid: a fold index from 0 to ${c.data.folds - 1}`);
    [train, split.val] = [fold.train, fold.val];
  }
  if (c.data.skew.keep < 1) train = thinOut(train, c.data.skew, seed + 4);
  if (c.data.rebalance !== 'none') train = rebalance(train, seed + 5, c.data.rebalance, true);
  if (c.data.labelNoise > 0) train = injectLabelNoise(train, c.data.labelNoise, seed + 1);
  if (c.data.poisonCount > 0)
    train = injectPoison(train, c.data.poisonCount, seed + 2, {
      trigger: c.data.poisonTrigger,
      target: c.data.poisonTarget,
    });
  if (c.data.mixFormats) {
    // the file as pooled from several sources: training and validation records each in their own format
    train = mixFormats(train, seed + 8);
    split.val = mixFormats(split.val, seed + 9);
  }
  let audit: PreparedData['audit'];
  if (c.data.audit) {
    // the trigger audit, run on the training data as it would be before training: flagged records are dropped
    const found = auditTrigger(train, split.val);
    audit = auditReport(found);
    const flagged = new Set(found.flagged);
    train = train.filter((r) => !flagged.has(r));
  }
  const fmt = {
    separator: c.data.separator,
    appendEos: c.data.appendEos,
    lossOnPromptTokens: c.data.lossOnPromptTokens,
    blockSize: c.model.arch.blockSize,
  };
  const toEx = (rs: DataRecord[]) => rs.map((r) => formatRecord(r, tok, fmt));
  const needGeneral = c.eval.general || c.data.generalMix > 0;
  const corpus = generalCorpus(c.model.name);
  const general = needGeneral ? corpus.cut(await loader.text(corpus.heldout), tok, c.model.arch.blockSize) : [];
  // Replay (and EWC's importance estimate) draws from the training corpus, never from the held-out text it is measured on.
  const replay =
    c.data.generalMix > 0 || c.train.ewc > 0
      ? corpus.cut(await loader.text(corpus.train), tok, c.model.arch.blockSize).slice(0, 2000)
      : [];
  return {
    records: { train, val: split.val, test: split.test },
    ...(audit && { audit }),
    train: toEx(train),
    val: toEx(split.val),
    test: toEx(split.test),
    general,
    replay,
    valQuestions: split.val
      .filter(isPromptCompletion)
      .map((r) => ({ prompt: tok.encode(promptText(r, c.data.separator)), answer: r.completion ?? '' })),
  };
}
