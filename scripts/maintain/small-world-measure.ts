// The measurements the small-world model card states, made with our engine on wasm, shared by the card
// script (scripts/maintain/small-world-card.ts) and the test that re-measures them (tests/unit/small-world.test.ts).

import type { AssetLoader } from '../../src/core/assets';
import { defaultConfig, mergeConfig, type DeepPartial, type RunConfig } from '../../src/core/config';
import { chunkDocuments } from '../../src/core/data/format';
import { generalCorpus } from '../../src/core/data/prepare';
import { evalLoss, greedyBatch, type ModelView } from '../../src/core/eval/evaluate';
import { exactMatch } from '../../src/core/rules';
import type { LoadedModel } from '../../src/core/model/checkpoint';
import { Session } from '../../src/core/session';

export const MODEL = 'small-world';

/** The standard LoRA recipe for QA on small-world (what the card's exact-match figure is measured with). */
export const QA_RECIPE = {
  model: { name: MODEL },
  data: { dataset: 'qa-context', split: { train: 0.8, val: 0.2, test: 0 } },
  lora: {
    rank: 8,
    alpha: 16,
    targets: ['q', 'k', 'v', 'o', 'up', 'down'] as ('q' | 'k' | 'v' | 'o' | 'up' | 'down')[],
  },
  train: { lr: 5e-3, maxSteps: 150, batchSize: 8, warmupSteps: 10, schedule: 'cosine' as const },
  eval: { everySteps: 10, general: true, accuracy: false }, // the lessons' evaluation: every 10 steps, 4 batches
};

/** Held-out general loss in nats per character: documents joined by <eos>, as in pretraining. */
export async function heldoutLoss(loader: AssetLoader, m: LoadedModel): Promise<{ loss: number; windows: number }> {
  const text = await loader.text(generalCorpus(MODEL).heldout);
  const windows = chunkDocuments(text, m.tokenizer, m.model.arch.blockSize);
  const loss = await evalLoss(
    { params: m.model.params, arch: m.model.arch, lora: null, embedMode: 'onehot' },
    windows,
    32,
  );
  return { loss, windows: windows.length };
}

export interface QaResult {
  seed: number;
  questions: number;
  base: number;
  tuned: number;
  steps: number;
  trainMs: number;
  msPerStep: number;
  tokensPerSec: number;
  generalFirst?: number;
  generalLast?: number;
  byKind: Record<string, [number, number]>;
}

/** The qa-context question template a prompt comes from ("What colour is the ...?" -> "What colour"). */
function questionKind(prompt: string): string {
  const q = prompt.slice(prompt.lastIndexOf('. ') + 2);
  return /^(What colour|Who has|Where did|Where does|How many|What animal|Who is)/.exec(q)?.[1] ?? 'other';
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Held-out exact match of the base model and after the LoRA recipe, on the validation split of one seed. */
export async function qaExactMatch(
  session: Session,
  seed: number,
  override: DeepPartial<RunConfig> = {},
): Promise<QaResult> {
  const config = mergeConfig(mergeConfig(defaultConfig(), QA_RECIPE), {
    ...override,
    train: { ...(override.train ?? {}), seed },
  });
  const run = await session.prepare(config);
  const qs = run.data.valQuestions!;
  const tok = session.tokenizer;
  const byKind: Record<string, [number, number]> = {};
  const accuracy = async (view: ModelView) => {
    const answers = await greedyBatch(
      view,
      qs.map((q) => q.prompt),
      16,
      tok.eosId,
      tok.encode('\n'),
    );
    const right = answers.map((a, i) => exactMatch(tok.decode(a), qs[i].answer));
    for (const k of Object.keys(byKind)) delete byKind[k];
    right.forEach((ok, i) => {
      const kind = questionKind(tok.decode(qs[i].prompt));
      byKind[kind] = [(byKind[kind]?.[0] ?? 0) + (ok ? 1 : 0), (byKind[kind]?.[1] ?? 0) + 1];
    });
    return right.filter(Boolean).length / qs.length;
  };
  const base = await accuracy(session.baseView());
  const t0 = performance.now();
  const h = await session.train();
  const trainMs = performance.now() - t0;
  const tuned = await accuracy(run.view);
  const timed = h.steps.slice(2);
  const evals = h.evals.filter((e) => e.generalLoss !== undefined);
  return {
    seed,
    questions: qs.length,
    base,
    tuned,
    steps: h.end.step,
    trainMs,
    msPerStep: median(timed.map((s) => s.msPerStep)),
    tokensPerSec: median(timed.map((s) => s.tokensPerSec)),
    generalFirst: evals[0]?.generalLoss,
    generalLast: evals.at(-1)?.generalLoss,
    byKind,
  };
}
