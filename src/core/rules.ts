// Definitions that more than one part of the app must agree on, kept free of tfjs so the page's main thread, the
// worker, the CLI and the tests import the same function: when an answer counts as right, the LoRA scale, and how
// a lesson variant is found by id and configured, and which models every engine has.

import { defaultConfig, mergeConfig, type DeepPartial, type LoraConfig, type RunConfig } from './config';

/**
 * Models every engine has, with the model picker's labels: the two shipped pretrained ones (small-world is the
 * larger, which the forgetting lessons use) and a freshly initialised one.
 */
export const BUILT_IN_MODELS = [
  ['tiny-world', 'tiny-world (built-in, pretrained, 0.2M parameters)'],
  ['small-world', 'small-world (built-in, pretrained, 0.8M parameters)'],
  ['random', 'random (untrained)'],
] as const;

export const isBuiltInModel = (name: string): boolean => BUILT_IN_MODELS.some(([n]) => n === name);

/**
 * The page's default wasm thread count: tfjs's own choice, half the logical cores (it assumes two hardware threads
 * per core), at most 4. A 2-core laptop gets one thread and keeps a core for the page.
 */
export function defaultWasmThreads(logicalCores: number): number {
  return Math.max(1, Math.min(4, Math.floor((Number.isFinite(logicalCores) ? logicalCores : 1) / 2)));
}

/** The answer as compared: surrounding space, a final full stop and letter case do not count. */
export function normalizeAnswer(s: string): string {
  return s.trim().replace(/\.$/, '').trim().toLowerCase();
}

/**
 * Exact match, the one definition behind the accuracy chart, early stopping on accuracy and every lesson that
 * scores answers: equal after normalizeAnswer.
 */
export function exactMatch(predicted: string, expected: string): boolean {
  return normalizeAnswer(predicted) === normalizeAnswer(expected);
}

/** LoRA's scale s in y = x·W + s·(x·A)·B: alpha/r (Hu et al. 2021), or alpha/√r with rsLoRA (Kalajdzievski 2023). */
export function loraScale(c: Pick<LoraConfig, 'alpha' | 'rank' | 'rsLora'>): number {
  return c.rsLora ? c.alpha / Math.sqrt(c.rank) : c.alpha / c.rank;
}

/** The parts of a lesson that variant lookup reads (a core Lesson, or the page's LessonInfo). */
export interface VariantsOf<V extends { id: string }> {
  id: string;
  pitfall: V;
  fixes: V[];
}

/** The variant's full config: defaults, then the lesson's shared settings, the variant's, and the caller's. */
export function lessonConfig<V extends { id: string; override: DeepPartial<RunConfig> }>(
  lesson: VariantsOf<V> & { base: DeepPartial<RunConfig> },
  variantId: string,
  override?: DeepPartial<RunConfig>,
): RunConfig {
  return mergeConfig(defaultConfig(), lesson.base, variantOf(lesson, variantId).override, override);
}

/** Pitfall first, then the fixes: the order the page offers them. */
export function variantsOf<V extends { id: string }>(lesson: VariantsOf<V>): V[] {
  return [lesson.pitfall, ...lesson.fixes];
}

/** The variant with this id; throws a message naming the ids there are. */
export function variantOf<V extends { id: string }>(lesson: VariantsOf<V>, id: string): V {
  const all = variantsOf(lesson);
  const v = all.find((x) => x.id === id);
  if (!v)
    throw new Error(`lesson "${lesson.id}" has no variant "${id}"; choose one of ${all.map((x) => x.id).join(', ')}`);
  return v;
}

/** The variant with this id, or the pitfall when the id is missing or unknown (an old link, a renamed fix). */
export function variantOrPitfall<V extends { id: string }>(lesson: VariantsOf<V>, id: string | null | undefined): V {
  return variantsOf(lesson).find((x) => x.id === id) ?? lesson.pitfall;
}
