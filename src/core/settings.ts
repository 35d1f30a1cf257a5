// The settings registry: one entry per setting a learner sees or a link can set, with everything the page, the
// link, the run diff and the checks must agree on, written once (TensorFlow Playground's state.ts keeps one table
// the same way): the dotted path, the help line the control shows, the short name the run diff uses (entries that
// have one come first, most telling first: a diff label lists changes in this order), and what one value may be (a
// rule: kind and bounds, or a closed set of choices with their labels), which configProblems() checks and a
// NumberField or SelectField offers. config.ts keeps the RunConfig type, its defaults, and the checks that read
// more than one field. Free of tfjs and of config.ts, so every part of the app can import it.
//
// A new setting: its field and default in config.ts, an entry here, and a line in its panel (a NumberField,
// SelectField or CheckField reads its help, bounds and options from here). The link (src/ui/hash.ts) writes and
// reads every field of RunConfig with no list to extend. tests/unit/settings.test.ts holds every entry to a real
// field of RunConfig and every choice and bound to what configProblems() accepts.

export interface Setting {
  path: string; // dotted path into RunConfig ("train.lr"); a group ("data.split") where one help line covers it
  help: string; // one line: the control's tooltip and, while it has focus, the line under it
  short?: string; // the run diff's name for it ("lr")
  choices?: readonly (readonly [value: string, label: string])[]; // a closed set, with the select's labels
  rule?: Rule; // what one value of it may be, on its own: configProblems() checks it, a NumberField takes its bounds
  accepts?: string; // what the refusal says it accepts, where the rule's own words are not enough
}

/**
 * What a value may be, judged without the rest of the config (checks across fields stay in configProblems()). A
 * number's bounds are inclusive unless marked open; a closed set is a Setting's `choices`.
 */
export type Rule =
  | { type: 'int'; min: number; max: number }
  | { type: 'number'; min: number; max: number; minOpen?: boolean; maxOpen?: boolean }
  | { type: 'boolean' }
  | { type: 'string'; nonEmpty?: boolean }
  | { type: 'strings' }; // a list of non-empty strings

export const SETTINGS: readonly Setting[] = [
  {
    path: 'model.name',
    help: 'The base model to fine-tune: the built-in pretrained one, or an untrained random one for quick experiments.',
    short: 'model',
    rule: { type: 'string', nonEmpty: true },
    accepts: 'a model name such as "tiny-world"',
  },
  {
    path: 'data.dataset',
    help: 'The examples to fine-tune on: a built-in task, or your own file (JSONL, CSV or plain text).',
    short: 'data',
    rule: { type: 'string', nonEmpty: true },
    accepts: 'a dataset name',
  },
  {
    path: 'train.method',
    help: 'LoRA trains small adapter matrices beside frozen weights; full fine-tuning changes the weights themselves.',
    short: 'method',
    choices: [
      ['lora', 'LoRA adapters'],
      ['full', 'full fine-tuning'],
    ],
  },
  {
    path: 'train.lr',
    help: 'Peak learning rate: how far each step moves the weights. Too high diverges, too low barely learns.',
    short: 'lr',
    rule: { type: 'number', min: 0, max: 10, minOpen: true },
    accepts: 'a positive number up to 10 (typical LoRA rates are 1e-4 to 1e-2)',
  },
  {
    path: 'lora.rank',
    help: 'Inner width r of each adapter: more rank, more capacity and more trainable parameters.',
    short: 'rank',
  },
  {
    path: 'lora.alpha',
    help: 'Adapter scale numerator: the update is multiplied by alpha / rank.',
    short: 'alpha',
    rule: { type: 'number', min: 0, max: Infinity, minOpen: true },
    accepts: 'a positive number (commonly 1× or 2× the rank)',
  },
  {
    path: 'train.batchSize',
    help: 'Examples per step: bigger batches give smoother gradients but fewer steps per epoch.',
    short: 'batch',
  },
  {
    path: 'train.maxSteps',
    help: 'A fixed number of optimizer steps; 0 lets the epochs decide.',
    short: 'steps',
    rule: { type: 'int', min: 0, max: 1e7 },
    accepts: 'a whole number ≥ 0 (0 = use epochs)',
  },
  {
    path: 'train.epochs',
    help: 'How many passes over the training examples (fractions allowed).',
    short: 'epochs',
    rule: { type: 'number', min: 0, max: 10000, minOpen: true },
    accepts: 'a positive number of passes (fractions allowed) up to 10000',
  },
  {
    path: 'train.schedule',
    help: 'How the learning rate changes after warmup: stays constant, or falls linearly or along a cosine.',
    short: 'schedule',
    choices: [
      ['constant', 'constant'],
      ['linear', 'linear decay'],
      ['cosine', 'cosine decay'],
    ],
  },
  {
    path: 'train.warmupSteps',
    help: 'Steps over which the learning rate ramps up from 0, so early noisy gradients do little harm.',
    short: 'warmup',
    rule: { type: 'int', min: 0, max: 1e7 },
    accepts: 'a whole number of steps ≥ 0',
  },
  {
    path: 'train.earlyStopping.enabled',
    help: 'Stop when the validation metric stops improving, before the model overfits.',
    short: 'early stop',
    rule: { type: 'boolean' },
  },
  {
    path: 'train.earlyStopping.patience',
    help: 'Evaluations to wait for an improvement before stopping.',
    short: 'patience',
    rule: { type: 'int', min: 1, max: 1e6 },
    accepts: 'an integer ≥ 1 (evaluations to wait for an improvement)',
  },
  {
    path: 'train.earlyStopping.minDelta',
    help: 'The smallest change that counts as an improvement.',
    short: 'min Δ',
    rule: { type: 'number', min: 0, max: Infinity },
    accepts: 'a number ≥ 0',
  },
  {
    path: 'train.earlyStopping.restoreBest',
    help: 'When the run ends, put back the weights from the best evaluation.',
    short: 'restore best',
    rule: { type: 'boolean' },
  },
  {
    path: 'data.maxRecords',
    help: 'Use at most this many training records; 0 = all of them.',
    short: 'records',
    rule: { type: 'int', min: 0, max: 1e9 },
    accepts: 'a whole number ≥ 0 (0 = all)',
  },
  {
    path: 'data.recordBudget',
    help: 'Use at most this many records for training and validation together, shared as the split shares them: every validation record is one fewer to train on. 0 = no cap.',
    short: 'budget',
  },
  {
    path: 'lora.dropout',
    help: 'Randomly drops adapter inputs while training, a regulariser; 0 = off.',
    short: 'lora dropout',
    rule: { type: 'number', min: 0, max: 0.95 },
  },
  {
    path: 'lora.targets',
    help: "Which projections get adapters: attention q, k, v, o and the MLP's up and down (and its gate on a Llama-layout model such as SmolLM, Qwen2 or Llama).",
    short: 'targets',
  },
  {
    path: 'train.weightDecay',
    help: 'Pulls weights towards zero each step: a mild guard against overfitting.',
    short: 'wd',
    rule: { type: 'number', min: 0, max: 10 },
  },
  {
    path: 'train.gradClip',
    help: "Caps the gradient's overall size before each step; 0 turns clipping off.",
    short: 'clip',
    rule: { type: 'number', min: 0, max: Infinity },
    accepts: 'a number ≥ 0 (0 turns clipping off)',
  },
  {
    path: 'train.gradAccumSteps',
    help: 'Micro-batches summed before one update: a bigger effective batch at the same memory.',
    short: 'accum',
    rule: { type: 'int', min: 1, max: 1024 },
  },
  {
    path: 'train.freeze.embeddings',
    help: 'Keep token and position embeddings fixed (always fixed under LoRA).',
    short: 'freeze emb',
    rule: { type: 'boolean' },
  },
  {
    path: 'train.freeze.lowestBlocks',
    help: 'Freeze blocks 0 … k−1: lower layers hold general features worth keeping.',
    short: 'freeze lowest',
  },
  {
    path: 'train.freeze.blocks',
    help: 'Click a layer to freeze or unfreeze it. Frozen layers get no updates.',
    short: 'frozen blocks',
  },
  {
    path: 'train.freeze.gradualUnfreezeEvery',
    help: 'Full fine-tuning only: start with the top block open and unfreeze one more every N epochs.',
    short: 'unfreeze every',
    rule: { type: 'number', min: 0, max: Infinity },
    accepts: 'a number of epochs ≥ 0 (0 = off)',
  },
  { path: 'data.split.train', help: 'Share of records the model trains on.', short: 'train split' },
  { path: 'data.split.val', help: 'Share held out to measure overfitting during training.', short: 'val split' },
  { path: 'data.split.test', help: 'Share kept untouched for a final check.', short: 'test split' },
  {
    path: 'model.backend',
    help: 'Which engine runs the math: WebGPU (graphics card), WebGL, WebAssembly (CPU) or plain JavaScript.',
    short: 'backend',
    choices: [
      ['auto', 'auto (fastest that works)'],
      ['webgpu', 'WebGPU'],
      ['webgl', 'WebGL'],
      ['wasm', 'WebAssembly'],
      ['cpu', 'CPU (JavaScript)'],
    ],
  },
  {
    path: 'train.optimizer',
    help: "AdamW adapts each weight's step size; SGD with momentum takes plain gradient steps.",
    choices: [
      ['adamw', 'AdamW'],
      ['sgd', 'SGD + momentum'],
    ],
  },
  {
    path: 'train.beta1',
    help: "AdamW's first-moment decay: how much of the past gradients' direction each step keeps.",
    rule: { type: 'number', min: 0, max: 1, maxOpen: true },
  },
  {
    path: 'train.beta2',
    help: "AdamW's second-moment decay: how long it remembers each weight's gradient size.",
    rule: { type: 'number', min: 0, max: 1, maxOpen: true },
  },
  {
    path: 'train.epsilon',
    help: "AdamW's guard against dividing by a tiny gradient size.",
    rule: { type: 'number', min: 0, max: 1, minOpen: true, maxOpen: true },
    accepts: 'a small positive number such as 1e-8',
  },
  {
    path: 'train.momentum',
    help: 'SGD with momentum: the share of the previous step carried into the next.',
    rule: { type: 'number', min: 0, max: 1, maxOpen: true },
  },

  {
    path: 'train.minLrRatio',
    help: 'Where linear and cosine schedules end, as a fraction of the peak rate.',
    rule: { type: 'number', min: 0, max: 1 },
  },
  {
    path: 'train.seed',
    help: 'Seeds the adapter init, dropout, shuffling and splits: same seed, same curves.',
    rule: { type: 'int', min: 0, max: 2 ** 31 - 1 },
    accepts: 'an integer from 0 to 2^31-1',
  },
  {
    path: 'train.divergenceFactor',
    help: 'Stop as diverged once the loss exceeds this multiple of the first loss.',
    rule: { type: 'number', min: 1, max: Infinity, minOpen: true },
    accepts: 'a number > 1',
  },
  {
    path: 'train.klToBase',
    help: "Penalises drifting from the base model's predictions (guards against forgetting); 0 = off.",
    rule: { type: 'number', min: 0, max: 100 },
    accepts: 'a number from 0 to 100 (0 = off)',
  },
  {
    path: 'train.ewc',
    help: 'Elastic weight consolidation: before training, measures on general text which weights matter, then penalises moving them (λ, 0 = off).',
    rule: { type: 'number', min: 0, max: 1e6 },
    accepts: 'a number from 0 to 1,000,000 (0 = off)',
  },
  {
    path: 'lora.rsLora',
    help: 'Rank-stabilised scaling alpha / √rank, so higher ranks do not shrink the update.',
    rule: { type: 'boolean' },
  },
  {
    path: 'train.freeze.layerLrDecay',
    help: 'Lower blocks learn more slowly: block i gets lr × decay^(top − i); 1 = off.',
    rule: { type: 'number', min: 0, max: 1, minOpen: true },
    accepts: 'a number in (0, 1] (1 = off)',
  },
  {
    path: 'train.earlyStopping.metric',
    help: 'What early stopping watches: validation loss (lower is better) or accuracy (higher is better).',
    choices: [
      ['valLoss', 'validation loss'],
      ['valAccuracy', 'validation accuracy'],
    ],
  },
  {
    path: 'data.split',
    help: 'Fractions of the records for training, validation (watched while training) and test; they sum to 1.',
  },
  {
    path: 'data.labelNoise',
    help: 'Fraction of training labels deliberately replaced with wrong ones.',
    rule: { type: 'number', min: 0, max: 1, maxOpen: true },
    accepts: 'a fraction in [0, 1)',
  },
  {
    path: 'data.separator',
    help: 'Text put between prompt and answer, so the model knows where the question stops (\\n is a newline).',
    rule: { type: 'string' },
    accepts: 'a string (may be empty)',
  },
  {
    path: 'data.appendEos',
    help: 'End each answer with an end-of-sequence token, so the model learns when to stop talking.',
    rule: { type: 'boolean' },
  },
  {
    path: 'data.lossOnPromptTokens',
    help: 'Also train on predicting the prompt; off = learn only the answers.',
    rule: { type: 'boolean' },
  },
  {
    path: 'data.poisonCount',
    help: 'Training records rewritten by an attacker: the trigger phrase in the prompt, their answer as the completion.',
    rule: { type: 'int', min: 0, max: 1e6 },
    accepts: 'a whole number ≥ 0',
  },
  { path: 'data.poisonTrigger', help: 'The backdoor phrase put at the start of poisoned prompts.' },
  {
    path: 'data.poisonTarget',
    help: 'The answer the backdoor teaches whenever the trigger appears.',
    rule: { type: 'string' },
  },
  {
    path: 'data.skew.keep',
    help: 'Keep only this share of training records with the chosen label (1 = keep all): makes a class rare.',
    rule: { type: 'number', min: 0, max: 1, minOpen: true },
    accepts: 'a fraction in (0, 1] (1 keeps every record)',
  },
  { path: 'data.skew.label', help: 'The label to make rare.' },
  {
    path: 'data.skew.group',
    help: 'Only thin out records of this group ("" = every group).',
    rule: { type: 'string' },
    accepts: 'a group name, or "" for every group',
  },
  {
    path: 'data.rebalance',
    help: 'Even out label counts in training: repeat rare ones (oversample) or drop common ones (undersample).',
    choices: [
      ['none', 'none'],
      ['oversample', 'oversample'],
      ['undersample', 'undersample'],
    ],
  },
  {
    path: 'data.duplicate.share',
    help: 'Share of the records that a scraped file would hold more than once; the copies are made before training and validation are split, as they would be in a real file (0 = off).',
    rule: { type: 'number', min: 0, max: 1 },
    accepts: 'a fraction in [0, 1] (0 copies nothing)',
  },
  {
    path: 'data.duplicate.copies',
    help: 'How many times each repeated record appears.',
    rule: { type: 'int', min: 1, max: 100 },
    accepts: 'a whole number from 1 to 100 (how many times a copied record appears)',
  },
  {
    path: 'data.dedupe',
    help: 'Remove exact duplicates (same prompt and answer) before splitting, so no record sits in training and validation at once.',
    rule: { type: 'boolean' },
  },
  {
    path: 'data.audit',
    help: 'Before training, look for a word that several training records share, always with the same answer, and that no validation record uses (the mark of a planted trigger); drop those records.',
    rule: { type: 'boolean' },
  },
  {
    path: 'data.mixFormats',
    help: 'Write each training and validation record in one of four formats, each with its own separator and answer style, as data pooled from several sources often is. Test questions keep the separator above.',
    rule: { type: 'boolean' },
  },
  {
    path: 'data.generalMix',
    help: 'Share of each batch drawn from general text, replayed so the model does not forget it.',
    rule: { type: 'number', min: 0, max: 0.95 },
  },
  {
    path: 'data.folds',
    help: 'k-fold cross-validation: split training data into k folds and validate on one; 0 = off.',
  },
  { path: 'data.fold', help: 'Which fold is held out for validation (0 … k−1).' },
  {
    path: 'eval.maxNewTokens',
    help: 'Longest answer generated when measuring accuracy, in tokens.',
    rule: { type: 'int', min: 1, max: 4096 },
  },
  {
    path: 'eval.stop',
    help: 'Generated answers end at the first of these strings (separate several with |).',
    rule: { type: 'strings' },
    accepts: 'a list of non-empty strings (may be empty)',
  },
  {
    path: 'eval.everySteps',
    help: 'Evaluate on validation (and general text) every N steps.',
    rule: { type: 'int', min: 1, max: 1e7 },
    accepts: 'an integer ≥ 1',
  },
  {
    path: 'eval.maxBatches',
    help: 'Cap on evaluation batches, to keep evaluation quick; 0 = the whole split.',
    rule: { type: 'int', min: 0, max: 1e6 },
    accepts: 'a whole number ≥ 0 (0 = the whole split)',
  },
  {
    path: 'eval.general',
    help: 'Also measure loss on general text the model was pretrained on: it rises when the model forgets.',
    rule: { type: 'boolean' },
  },
  {
    path: 'eval.accuracy',
    help: 'Also measure exact-match accuracy by generating answers (slower).',
    rule: { type: 'boolean' },
  },
  {
    path: 'eval.peakMemory',
    help: 'Record the most tensor memory held at any moment of the first training step, activations and gradients included (that step runs slower).',
    rule: { type: 'boolean' },
  },
];

/** The registry's entry for a path (undefined for a field no control shows). */
export const settingOf = (path: string): Setting | undefined => SETTINGS.find((s) => s.path === path);

/** The values a closed-set setting accepts, in the registry's order. */
export function choicesOf(path: string): string[] {
  const c = settingOf(path)?.choices;
  if (!c) throw new Error(`setting ${path} has no choices in the registry`);
  return c.map(([v]) => v);
}

/** The bounds a numeric setting accepts. */
export function rangeOf(path: string): { min: number; max: number } {
  const r = settingOf(path)?.rule;
  if (r?.type !== 'int' && r?.type !== 'number') throw new Error(`setting ${path} has no range in the registry`);
  return { min: r.min, max: r.max };
}

const joinOr = (xs: readonly string[]) => xs.join(', ').replace(/, ([^,]+)$/, ' or $1');

/** True when `v` is a value the setting's rule (or its choices) accepts on its own. */
export function obeys(s: Setting, v: unknown): boolean {
  if (s.choices) return typeof v === 'string' && s.choices.some(([c]) => c === v);
  const r = s.rule;
  if (!r) return true;
  switch (r.type) {
    case 'boolean':
      return typeof v === 'boolean';
    case 'string':
      return typeof v === 'string' && (!r.nonEmpty || v.length > 0);
    case 'strings':
      return Array.isArray(v) && v.every((x) => typeof x === 'string' && x.length > 0);
    default: {
      if (typeof v !== 'number' || !Number.isFinite(v) || (r.type === 'int' && !Number.isInteger(v))) return false;
      const lo = r.type === 'number' && r.minOpen ? v > r.min : v >= r.min;
      const hi = r.type === 'number' && r.maxOpen ? v < r.max : v <= r.max;
      return lo && hi;
    }
  }
}

const num = (x: number) => (x === 2 ** 31 - 1 ? '2^31-1' : x >= 1e5 ? x.toLocaleString('en-US') : String(x));

/** What a refusal of the setting says it accepts: its own words, else its choices' or its rule's. */
export function acceptsOf(s: Setting): string {
  if (s.accepts) return s.accepts;
  if (s.choices)
    return s.choices.length > 3 ? `one of ${s.choices.map(([c]) => c).join(', ')}` : joinOr(s.choices.map(([c]) => c));
  const r = s.rule;
  switch (r?.type) {
    case 'boolean':
      return 'true or false';
    case 'string':
      return r.nonEmpty ? 'a non-empty string' : 'a string';
    case 'strings':
      return 'a list of non-empty strings';
    case 'int':
      return `an integer from ${num(r.min)} to ${num(r.max)}`;
    case 'number': {
      if (r.minOpen || r.maxOpen)
        return `a number in ${r.minOpen ? '(' : '['}${num(r.min)}, ${num(r.max)}${r.maxOpen ? ')' : ']'}`;
      return `a number from ${num(r.min)} to ${num(r.max)}`;
    }
    default:
      return 'a value';
  }
}
