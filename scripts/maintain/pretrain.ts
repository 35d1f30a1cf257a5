// Pretrains the built-in model "tiny-world" on the generated general corpus and writes it to
// public/models/tiny-world/ (safetensors + config + tokenizer + MODEL_CARD.md). Run once by us, not by CI:
//   npm run model:pretrain -- [--steps 2000] [--backend wasm] [--fresh] (--out DIR | --force)
// The npm script is not called "pretrain": npm would run it before every `npm run train`.
// It refuses to overwrite the shipped model: --out DIR writes elsewhere, --force replaces the shipped one.
// Seeded and resumable: every 100 steps weights + Adam moments go to .pretrain/; rerunning continues from there,
// and because each batch is drawn from Rng(seed + step) a resumed run sees exactly the batches a straight run would.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { diskLoader } from '../../src/core/assets';
import { initBackend } from '../../src/core/backend';
import { DEFAULT_ARCH, type Backend } from '../../src/core/config';
import { chunkText } from '../../src/core/data/format';
import type { Example } from '../../src/core/data/types';
import { evalLoss, type ModelView } from '../../src/core/eval/evaluate';
import { generate } from '../../src/core/eval/generate';
import { logits, maskedCrossEntropy } from '../../src/core/model/gpt';
import { serializeModel } from '../../src/core/model/checkpoint';
import { GPTModel } from '../../src/core/model/model';
import { readSafetensors, writeSafetensors } from '../../src/core/model/safetensors';
import { Rng } from '../../src/core/rng';
import { CharTokenizer } from '../../src/core/tokenizer/char';
import { disposeBatch, makeBatch } from '../../src/core/train/batch';
import { Optimizer } from '../../src/core/train/optimizer';
import { lrAt } from '../../src/core/train/schedule';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : dflt);
const STEPS = Number(opt('steps', '2000'));
const BACKEND = opt('backend', 'wasm') as Backend;
const NAME = 'tiny-world';
const SEED = 1234;
const HP = {
  lr: 3e-3,
  schedule: 'cosine' as const,
  warmupSteps: 100,
  minLrRatio: 0.1,
  weightDecay: 0.1,
  gradClip: 1,
  batchSize: 16,
};
const SHIPPED = path.join('public/models', NAME);
const OUT = args.includes('--out') ? opt('out', '') : SHIPPED;
if (!OUT || OUT.startsWith('--')) {
  console.error('error: --out needs a folder, e.g. --out /tmp/tiny-world');
  process.exit(2);
}
// one checkpoint folder per output, so a short run written elsewhere is never resumed into the shipped model
const CKPT = path.resolve(OUT) === path.resolve(SHIPPED) ? '.pretrain' : path.join(OUT, '.pretrain');
if (
  path.resolve(OUT) === path.resolve(SHIPPED) &&
  fs.existsSync(path.join(SHIPPED, 'model.safetensors')) &&
  !args.includes('--force')
) {
  console.error(
    `error: ${SHIPPED}/ holds the shipped model and pretraining (${STEPS} steps, about 23 min for 2000) would overwrite it.\n` +
      `  Write elsewhere with --out DIR (e.g. --out /tmp/${NAME}), or replace the shipped model with --force.`,
  );
  process.exit(2);
}

const report = await initBackend(BACKEND);
const loader = await diskLoader();
const tok = new CharTokenizer();
const arch = { ...DEFAULT_ARCH, vocabSize: tok.vocabSize };
const trainIds = tok.encode(await loader.text('corpus/general-train.txt'));
const heldout = chunkText(await loader.text('corpus/general-heldout.txt'), tok, arch.blockSize);

const model = GPTModel.random(arch, SEED);
const vars = Object.values(model.params);
vars.forEach((v) => (v.trainable = true));
const view: ModelView = { params: model.params, arch, lora: null, embedMode: report.embedMode };
const optimizer = new Optimizer({
  optimizer: 'adamw',
  beta1: 0.9,
  beta2: 0.95,
  epsilon: 1e-8,
  momentum: 0,
  weightDecay: HP.weightDecay,
});
const decayed = vars.map((v) => ({
  variable: v,
  lrScale: 1,
  decay: v.rank >= 2 && !v.name.includes('wte') && !v.name.includes('wpe'),
}));

let step = 0;
let wallMs = 0;
const log: { step: number; loss: number; heldout?: number }[] = [];
if (fs.existsSync(path.join(CKPT, 'state.json')) && !args.includes('--fresh')) {
  const state = JSON.parse(fs.readFileSync(path.join(CKPT, 'state.json'), 'utf8'));
  const st = readSafetensors(fs.readFileSync(path.join(CKPT, 'state.safetensors')));
  model.setWeights(new Map([...st.tensors].filter(([k]) => !k.startsWith('adam.')).map(([k, t]) => [k, t.data])));
  const names = Object.keys(model.params);
  optimizer.importState(vars, {
    t: state.step,
    m: names.map((n) => st.tensors.get(`adam.m.${n}`)!.data),
    v: names.map((n) => st.tensors.get(`adam.v.${n}`)!.data),
  });
  ({ step, wallMs } = state);
  log.push(...state.log);
  console.log(`resumed at step ${step}`);
}

async function saveState() {
  const names = Object.keys(model.params);
  const s = await optimizer.exportState(vars);
  const tensors = await model.weights();
  names.forEach((n, i) => {
    tensors.set(`adam.m.${n}`, { shape: model.params[n].shape, data: s.m[i] });
    tensors.set(`adam.v.${n}`, { shape: model.params[n].shape, data: s.v[i] });
  });
  fs.mkdirSync(CKPT, { recursive: true });
  fs.writeFileSync(path.join(CKPT, 'state.safetensors'), writeSafetensors(tensors));
  fs.writeFileSync(path.join(CKPT, 'state.json'), JSON.stringify({ step, wallMs, log }));
}

/** B random windows of blockSize+1 characters from the corpus, drawn from Rng(seed + step). */
function batchAt(s: number): Example[] {
  const rng = new Rng(SEED + s);
  return Array.from({ length: HP.batchSize }, (_, i) => {
    const off = rng.int(trainIds.length - arch.blockSize - 1);
    const ids = trainIds.slice(off, off + arch.blockSize + 1);
    return { recordId: `w${s}.${i}`, ids, lossMask: ids.map(() => 1) };
  });
}

while (step < STEPS) {
  const t0 = performance.now();
  const b = makeBatch(batchAt(step), arch.blockSize);
  const { value, grads } = tf.variableGrads(
    () => maskedCrossEntropy(logits(model.params, arch, b.x, { embedMode: view.embedMode }), b.y, b.w),
    vars,
  );
  const gl = vars.map((v) => grads[v.name]);
  const normT = tf.tidy(() => tf.sqrt(tf.addN(gl.map((g) => tf.sum(tf.square(g))))));
  const [loss, norm] = [(await value.data())[0], (await normT.data())[0]];
  const scale = norm > HP.gradClip ? HP.gradClip / norm : 1;
  const clipped = gl.map((g) => tf.mul(g, scale));
  optimizer.apply(decayed, clipped, lrAt(step + 1, STEPS, HP));
  tf.dispose([value, normT, ...gl, ...clipped]);
  disposeBatch(b);
  step++;
  wallMs += performance.now() - t0;
  const entry: { step: number; loss: number; heldout?: number } = { step, loss };
  log.push(entry);
  if (step % 100 === 0 || step === STEPS) {
    entry.heldout = await evalLoss(view, heldout, 32);
    await saveState();
  }
  if (step % 20 === 0 || entry.heldout !== undefined) {
    console.log(
      `step ${step}/${STEPS} loss ${loss.toFixed(4)}${entry.heldout !== undefined ? ` heldout ${entry.heldout.toFixed(4)}` : ''} ${(performance.now() - t0) | 0} ms/step`,
    );
  }
}

// --- write the model and its card ---
const finalHeldout = await evalLoss(view, heldout, 32);
const recent = log.slice(-100);
const finalTrain = recent.reduce((s, e) => s + e.loss, 0) / recent.length;
const prompts = ['Mia has a ', 'One sunny morning, ', '"Hello, Tom," said ', 'This is Eli. He likes to eat '];
const samples: string[] = [];
for (const p of prompts)
  samples.push(
    p + (await generate(view, tok, p, { maxTokens: 120, temperature: 0.5, topK: 10, stop: ['\n\n'], seed: 7 })).text,
  );
const files = await serializeModel(
  model,
  tok,
  {
    name: NAME,
    tokenizer: 'char',
    description: 'A 4-layer character-level GPT pretrained on the generated tiny-world corpus.',
  },
  { steps: String(STEPS), heldout_loss: finalHeldout.toFixed(4) },
);
fs.mkdirSync(OUT, { recursive: true });
for (const [f, data] of Object.entries(files)) fs.writeFileSync(path.join(OUT, f), data);
const tokensSeen = STEPS * HP.batchSize * arch.blockSize;
const card = `# tiny-world: model card

A small GPT-2-style character model that ships with LoRA Playground, so the page can fine-tune something
offline with nothing downloaded.

| | |
| --- | --- |
| Architecture | decoder-only transformer, GPT-2 layout: learned token + position embeddings, ${arch.nLayer} pre-LayerNorm blocks, ${arch.nHead}-head causal attention, tanh-GELU MLP (×${arch.mlpRatio}), final LayerNorm, output head tied to the token embedding |
| Width / context | nEmbd ${arch.nEmbd}, context ${arch.blockSize} characters |
| Parameters | ${model.numParams.toLocaleString('en-US')} |
| Tokenizer | characters: <eos>, <unk>, tab, newline and printable ASCII (${tok.vocabSize} ids) |
| Corpus | \`public/corpus/general-train.txt\` (${trainIds.length.toLocaleString('en-US')} characters), generated by \`scripts/maintain/make-data.ts\`; see public/corpus/README.md |
| Training | ${STEPS} steps of AdamW (β 0.9/0.95, weight decay ${HP.weightDecay}), batch ${HP.batchSize} × ${arch.blockSize} characters, lr ${HP.lr} with ${HP.warmupSteps} warmup steps and cosine decay to ${+(HP.lr * HP.minLrRatio).toPrecision(3)}, gradient clipping at ${HP.gradClip}, seed ${SEED} |
| Tokens seen | ${tokensSeen.toLocaleString('en-US')} (${(tokensSeen / trainIds.length).toFixed(1)} passes over the corpus) |
| Final training loss | ${finalTrain.toFixed(4)} nats/char (mean of the last ${recent.length} steps), perplexity ${Math.exp(finalTrain).toFixed(3)} |
| Held-out general loss | ${finalHeldout.toFixed(4)} nats/char, perplexity ${Math.exp(finalHeldout).toFixed(3)} (\`public/corpus/general-heldout.txt\`, ${heldout.length} windows of ${arch.blockSize}) |
| Wall time | ${(wallMs / 60000).toFixed(1)} min on the tfjs ${report.backend} backend in Node, 1 thread |
| Reproduce | \`npx tsx scripts/maintain/make-data.ts && npm run model:pretrain -- --steps ${STEPS} --backend ${BACKEND} --fresh --force\` |

## Held-out loss during training
| step | training loss | held-out loss |
| --- | --- | --- |
${log
  .filter((e) => e.heldout !== undefined && (e.step % 500 === 0 || e.step === STEPS || e.step === 100))
  .map((e) => `| ${e.step} | ${e.loss.toFixed(4)} | ${e.heldout!.toFixed(4)} |`)
  .join('\n')}

## Samples (temperature 0.5, top-k 10, seed 7; the prompt is in bold)
${samples.map((s, i) => `${i + 1}. **${prompts[i].trimEnd()}**${prompts[i].endsWith(' ') ? ' ' : ''}${s.slice(prompts[i].length).replace(/\n/g, ' / ')}`).join('\n')}

## Limits
It knows only the invented world of the corpus: a few dozen people, their pets, towns and habits. It is a
teaching model, small enough to fine-tune in a browser tab in seconds; it is not a language model for real use.
`;
fs.writeFileSync(path.join(OUT, 'MODEL_CARD.md'), card);
console.log(`wrote ${OUT}: heldout ${finalHeldout.toFixed(4)}, train ${finalTrain.toFixed(4)}`);
