// Seeded train/validation/test splits and k-fold cross-validation: the same seed gives the same split on
// every machine, so a shared lesson link shows the same curves.

import { Rng } from '../rng';

export interface SplitFractions {
  train: number;
  val: number;
  test: number;
}

export interface Splits<T> {
  train: T[];
  val: T[];
  test: T[];
}

/** How many records each split gets. Training takes what validation and test leave. */
export function splitCounts(n: number, split: SplitFractions): { train: number; val: number; test: number } {
  for (const key of ['val', 'test'] as const) {
    const f = split[key];
    if (!Number.isFinite(f) || f < 0 || f > 1)
      throw new RangeError(`data.split.${key} = ${f} is not valid: a fraction from 0 to 1`);
  }
  if (split.val + split.test >= 1) {
    throw new RangeError(
      `data.split val + test = ${split.val + split.test} is not valid: it must be below 1 so training keeps some records`,
    );
  }
  let val = Math.round(split.val * n);
  let test = Math.round(split.test * n);
  // A tiny dataset still gets something to validate and test on; otherwise those curves would be empty.
  if (n >= 3) {
    if (split.val > 0) val = Math.max(val, 1);
    if (split.test > 0) test = Math.max(test, 1);
  }
  // Training keeps at least one record; test gives way before validation, which early stopping watches.
  while (val + test > Math.max(0, n - 1)) {
    if (test >= val) test--;
    else val--;
  }
  return { train: n - val - test, val, test };
}

/** Shuffle with the seed, then cut: every record lands in exactly one split. */
export function splitRecords<T>(records: readonly T[], split: SplitFractions, seed: number): Splits<T> {
  const counts = splitCounts(records.length, split);
  const order = new Rng(seed).shuffle([...records]);
  return {
    train: order.slice(0, counts.train),
    val: order.slice(counts.train, counts.train + counts.val),
    test: order.slice(counts.train + counts.val),
  };
}

/** k folds: each record is in exactly one fold's val and in every other fold's train; fold sizes differ by ≤ 1. */
export function kFold<T>(records: readonly T[], k: number, seed: number): { train: T[]; val: T[] }[] {
  if (!Number.isInteger(k) || k < 2 || k > records.length) {
    throw new RangeError(
      `kFold: k = ${k} is not valid: an integer from 2 to the number of records (${records.length})`,
    );
  }
  const order = new Rng(seed).shuffle([...records]);
  return Array.from({ length: k }, (_, fold) => ({
    train: order.filter((_, i) => i % k !== fold),
    val: order.filter((_, i) => i % k === fold),
  }));
}
