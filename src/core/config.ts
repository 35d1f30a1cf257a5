// RunConfig: the one typed, nested, JSON-serialisable description of a run (model, lora, train, data, eval).
// Defaults sit beside the type; a lesson, a preset or a URL is a partial override merged with mergeConfig().
// Shape follows nanoGPT's GPTConfig and PEFT's LoraConfig (help text + checks on construction).

import { estimateStepMemory, WASM_HEAP_BYTES, WASM_HEAP_FACTOR } from './memory-estimate';
import { SETTINGS, acceptsOf, obeys } from './settings';
import { formatBytes } from './units';

/** The transformer's shape. For a shipped or imported model it comes from the checkpoint's config. */
export interface ModelArch {
  vocabSize: number; // tokens in the vocabulary (the tied output head has this many logits)
  blockSize: number; // longest context, in tokens (learned position embeddings)
  nLayer: number; // transformer blocks
  nHead: number; // attention heads per block; must divide nEmbd
  nEmbd: number; // width of the residual stream
  mlpRatio: number; // MLP hidden width = mlpRatio * nEmbd (GPT-2: 4)
  layerNormEps: number; // LayerNorm epsilon (GPT-2: 1e-5); RMSNorm's epsilon in the Llama layout
  /** Present for the Llama layout (Llama, Qwen2, Mistral, SmolLM): absent means GPT-2's. See model/llama.ts. */
  llama?: LlamaArch;
}

/**
 * What the Llama layout adds to the shared fields: RMSNorm, rotary positions (no position table), a SwiGLU MLP,
 * grouped-query attention, optional q/k/v biases (Qwen2) and an optional separate output head. blockSize is the
 * longest context the engine will run (positions are computed, so nothing is stored per position).
 */
export interface LlamaArch {
  nKvHead: number; // key/value heads (num_key_value_heads); divides nHead: nHead/nKvHead query heads share each
  intermediateSize: number; // SwiGLU width (intermediate_size)
  ropeTheta: number; // rotary base (rope_theta; Llama 2: 10000, Llama 3: 500000)
  qkvBias: boolean; // biases on q, k and v (Qwen2: true)
  tiedHead: boolean; // output head tied to the token embedding (tie_word_embeddings)
}

export type Backend = 'webgpu' | 'webgl' | 'wasm' | 'cpu';
export type LoraTarget = 'q' | 'k' | 'v' | 'o' | 'gate' | 'up' | 'down';
/** GPT-2's six projections (the targets of every shipped model and lesson). */
export const LORA_TARGETS: readonly LoraTarget[] = ['q', 'k', 'v', 'o', 'up', 'down'];
/** The Llama layout adds the SwiGLU gate (PEFT's gate_proj). */
export const LLAMA_LORA_TARGETS: readonly LoraTarget[] = ['q', 'k', 'v', 'o', 'gate', 'up', 'down'];
/** The projections a model of this shape has. */
export const loraTargetsOf = (a: ModelArch): readonly LoraTarget[] => (a.llama ? LLAMA_LORA_TARGETS : LORA_TARGETS);

export interface ModelConfig {
  name: string; // built-in model name ("tiny-world"), "random" for a freshly initialised model, or an imported id
  arch: ModelArch; // used for "random"; replaced by the checkpoint's own arch when a model is loaded
  backend: Backend | 'auto'; // which tfjs backend runs the math; auto tries webgpu → webgl → wasm → cpu
}

export interface LoraConfig {
  rank: number; // r: inner width of the adapter (A is [in, r], B is [r, out])
  alpha: number; // scaling numerator: s = alpha / r (or alpha / sqrt(r) with rsLora)
  dropout: number; // dropout on the adapter's input during training, 0 ≤ p < 1
  targets: LoraTarget[]; // which projections get adapters: attention q, k, v, o; MLP up, down
  rsLora: boolean; // rank-stabilised scaling alpha / sqrt(r) (Kalajdzievski 2023)
}

export interface FreezeConfig {
  embeddings: boolean; // freeze token + position embeddings (and so the tied head)
  lowestBlocks: number; // freeze blocks 0 .. lowestBlocks-1
  blocks: number[]; // freeze any other chosen blocks by index
  gradualUnfreezeEvery: number; // epochs between unfreezing one more block from the top; 0 = off (full fine-tuning only)
  layerLrDecay: number; // discriminative rates: block i's lr = lr * decay^(nLayer-1-i); 1 = off
}

export interface EarlyStoppingConfig {
  enabled: boolean; // stop when the monitored metric has not improved for `patience` evaluations
  metric: 'valLoss' | 'valAccuracy'; // lower-is-better loss or higher-is-better exact-match accuracy
  patience: number; // evaluations without improvement before stopping, ≥ 1
  minDelta: number; // smallest change that counts as an improvement, ≥ 0
  restoreBest: boolean; // put back the weights from the best evaluation when the run ends
}

export interface TrainConfig {
  method: 'lora' | 'full'; // train only adapters (base frozen), or every unfrozen weight
  optimizer: 'adamw' | 'sgd'; // AdamW (decoupled weight decay) or SGD with momentum
  lr: number; // peak learning rate
  weightDecay: number; // decoupled weight decay (AdamW) or L2 (SGD), ≥ 0
  beta1: number; // Adam first-moment decay
  beta2: number; // Adam second-moment decay
  epsilon: number; // Adam epsilon, explicit (WebGL rounds the default to 1e-4, tfjs #6980)
  momentum: number; // SGD momentum, 0 ≤ m < 1
  schedule: 'constant' | 'linear' | 'cosine'; // learning-rate shape after warmup
  warmupSteps: number; // linear warmup from 0 to lr over this many steps
  minLrRatio: number; // the schedule's floor as a fraction of lr (linear/cosine end here)
  gradClip: number; // clip gradients to this global L2 norm; 0 = off
  batchSize: number; // examples per micro-batch
  gradAccumSteps: number; // micro-batches whose gradients are summed before one update
  epochs: number; // passes over the training split (ignored when maxSteps > 0)
  maxSteps: number; // optimizer steps to run; 0 = derive from epochs
  seed: number; // seeds init, dropout, shuffling and splits: same config + seed = same losses on one backend
  freeze: FreezeConfig;
  earlyStopping: EarlyStoppingConfig;
  divergenceFactor: number; // stop as diverged when loss > factor × the first loss (NaN/Inf always stops)
  klToBase: number; // weight of KL(base ‖ tuned) on next-token predictions, a guard against forgetting; 0 = off
  ewc: number; // elastic weight consolidation: λ of an importance-weighted pull towards the starting weights (importance from general text); 0 = off
}

export interface DataConfig {
  dataset: string; // built-in dataset name, or "custom" for pasted/uploaded records
  split: { train: number; val: number; test: number }; // fractions of the records, summing to 1
  maxRecords: number; // use at most this many training records; 0 = all
  recordBudget: number; // the run sees only this many records, training and validation together, shared as the split shares them; 0 = no cap
  separator: string; // text between prompt and completion
  appendEos: boolean; // end each completion with the end-of-sequence token
  lossOnPromptTokens: boolean; // also train on the prompt (false: loss on the completion only)
  labelNoise: number; // fraction of training labels replaced with a wrong label, 0 ≤ f < 1
  poisonCount: number; // training records rewritten to carry the trigger phrase and the attacker's answer
  poisonTrigger: string; // the backdoor's trigger phrase, put at the start of poisoned prompts
  poisonTarget: string; // the answer the backdoor teaches
  generalMix: number; // share of each batch drawn from general text (replay against forgetting), 0 ≤ f < 1
  folds: number; // k-fold cross-validation: cut the training split into k folds and validate on one; 0 = off
  fold: number; // which fold validates when folds > 0 (0 .. folds-1); the other folds train
  skew: { label: string; group: string; keep: number }; // keep only this fraction of training records with this label (and group; "" = any); keep 1 = off
  rebalance: 'none' | 'oversample' | 'undersample'; // equalise training counts per label (per group × label when records have groups)
  duplicate: { share: number; copies: number }; // a scraped file's repeats: this share of the run's records appears `copies` times before the train/val split; share 0 = off
  dedupe: boolean; // remove exact duplicates (same prompt and completion, or same text) before splitting
  mixFormats: boolean; // write each training and validation record in one of four formats (its own separator and answer style), as data pooled from several sources often is; the test split keeps data.separator
  audit: boolean; // before training, drop the records a trigger audit flags (a word shared by several training records, always with one answer, absent from validation)
}

export interface EvalConfig {
  everySteps: number; // evaluate on validation (and general text) every N optimizer steps
  maxBatches: number; // cap on evaluation batches, to keep evaluation cheap; 0 = the whole split
  general: boolean; // also measure loss on held-out general text (reveals forgetting)
  accuracy: boolean; // also measure exact-match / label accuracy by greedy generation
  maxNewTokens: number; // longest greedy answer generated for accuracy, in tokens
  stop: string[]; // an answer ends at the first of these strings (and always at the end-of-sequence token)
  peakMemory: boolean; // record the high-water mark of tensor memory over the first step, activations included (tf.profile; that step runs slower)
}

export interface RunConfig {
  model: ModelConfig;
  lora: LoraConfig;
  train: TrainConfig;
  data: DataConfig;
  eval: EvalConfig;
}

/**
 * The model the page opens on. Links written before small-world became the default do not name a model and meant
 * tiny-world; src/ui/hash.ts reads them that way (LEGACY_MODEL).
 */
export const DEFAULT_MODEL = 'small-world';
export const LEGACY_MODEL = 'tiny-world';

/** The shape of a freshly initialised ("random") model; a built-in or imported model brings its own. */
export const DEFAULT_ARCH: ModelArch = {
  vocabSize: 99,
  blockSize: 128,
  nLayer: 4,
  nHead: 4,
  nEmbd: 64,
  mlpRatio: 4,
  layerNormEps: 1e-5,
};

export function defaultConfig(): RunConfig {
  return {
    model: { name: DEFAULT_MODEL, arch: { ...DEFAULT_ARCH }, backend: 'auto' },
    lora: { rank: 4, alpha: 8, dropout: 0, targets: ['q', 'v'], rsLora: false },
    train: {
      method: 'lora',
      optimizer: 'adamw',
      lr: 3e-3,
      weightDecay: 0,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-8,
      momentum: 0.9,
      schedule: 'constant',
      warmupSteps: 0,
      minLrRatio: 0.1,
      gradClip: 1,
      batchSize: 8,
      gradAccumSteps: 1,
      epochs: 3,
      maxSteps: 0,
      seed: 42,
      freeze: { embeddings: true, lowestBlocks: 0, blocks: [], gradualUnfreezeEvery: 0, layerLrDecay: 1 },
      earlyStopping: { enabled: false, metric: 'valLoss', patience: 3, minDelta: 0, restoreBest: true },
      divergenceFactor: 4,
      klToBase: 0,
      ewc: 0,
    },
    data: {
      dataset: 'qa',
      split: { train: 0.8, val: 0.1, test: 0.1 },
      maxRecords: 0,
      recordBudget: 0,
      separator: '\nA: ',
      appendEos: true,
      lossOnPromptTokens: false,
      labelNoise: 0,
      poisonCount: 0,
      poisonTrigger: 'xyzzy',
      poisonTarget: 'good',
      generalMix: 0,
      folds: 0,
      fold: 0,
      skew: { label: '', group: '', keep: 1 },
      rebalance: 'none',
      duplicate: { share: 0, copies: 1 },
      dedupe: false,
      audit: false,
      mixFormats: false,
    },
    eval: {
      everySteps: 10,
      maxBatches: 4,
      general: true,
      accuracy: false,
      maxNewTokens: 24,
      stop: ['\n'],
      peakMemory: false,
    },
  };
}

/** A partial, nested override of a RunConfig (what a lesson, preset or URL carries). */
export type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K];
};

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Merge overrides onto a base config, returning a new object; arrays are replaced, not merged. */
export function mergeConfig<T>(base: T, ...overrides: (DeepPartial<T> | undefined)[]): T {
  let out: unknown = structuredClone(base);
  for (const o of overrides) out = mergeInto(out, o);
  return out as T;
}

function mergeInto(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (!isPlainObject(base) || !isPlainObject(over)) return structuredClone(over);
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = mergeInto(base[k], v);
  return out;
}

/** A value as a learner would type it: NaN and Infinity by name (JSON would print null). */
function show(v: unknown): string {
  return typeof v === 'number' && !Number.isFinite(v) ? String(v) : JSON.stringify(v);
}

/** Thrown by validate(): `field` is the dotted path, the message says the value and what is accepted. */
export class ConfigError extends Error {
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly accepted: string,
    shown = show(value), // how the value reads in the message, when JSON would be long
  ) {
    super(`${field} = ${shown} is not valid: ${accepted}`);
    this.name = 'ConfigError';
  }
}

type Check = [field: string, value: unknown, ok: boolean, accepted: string];

/** The Llama layout's own fields (none when the arch is GPT-2's). */
function llamaChecks(a: ModelArch): Check[] {
  const L = a.llama;
  if (L === undefined) return [];
  if (!isPlainObject(L))
    return [['model.arch.llama', L, false, 'an object with nKvHead, intermediateSize, ropeTheta, qkvBias, tiedHead']];
  return [
    [
      'model.arch.llama.nKvHead',
      L.nKvHead,
      intIn(L.nKvHead, 1, 256) && isInt(a.nHead) && a.nHead % L.nKvHead === 0,
      `an integer ≥ 1 that divides model.arch.nHead (${a.nHead})`,
    ],
    [
      'model.arch.llama.intermediateSize',
      L.intermediateSize,
      intIn(L.intermediateSize, 1, 65536),
      'an integer from 1 to 65536',
    ],
    [
      'model.arch.llama.ropeTheta',
      L.ropeTheta,
      isNum(L.ropeTheta) && L.ropeTheta > 1,
      'a number above 1 such as 10000',
    ],
    ['model.arch.llama.qkvBias', L.qkvBias, typeof L.qkvBias === 'boolean', 'true or false'],
    ['model.arch.llama.tiedHead', L.tiedHead, typeof L.tiedHead === 'boolean', 'true or false'],
  ];
}

/** Parameters of a GPT-2-layout model of this shape: the closed form of model/gpt.ts's paramShapes (a unit test holds them equal). */
export function paramCount(a: ModelArch): number {
  const C = a.nEmbd;
  if (a.llama) {
    const L = a.llama;
    const kv = (C / a.nHead) * L.nKvHead; // width of k and of v
    const I = L.intermediateSize;
    // per block: two RMSNorm gains, q [C, C], k and v [C, kv], o [C, C], gate and up [C, I], down [I, C]
    const block = 2 * C + 2 * C * C + 2 * C * kv + 3 * C * I + (L.qkvBias ? C + 2 * kv : 0);
    return a.vocabSize * C * (L.tiedHead ? 1 : 2) + a.nLayer * block + C; // + embedding (and head), final norm
  }
  const H = a.mlpRatio * C;
  // per block: ln_1, c_attn [C, 3C], attn c_proj [C, C], ln_2, c_fc [C, H], mlp c_proj [H, C], each with its bias
  const block = 4 * C * C + 2 * C * H + 9 * C + H;
  return (a.vocabSize + a.blockSize) * C + a.nLayer * block + 2 * C; // + wte, wpe, ln_f
}

/** Bytes the engine holds for a model: its float32 weights and the float32 copy every run starts from. */
export const modelBytes = (a: ModelArch): number => 2 * 4 * paramCount(a);

/** The most a model may take on any device: WebAssembly memory ends at 4 GiB, and a tab rarely gets more. */
export const MAX_MODEL_BYTES = 4e9;

/** How much memory a model may take here, and why that much (for the message). */
export interface MemoryLimit {
  bytes: number;
  why: string;
}

/**
 * A tab (or a process) may use about half of the device's memory, and never more than MAX_MODEL_BYTES.
 * `deviceBytes`: what the device reports (navigator.deviceMemory × 1e9, os.totalmem()); null when it reports nothing.
 */
export function memoryLimit(deviceBytes: number | null = null): MemoryLimit {
  if (deviceBytes === null || !(deviceBytes > 0))
    return { bytes: MAX_MODEL_BYTES, why: 'the most this page allows on a device that does not report its memory' };
  if (deviceBytes / 2 < MAX_MODEL_BYTES)
    return { bytes: deviceBytes / 2, why: `half of the ${formatBytes(deviceBytes)} this device reports` };
  return {
    bytes: MAX_MODEL_BYTES,
    why: 'the most this page allows on any device, as WebAssembly memory ends at 4 GiB',
  };
}

/** A model too big to build here, as a ConfigError that names its size and the limit; null when it fits. */
function sizeProblem(a: ModelArch, memory: MemoryLimit): ConfigError | null {
  const need = modelBytes(a);
  if (need <= memory.bytes) return null;
  const p = paramCount(a);
  const params = p >= 1e9 ? `${+(p / 1e9).toFixed(2)} billion` : `${+(p / 1e6).toFixed(1)} million`;
  const accepted =
    `its ${params} parameters need ${formatBytes(need)} (${formatBytes(need / 2)} of float32 weights, held twice: the model and the copy each run starts from), ` +
    `over the ${formatBytes(memory.bytes)} limit here (${memory.why}); use fewer layers (model.arch.nLayer) or a narrower model (model.arch.nEmbd)`;
  return new ConfigError('model.arch', a, accepted, `${a.nLayer} layers × ${a.nEmbd} wide`);
}

/**
 * A training step that will not fit, with the estimate's parts (memory-estimate.ts), for sequences of `seqLen`
 * tokens (a batch is as long as its longest example). Checked when a run starts, once its data is known. On wasm the
 * backend's tensors must also fit its 4 GiB heap, which grows to about twice their peak (WASM_HEAP_FACTOR).
 */
export function stepMemoryProblem(
  c: RunConfig,
  seqLen: number,
  memory: MemoryLimit = memoryLimit(),
  backend?: string,
): ConfigError | null {
  const e = estimateStepMemory(c, seqLen);
  const tensors = e.peak - e.baseCopy;
  const heap = backend === 'wasm' ? WASM_HEAP_FACTOR * tensors : 0;
  const overTab = e.peak > memory.bytes;
  const overHeap = heap > WASM_HEAP_BYTES;
  if (!overTab && !overHeap) return null;
  const lora = c.train.method === 'lora';
  const parts = [
    `weights ${formatBytes(e.weights)} and the copy each run starts from ${formatBytes(e.baseCopy)}`,
    ...(lora ? [`adapters ${formatBytes(e.trainableWeights)}`] : []),
    `gradients ${formatBytes(e.gradients)}`,
    `optimizer state ${formatBytes(e.optimizerState)}`,
    `activations ${formatBytes(e.activations)} at ${c.train.batchSize} × ${seqLen} tokens`,
    `working memory ${formatBytes(e.working)}`,
  ];
  const fixes = lora ? 'a smaller train.batchSize' : 'LoRA (train.method "lora") or a smaller train.batchSize';
  const where = overTab
    ? `over the ${formatBytes(memory.bytes)} limit here (${memory.why})`
    : `and wasm's heap grows to about ${WASM_HEAP_FACTOR}× the ${formatBytes(tensors)} of tensors, ${formatBytes(heap)}, past its 4 GiB end`;
  return new ConfigError(
    'train.batchSize',
    c.train.batchSize,
    `a step of ${lora ? 'LoRA' : 'full fine-tuning'} on this model needs about ${formatBytes(e.peak)} (${parts.join(', ')}), ${where}; use ${fixes}`,
  );
}

/** Where a field comes in defaultConfig(), depth first: problems are listed in that order (model, lora, train, …). */
let ORDER: Map<string, number> | null = null;
function fieldOrder(field: string): number {
  if (!ORDER) {
    const order = new Map<string, number>();
    const walk = (o: unknown, path: string) => {
      order.set(path, order.size);
      if (o && typeof o === 'object' && !Array.isArray(o))
        for (const [k, v] of Object.entries(o)) walk(v, path ? `${path}.${k}` : k);
    };
    walk(defaultConfig(), '');
    ORDER = order;
  }
  return ORDER.get(field) ?? ORDER.size;
}

/** The value at a dotted path of the config (undefined where there is none). */
function valueAt(c: RunConfig, path: string): unknown {
  return path.split('.').reduce<unknown>((node, k) => (node as Record<string, unknown> | undefined)?.[k], c);
}

/** Each setting the registry gives a rule or a closed set, checked on its own value (src/core/settings.ts). */
function registryChecks(c: RunConfig): Check[] {
  return SETTINGS.filter((s) => s.rule || s.choices).map((s): Check => {
    const v = valueAt(c, s.path);
    return [s.path, v, obeys(s, v), acceptsOf(s)];
  });
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isInt = (v: unknown): v is number => isNum(v) && Number.isInteger(v);
const inRange = (v: unknown, lo: number, hi: number) => isNum(v) && v >= lo && v <= hi;
const intIn = (v: unknown, lo: number, hi: number) => isInt(v) && v >= lo && v <= hi;

/** The model's shape, each dimension on its own and the ones that must divide or fit each other. */
function archChecks(a: ModelArch): Check[] {
  return [
    ['model.arch.vocabSize', a.vocabSize, intIn(a.vocabSize, 2, 1_000_000), 'an integer from 2 to 1,000,000'],
    ['model.arch.blockSize', a.blockSize, intIn(a.blockSize, 2, 8192), 'an integer from 2 to 8192'],
    ['model.arch.nLayer', a.nLayer, intIn(a.nLayer, 1, 96), 'an integer from 1 to 96'],
    ['model.arch.nEmbd', a.nEmbd, intIn(a.nEmbd, 1, 16384), 'an integer from 1 to 16384'],
    [
      'model.arch.nHead',
      a.nHead,
      intIn(a.nHead, 1, 256) && isInt(a.nEmbd) && a.nEmbd % a.nHead === 0,
      `an integer ≥ 1 that divides model.arch.nEmbd (${a.nEmbd})`,
    ],
    [
      'model.arch.mlpRatio',
      a.mlpRatio,
      // the Llama layout sizes its MLP by llama.intermediateSize; mlpRatio there is only I/C for display
      a.llama !== undefined || (inRange(a.mlpRatio, 0.25, 16) && isInt(a.mlpRatio * a.nEmbd)),
      'a number from 0.25 to 16 giving a whole MLP width',
    ],
    [
      'model.arch.layerNormEps',
      a.layerNormEps,
      inRange(a.layerNormEps, 1e-12, 1e-2) && a.layerNormEps > 0,
      'a small positive number such as 1e-5',
    ],
    ...llamaChecks(a),
  ];
}

// Long because it is a table: one entry per rule that reads more than one field (single-value rules come from
// the registry, shape rules from archChecks), in the order of the config.
/**
 * Every rule a RunConfig must satisfy. Returns the broken ones (empty when valid). `memory` is what a model may
 * take here (default: the cap for any device), so a link to a 20 GB model is refused before anything is allocated.
 */
export function configProblems(c: RunConfig, datasetSize?: number, memory: MemoryLimit = memoryLimit()): ConfigError[] {
  const a = c.model.arch;
  const t = c.train;
  const width = isInt(a.nEmbd) ? a.nEmbd : Infinity;
  const splitSum = c.data.split.train + c.data.split.val + c.data.split.test;
  // one rule per entry: the registry's rules for single values, then the checks that read more than one field
  const checks: Check[] = [
    ...archChecks(a),
    ...registryChecks(c),
    ['lora.rank', c.lora.rank, intIn(c.lora.rank, 1, width), `an integer from 1 to the layer width (${a.nEmbd})`],
    [
      'lora.targets',
      c.lora.targets,
      Array.isArray(c.lora.targets) &&
        c.lora.targets.every((x) => loraTargetsOf(a).includes(x)) &&
        new Set(c.lora.targets).size === c.lora.targets.length &&
        (c.lora.targets.length > 0 || t.method !== 'lora'),
      `a non-empty list of distinct targets drawn from ${loraTargetsOf(a).join(', ')}`,
    ],
    [
      'train.batchSize',
      t.batchSize,
      intIn(t.batchSize, 1, 4096) && (datasetSize === undefined || t.batchSize <= datasetSize),
      datasetSize === undefined
        ? 'an integer from 1 to 4096'
        : `an integer from 1 to the training-set size (${datasetSize})`,
    ],
    [
      'train.freeze.lowestBlocks',
      t.freeze.lowestBlocks,
      intIn(t.freeze.lowestBlocks, 0, isInt(a.nLayer) ? a.nLayer : 0),
      `an integer from 0 to model.arch.nLayer (${a.nLayer})`,
    ],
    [
      'train.freeze.blocks',
      t.freeze.blocks,
      Array.isArray(t.freeze.blocks) && t.freeze.blocks.every((b) => intIn(b, 0, a.nLayer - 1)),
      `block indices from 0 to ${a.nLayer - 1}`,
    ],
    [
      'train.earlyStopping.metric',
      t.earlyStopping.metric,
      t.earlyStopping.metric !== 'valAccuracy' || c.eval.accuracy,
      'valLoss, or valAccuracy only with eval.accuracy = true (accuracy must be measured to be monitored)',
    ],
    [
      'data.split',
      c.data.split,
      [c.data.split.train, c.data.split.val, c.data.split.test].every((f) => inRange(f, 0, 1)) &&
        c.data.split.train > 0 &&
        Math.abs(splitSum - 1) < 1e-6,
      `train, val and test fractions in [0, 1] with train > 0, summing to 1 (they sum to ${+splitSum.toFixed(6)})`,
    ],
    [
      'data.recordBudget',
      c.data.recordBudget,
      intIn(c.data.recordBudget, 0, 1e9) && (c.data.recordBudget === 0 || c.data.maxRecords === 0),
      'a whole number ≥ 0 (0 = no cap), and 0 while data.maxRecords caps the training records',
    ],
    [
      'data.poisonTrigger',
      c.data.poisonTrigger,
      typeof c.data.poisonTrigger === 'string' && (c.data.poisonCount === 0 || c.data.poisonTrigger.length > 0),
      'a non-empty phrase when data.poisonCount > 0',
    ],
    [
      'data.folds',
      c.data.folds,
      isInt(c.data.folds) && (c.data.folds === 0 || (c.data.folds >= 2 && c.data.folds <= 100)),
      'an integer from 2 to 100, or 0 for no cross-validation',
    ],
    [
      'data.fold',
      c.data.fold,
      isInt(c.data.fold) && c.data.fold >= 0 && c.data.fold < Math.max(1, isInt(c.data.folds) ? c.data.folds : 1),
      `a fold index from 0 to data.folds - 1 (${Math.max(0, (isInt(c.data.folds) ? c.data.folds : 1) - 1)})`,
    ],
    [
      'data.skew.label',
      c.data.skew.label,
      typeof c.data.skew.label === 'string' && (c.data.skew.keep === 1 || c.data.skew.label.length > 0),
      'the label to thin out (a string; required when data.skew.keep < 1)',
    ],
  ];
  if (t.method === 'lora' && t.freeze.gradualUnfreezeEvery > 0) {
    checks.push([
      'train.freeze.gradualUnfreezeEvery',
      t.freeze.gradualUnfreezeEvery,
      false,
      '0 with train.method "lora" (gradual unfreezing applies to full fine-tuning; LoRA freezes the base)',
    ]);
  }
  const problems = checks
    .filter(([, , ok]) => !ok)
    .map(([f, v, , acc]) => new ConfigError(f, v, acc))
    .sort((x, y) => fieldOrder(x.field) - fieldOrder(y.field)); // the config's own order, whichever check found it
  // the size is measured once each dimension is valid on its own (an out-of-range width says so more plainly)
  const size = problems.some((p) => p.field.startsWith('model.arch.')) ? null : sizeProblem(a, memory);
  return size ? [size, ...problems] : problems;
}

/** The broken rules that concern the model itself: a config with any of these must not build its model. */
export const modelProblems = (c: RunConfig, memory?: MemoryLimit): ConfigError[] =>
  configProblems(c, undefined, memory).filter((p) => p.field.startsWith('model.'));

/** Throws the first broken rule as a ConfigError; returns the config unchanged when valid. */
export function validate(c: RunConfig, datasetSize?: number, memory?: MemoryLimit): RunConfig {
  const problems = configProblems(c, datasetSize, memory);
  if (problems.length > 0) throw problems[0];
  return c;
}
