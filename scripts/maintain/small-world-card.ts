// Writes public/models/small-world/MODEL_CARD.md from measurements: every figure in it is measured here with
// our engine on wasm (or read from the pretraining record scripts/maintain/pretrain_torch.py wrote beside the model).
//   npm run model:card [-- --seeds 42,1,2]   (a LoRA run per seed, about a minute each on an idle 2-core machine)

import * as fs from 'node:fs';
import * as os from 'node:os';
import { diskLoader } from '../../src/core/assets';
import { chunkText } from '../../src/core/data/format';
import { generalCorpus } from '../../src/core/data/prepare';
import { evalLoss } from '../../src/core/eval/evaluate';
import { generate } from '../../src/core/eval/generate';
import { loadModel } from '../../src/core/model/checkpoint';
import { Session } from '../../src/core/session';
import { heldoutLoss, MODEL, QA_RECIPE, qaExactMatch, type QaResult } from './small-world-measure';

const argv = process.argv.slice(2);
const SEEDS = (argv.includes('--seeds') ? argv[argv.indexOf('--seeds') + 1] : '42').split(',').map(Number);
const DIR = `public/models/${MODEL}`;
const rec = JSON.parse(fs.readFileSync(`${DIR}/pretrain-log.json`, 'utf8'));
const onGpu = rec.device === 'cuda'; // a record written by --device cuda names the GPU and any --extra text
const loader = await diskLoader();
const session = await Session.create({ loader, backend: 'wasm' });
const m = await loadModel(loader, MODEL);
const arch = m.model.arch;
const corpus = generalCorpus(MODEL);

// held-out loss, two ways: as pretrained (documents joined by <eos>) and as plain text (blank lines kept)
const held = await heldoutLoss(loader, m);
const heldText = await loader.text(corpus.heldout);
const plain = await evalLoss(
  { params: m.model.params, arch, lora: null, embedMode: 'onehot' },
  chunkText(heldText, m.tokenizer, arch.blockSize),
  32,
);

// overlap between held-out and training text, by sentence and by line
const trainText = await loader.text(corpus.train);
const sentences = (t: string) =>
  t
    .split(/\n|(?<=[.!?])\s+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
const trainSentences = new Set(sentences(trainText));
const heldSentences = sentences(heldText);
const sharedSentences = heldSentences.filter((s) => trainSentences.has(s)).length;
const trainLines = new Set(trainText.split('\n'));
const heldLines = heldText.split('\n').filter((l) => l.length > 0);
const sharedLines = heldLines.filter((l) => trainLines.has(l)).length;

// samples, sampled by our engine
const prompts = [
  'One snowy Monday, ',
  '"Hello, Tom," said ',
  'This is Mia. ',
  'Shopping list for Ben:\n',
  'Kate has a pink cup and a white hat. What colour is the hat?\nA: ',
];
const view = { params: m.model.params, arch, lora: null, embedMode: session.backend.embedMode };
const samples: string[] = [];
for (const p of prompts)
  samples.push(
    (await generate(view, m.tokenizer, p, { maxTokens: 240, temperature: 0.5, topK: 10, stop: [], seed: 7 })).text,
  );
m.model.dispose();

// QA: base vs after the standard LoRA recipe, on three seeds (seed = split, init, order)
const LOAD = os.loadavg()[0].toFixed(1);
const qa: QaResult[] = [];
for (const seed of SEEDS) {
  qa.push(await qaExactMatch(session, seed));
  console.error(`seed ${seed}: base ${(100 * qa.at(-1)!.base).toFixed(1)}% -> ${(100 * qa.at(-1)!.tuned).toFixed(1)}%`);
}
session.dispose();

const pct = (x: number) => (100 * x).toFixed(1);
const n = (x: number) => x.toLocaleString('en-US');
const first = qa[0];
const esc = (s: string) => s.replace(/\n/g, ' / ').replace(/\|/g, '\\|');
const met = first.tuned >= 0.85 && first.base < 0.05;
const status = met
  ? `**Status: the QA target is met.** The issue's target is at least 85% held-out exact match on QA after the
standard LoRA recipe, with the base under 5%. Measured below: base ${pct(first.base)}%, after LoRA ${pct(first.tuned)}% (seed ${first.seed}).`
  : `**Status: the QA target is not met.** The issue's target is at least 85% held-out exact match on QA after the
standard LoRA recipe, with the base under 5%. Measured below: base ${pct(first.base)}%, after LoRA ${pct(first.tuned)}% (seed ${first.seed}).`;
const afterQa = `After \`\\nA: \` the corpus always answers in a full sentence ("The cup is blue."), so the base model's exact match is
near zero by design: fine-tuning has to teach the short format, and the base has to know which item of the context is asked for.`;
const whyLow = met
  ? ''
  : `\n\n\`npx tsx scripts/probes/small-world-qa-diag.ts 1e-2 300\` measures the base model zero-shot in the corpus's own short-answer
formats and a longer LoRA run, to tell whether the format or the base model's lookup is the limit. Pretraining on a GPU
with 11-13 times the tokens, more QA text or two more blocks, and whole-word tokens instead of characters, did not
teach the lookup either (docs/LESSONS.md, "Longer pretraining does not teach the lookup").
A synthetic recall at this model's shape (\`scripts/probes/mqar_torch.py\`) says where it breaks: one-character keys are
recalled to 99.9% when each value stands next to its key and each answer next to the asked key, and about 37% once
either is three characters away, as the words of every QA fact and question are (docs/LESSONS.md, "The hop, not the
key").`;
const card = `# ${MODEL}: model card

A GPT-2-style character model for LoRA Playground, pretrained in PyTorch on a corpus our own code generates, and
shipped in our safetensors format. It is larger than tiny-world, and its corpus has \`<eos>\` after every document,
digits, the \`\\nA: \` format and every character of the shipped datasets.

${status}

| | |
| --- | --- |
| Architecture | decoder-only transformer, GPT-2 layout: learned token + position embeddings, ${arch.nLayer} pre-LayerNorm blocks, ${arch.nHead}-head causal attention, tanh-GELU MLP (x${arch.mlpRatio}), biases, final LayerNorm, output head tied to the token embedding |
| Width / context | nEmbd ${arch.nEmbd}, context ${arch.blockSize} characters |
| Parameters | ${n(m.model.numParams)} |
| Tokenizer | characters: <eos> (id 0), <unk> (id 1), tab, newline and printable ASCII (${arch.vocabSize} ids) |
| Corpus | \`public/corpus/small-world/train.txt\`: ${n(trainText.length)} characters, ${n(trainText.split('\n\n').length)} documents${rec.extra ? '' : ` (${n(rec.train_chars)} tokens with one <eos> after each document)`}, from \`scripts/maintain/make-corpus-v2.ts\`; see its README${rec.extra ? `. Pretraining also read the further text of \`make-corpus-v2.ts --extra\` (not shipped; no sentence of heldout.txt): ${n(rec.train_chars)} tokens in all, with one <eos> after each document` : ''} |
| Held-out text | \`public/corpus/small-world/heldout.txt\`: ${n(heldText.length)} characters; ${sharedSentences} of ${n(heldSentences.length)} sentences and ${sharedLines} of ${n(heldLines.length)} lines also occur in train.txt |
| Training | ${n(rec.steps)} steps of AdamW (β ${rec.hp.beta1}/${rec.hp.beta2}, weight decay ${rec.hp.weight_decay} on matrices except embeddings), batch ${rec.hp.batch} x ${arch.blockSize} tokens (half the windows start at a document's start), lr ${rec.hp.lr} with ${rec.hp.warmup} warmup steps, cosine decay planned over ${n(rec.schedule_steps)} steps${rec.anneal ? `, then over the last ${n(rec.anneal)} steps a linear decay to ${+(rec.hp.lr * rec.hp.min_lr_ratio).toPrecision(3)} (the run was cut short to fit the time budget on a loaded machine)` : ` to ${+(rec.hp.lr * rec.hp.min_lr_ratio).toPrecision(3)}`}, clipping at ${rec.hp.clip}, seed ${rec.hp.seed}; PyTorch ${rec.torch}, ${onGpu ? rec.device_name : '1 thread'} |
| Tokens seen | ${n(rec.tokens_seen)} (${(rec.tokens_seen / rec.train_chars).toFixed(1)} passes over the corpus) |
| Pretraining wall time | ${rec.wall_min.toFixed(1)} min (\`scripts/maintain/pretrain_torch.py\`, ${onGpu ? `on one ${rec.device_name}` : 'on the shared 2-core machine with other jobs running'}) |
| Final training loss | ${rec.final_train_loss.toFixed(4)} nats/char (PyTorch, mean of the last 100 steps) |
| Held-out general loss | ${held.loss.toFixed(4)} nats/char, perplexity ${Math.exp(held.loss).toFixed(3)} (our engine, wasm: documents joined by <eos> as in pretraining, ${held.windows} windows of ${arch.blockSize}) |
| Held-out loss, plain text | ${plain.toFixed(4)} nats/char (the same file read as plain text, blank lines kept instead of <eos>) |
| QA exact match, base | ${pct(first.base)}% (qa-context, ${first.questions} held-out questions, seed 42) |
| QA exact match after LoRA (seed 42) | ${pct(first.tuned)}% (${QA_RECIPE.train.maxSteps} steps of the recipe below) |
| Training speed, LoRA on wasm | ${first.msPerStep.toFixed(0)} ms/step, ${n(Math.round(first.tokensPerSec))} tokens/s (median step, batch ${QA_RECIPE.train.batchSize}, Node, 1 thread; load average ${LOAD} while measured) |
| Lesson-sized run | ${(first.trainMs / 1000).toFixed(1)} s for ${first.steps} LoRA steps with evaluation every ${QA_RECIPE.eval.everySteps} steps (validation + general text, 4 batches each), same load |

## QA: base model vs the standard LoRA recipe
Recipe: LoRA rank ${QA_RECIPE.lora.rank}, alpha ${QA_RECIPE.lora.alpha}, targets ${QA_RECIPE.lora.targets.join(', ')}; lr ${QA_RECIPE.train.lr}, ${QA_RECIPE.train.warmupSteps} warmup steps, cosine,
${QA_RECIPE.train.maxSteps} steps of batch ${QA_RECIPE.train.batchSize}; dataset \`qa-context\` split 0.8/0.2, separator \`\\nA: \`, <eos> appended, loss on the completion only.
Exact match: greedy answer up to <eos> or a newline, equal to the expected answer after trimming.

| seed | held-out questions | base | after LoRA | general loss: first eval -> last eval | wall time |
| --- | --- | --- | --- | --- | --- |
${qa.map((r) => `| ${r.seed} | ${r.questions} | ${pct(r.base)}% | ${pct(r.tuned)}% | ${r.generalFirst?.toFixed(3)} -> ${r.generalLast?.toFixed(3)} | ${(r.trainMs / 1000).toFixed(1)} s |`).join('\n')}

${afterQa}

| question kind | held-out questions (seed ${qa[0].seed}) | exact match after LoRA |
| --- | --- | --- |
${Object.entries(qa[0].byKind)
  .map(([k, [ok, all]]) => `| ${k} | ${all} | ${pct(ok / all)}% |`)
  .join('\n')}${whyLow}

## Pretraining: held-out loss (PyTorch, documents joined by <eos>)
| step | training loss | held-out loss |
| --- | --- | --- |
${rec.log
  .filter((e: { step: number }, i: number, all: unknown[]) => e.step % 1000 === 0 || i === all.length - 1)
  .map(
    (e: { step: number; loss: number; heldout: number }) =>
      `| ${e.step} | ${e.loss.toFixed(4)} | ${e.heldout.toFixed(4)} |`,
  )
  .join('\n')}

## Samples (our engine, temperature 0.5, top-k 10, seed 7, up to <eos>; the prompt is in bold, "/" marks a newline)
${samples.map((s, i) => `${i + 1}. **${esc(prompts[i]).trimEnd()}** ${esc(s)}`).join('\n')}

## Reproduce
\`\`\`bash
npx tsx scripts/maintain/make-corpus-v2.ts                     # corpus and datasets v2 (seeded, same bytes)
${
  onGpu
    ? `python3 scripts/maintain/pretrain_torch.py --device cuda${rec.extra ? ` --extra .corpus-extra/${rec.extra}` : ''}${rec.arch.nLayer !== 4 ? ` --layers ${rec.arch.nLayer}` : ''} --batch ${rec.hp.batch} --lr ${rec.hp.lr} --warmup ${rec.hp.warmup} --steps ${rec.steps} --force   # pretraining on a GPU (the --extra file: README, "Rebuilding the small-world model")`
    : `npm run model:torch -- --steps ${rec.steps}${rec.anneal ? ` --schedule-steps ${rec.schedule_steps} --anneal ${rec.anneal}` : ''} --force   # pretraining (Debian's python3-torch), resumable from .pretrain-torch/`
}
npm run model:card -- --seeds ${SEEDS.join(',')}                # this card: every figure measured again
npx vitest run --project unit tests/unit/small-world.test.ts   # golden logits, held-out loss and QA figure re-measured
\`\`\`
Speed of candidate sizes: \`npx tsx scripts/bench-sizes.ts --batch 8\`.

## Limits
It knows only the invented world of its corpus, and its samples still mix up people and facts. It is a teaching
model, not a language model for real use.
`;
fs.writeFileSync(`${DIR}/MODEL_CARD.md`, card);
console.log(card);
