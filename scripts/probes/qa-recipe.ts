// QA exact match of the shipped small-world after the lessons' LoRA recipe (scripts/maintain/small-world-measure.ts), per seed:
//   npx tsx scripts/probes/qa-recipe.ts [--seeds 1,2,3]
// Prints one JSON line per seed: base and tuned exact match on qa-context's held-out questions, by question kind.

import { diskLoader } from '../../src/core/assets';
import { Session } from '../../src/core/session';
import { qaExactMatch } from '../maintain/small-world-measure';

const argv = process.argv.slice(2);
const seeds = (argv.includes('--seeds') ? argv[argv.indexOf('--seeds') + 1] : '1,2,3').split(',').map(Number);
const session = await Session.create({ loader: await diskLoader(), backend: 'wasm' });
for (const seed of seeds) {
  const r = await qaExactMatch(session, seed);
  console.log(
    JSON.stringify({
      seed,
      base: r.base,
      tuned: r.tuned,
      questions: r.questions,
      trainMs: Math.round(r.trainMs),
      generalFirst: r.generalFirst,
      generalLast: r.generalLast,
      byKind: r.byKind,
    }),
  );
}
