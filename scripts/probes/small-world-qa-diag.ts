// Why QA exact match is low on small-world: the base model zero-shot in the corpus's own short-answer formats
// ("\nAnswer: ", " -> "), and a LoRA run longer than the recipe. Not a test.
//   npx tsx scripts/probes/small-world-qa-diag.ts [lr 1e-2] [steps 300]

import { diskLoader } from '../../src/core/assets';
import { defaultConfig, mergeConfig } from '../../src/core/config';
import { greedyBatch, type ModelView } from '../../src/core/eval/evaluate';
import { exactMatch } from '../../src/core/rules';
import { Session } from '../../src/core/session';
import { QA_RECIPE } from '../maintain/small-world-measure';
const loader = await diskLoader();
const s = await Session.create({ loader, backend: 'wasm' });
const tok = s.tokenizer;
const em = async (view: ModelView, qs: { prompt: number[]; answer: string }[]) => {
  const ans = (
    await greedyBatch(
      view,
      qs.map((q) => q.prompt),
      16,
      tok.eosId,
      tok.encode('\n'),
    )
  ).map((a) => tok.decode(a));
  return ans.filter((a, i) => exactMatch(a, qs[i].answer)).length / qs.length;
};
for (const sep of ['\nAnswer: ', ' -> ']) {
  const run = await s.prepare(
    mergeConfig(defaultConfig(), QA_RECIPE, { data: { separator: sep }, train: { maxSteps: 1 } }),
  );
  console.log(
    `base, separator ${JSON.stringify(sep)}: ${(100 * (await em(s.baseView(), run.data.valQuestions!))).toFixed(1)}%`,
  );
}
const [lr, steps] = [Number(process.argv[2] ?? 1e-2), Number(process.argv[3] ?? 300)];
const run = await s.prepare(
  mergeConfig(defaultConfig(), QA_RECIPE, { train: { lr, maxSteps: steps }, eval: { everySteps: 1000 } }),
);
await s.train();
console.log(
  `LoRA lr ${lr}, ${steps} steps, separator "\\nA: ": ${(100 * (await em(run.view, run.data.valQuestions!))).toFixed(1)}%`,
);
