// Every lesson, in picker order, and a lookup by id.

import { batchSize } from './batch-size';
import { computeCost } from './compute-cost';
import { duplicates } from './duplicates';
import { forgetting } from './forgetting';
import { gradualUnfreezing } from './gradual-unfreezing';
import { hyperparameterSearch } from './hyperparameter-search';
import { imbalance } from './imbalance';
import { learningRate } from './learning-rate';
import { noEos } from './no-eos';
import { noValidation } from './no-validation';
import { noisyLabels } from './noisy-labels';
import { overfitting } from './overfitting';
import { poisoning } from './poisoning';
import { separators } from './separators';
import { shortcut } from './shortcut';
import type { Lesson } from './types';
import { underfitting } from './underfitting';

export const LESSONS: Lesson[] = [
  overfitting,
  underfitting,
  noValidation,
  learningRate,
  batchSize,
  noisyLabels,
  poisoning,
  separators,
  noEos,
  imbalance,
  forgetting,
  computeCost,
  hyperparameterSearch,
  gradualUnfreezing,
  duplicates,
  shortcut,
];

export function lessonById(id: string): Lesson {
  const lesson = LESSONS.find((l) => l.id === id);
  if (!lesson) throw new Error(`unknown lesson "${id}"; choose one of ${LESSONS.map((l) => l.id).join(', ')}`);
  return lesson;
}
