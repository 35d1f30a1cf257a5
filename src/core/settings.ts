// The settings registry: one entry per setting a learner sees or a link can set, with everything the page, the
// link, the run diff and the checks must agree on, written once (TensorFlow Playground's state.ts keeps one table
// the same way): the dotted path, the help line the control shows, the short name the run diff uses (entries that
// have one come first, most telling first: a diff label lists changes in this order), and for numbers and closed
// sets the bounds or choices that configProblems() accepts and the control offers. config.ts keeps the RunConfig
// type and its defaults. Free of tfjs and of config.ts, so every part of the app can import it.
//
// A new setting: its field and default in config.ts, an entry here, and a line in its panel (a NumberField,
// SelectField or CheckField reads its help, bounds and options from here). tests/unit/settings.test.ts holds every
// entry to a real field of RunConfig and every choice and bound to what configProblems() accepts.

export interface Setting {
  path: string; // dotted path into RunConfig ("train.lr"); a group ("data.split") where one help line covers it
  help: string; // one line: the control's tooltip and, while it has focus, the line under it
  short?: string; // the run diff's name for it ("lr")
  range?: { min: number; max: number }; // a number: the control's bounds (and configProblems()'s, where its check is a plain range)
  choices?: readonly (readonly [value: string, label: string])[]; // a closed set, with the select's labels
}

export const SETTINGS: readonly Setting[] = [
  {
    path: 'model.name',
    help: 'The base model to fine-tune: the built-in pretrained one, or an untrained random one for quick experiments.',
    short: 'model',
  },
  {
    path: 'data.dataset',
    help: 'The examples to fine-tune on: a built-in task, or your own file (JSONL, CSV or plain text).',
    short: 'data',
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
  },
  {
    path: 'lora.rank',
    help: 'Inner width r of each adapter: more rank, more capacity and more trainable parameters.',
    short: 'rank',
  },
  { path: 'lora.alpha', help: 'Adapter scale numerator: the update is multiplied by alpha / rank.', short: 'alpha' },
  {
    path: 'train.batchSize',
    help: 'Examples per step: bigger batches give smoother gradients but fewer steps per epoch.',
    short: 'batch',
  },
  { path: 'train.maxSteps', help: 'A fixed number of optimizer steps; 0 lets the epochs decide.', short: 'steps' },
  { path: 'train.epochs', help: 'How many passes over the training examples (fractions allowed).', short: 'epochs' },
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
  },
  {
    path: 'train.earlyStopping.enabled',
    help: 'Stop when the validation metric stops improving, before the model overfits.',
    short: 'early stop',
  },
  {
    path: 'train.earlyStopping.patience',
    help: 'Evaluations to wait for an improvement before stopping.',
    short: 'patience',
  },
  { path: 'train.earlyStopping.minDelta', help: 'The smallest change that counts as an improvement.', short: 'min Δ' },
  {
    path: 'train.earlyStopping.restoreBest',
    help: 'When the run ends, put back the weights from the best evaluation.',
    short: 'restore best',
  },
  { path: 'data.maxRecords', help: 'Use at most this many training records; 0 = all of them.', short: 'records' },
  {
    path: 'data.recordBudget',
    help: 'Use at most this many records for training and validation together, shared as the split shares them: every validation record is one fewer to train on. 0 = no cap.',
    short: 'budget',
  },
  {
    path: 'lora.dropout',
    help: 'Randomly drops adapter inputs while training, a regulariser; 0 = off.',
    short: 'lora dropout',
    range: { min: 0, max: 0.95 },
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
  },
  {
    path: 'train.gradClip',
    help: "Caps the gradient's overall size before each step; 0 turns clipping off.",
    short: 'clip',
  },
  {
    path: 'train.gradAccumSteps',
    help: 'Micro-batches summed before one update: a bigger effective batch at the same memory.',
    short: 'accum',
  },
  {
    path: 'train.freeze.embeddings',
    help: 'Keep token and position embeddings fixed (always fixed under LoRA).',
    short: 'freeze emb',
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
  { path: 'train.minLrRatio', help: 'Where linear and cosine schedules end, as a fraction of the peak rate.' },
  { path: 'train.seed', help: 'Seeds the adapter init, dropout, shuffling and splits: same seed, same curves.' },
  { path: 'train.divergenceFactor', help: 'Stop as diverged once the loss exceeds this multiple of the first loss.' },
  {
    path: 'train.klToBase',
    help: "Penalises drifting from the base model's predictions (guards against forgetting); 0 = off.",
  },
  {
    path: 'train.ewc',
    help: 'Elastic weight consolidation: before training, measures on general text which weights matter, then penalises moving them (λ, 0 = off).',
  },
  { path: 'lora.rsLora', help: 'Rank-stabilised scaling alpha / √rank, so higher ranks do not shrink the update.' },
  {
    path: 'train.freeze.layerLrDecay',
    help: 'Lower blocks learn more slowly: block i gets lr × decay^(top − i); 1 = off.',
  },
  {
    path: 'train.earlyStopping.metric',
    help: 'What early stopping watches: validation loss (lower is better) or accuracy (higher is better).',
  },
  {
    path: 'data.split',
    help: 'Fractions of the records for training, validation (watched while training) and test; they sum to 1.',
  },
  { path: 'data.labelNoise', help: 'Fraction of training labels deliberately replaced with wrong ones.' },
  {
    path: 'data.separator',
    help: 'Text put between prompt and answer, so the model knows where the question stops (\\n is a newline).',
  },
  {
    path: 'data.appendEos',
    help: 'End each answer with an end-of-sequence token, so the model learns when to stop talking.',
  },
  { path: 'data.lossOnPromptTokens', help: 'Also train on predicting the prompt; off = learn only the answers.' },
  {
    path: 'data.poisonCount',
    help: 'Training records rewritten by an attacker: the trigger phrase in the prompt, their answer as the completion.',
  },
  { path: 'data.poisonTrigger', help: 'The backdoor phrase put at the start of poisoned prompts.' },
  { path: 'data.poisonTarget', help: 'The answer the backdoor teaches whenever the trigger appears.' },
  {
    path: 'data.skew.keep',
    help: 'Keep only this share of training records with the chosen label (1 = keep all): makes a class rare.',
  },
  { path: 'data.skew.label', help: 'The label to make rare.' },
  { path: 'data.skew.group', help: 'Only thin out records of this group ("" = every group).' },
  {
    path: 'data.rebalance',
    help: 'Even out label counts in training: repeat rare ones (oversample) or drop common ones (undersample).',
  },
  {
    path: 'data.duplicate.share',
    help: 'Share of the records that a scraped file would hold more than once; the copies are made before training and validation are split, as they would be in a real file (0 = off).',
  },
  { path: 'data.duplicate.copies', help: 'How many times each repeated record appears.' },
  {
    path: 'data.dedupe',
    help: 'Remove exact duplicates (same prompt and answer) before splitting, so no record sits in training and validation at once.',
  },
  {
    path: 'data.audit',
    help: 'Before training, look for a word that several training records share, always with the same answer, and that no validation record uses (the mark of a planted trigger); drop those records.',
  },
  {
    path: 'data.mixFormats',
    help: 'Write each training and validation record in one of four formats, each with its own separator and answer style, as data pooled from several sources often is. Test questions keep the separator above.',
  },
  {
    path: 'data.generalMix',
    help: 'Share of each batch drawn from general text, replayed so the model does not forget it.',
    range: { min: 0, max: 0.95 },
  },
  {
    path: 'data.folds',
    help: 'k-fold cross-validation: split training data into k folds and validate on one; 0 = off.',
  },
  { path: 'data.fold', help: 'Which fold is held out for validation (0 … k−1).' },
  { path: 'eval.maxNewTokens', help: 'Longest answer generated when measuring accuracy, in tokens.' },
  { path: 'eval.stop', help: 'Generated answers end at the first of these strings (separate several with |).' },
  { path: 'eval.everySteps', help: 'Evaluate on validation (and general text) every N steps.' },
  { path: 'eval.maxBatches', help: 'Cap on evaluation batches, to keep evaluation quick; 0 = the whole split.' },
  {
    path: 'eval.general',
    help: 'Also measure loss on general text the model was pretrained on: it rises when the model forgets.',
  },
  { path: 'eval.accuracy', help: 'Also measure exact-match accuracy by generating answers (slower).' },
  {
    path: 'eval.peakMemory',
    help: 'Record the most tensor memory held at any moment of the first training step, activations and gradients included (that step runs slower).',
  },
];

const BY_PATH = new Map(SETTINGS.map((s) => [s.path, s]));

/** The registry's entry for a path (undefined for a field no control shows). */
export const settingOf = (path: string): Setting | undefined => BY_PATH.get(path);

/** The values a closed-set setting accepts, in the registry's order. */
export function choicesOf(path: string): string[] {
  const c = BY_PATH.get(path)?.choices;
  if (!c) throw new Error(`setting ${path} has no choices in the registry`);
  return c.map(([v]) => v);
}

/** The bounds a numeric setting accepts. */
export function rangeOf(path: string): { min: number; max: number } {
  const r = BY_PATH.get(path)?.range;
  if (!r) throw new Error(`setting ${path} has no range in the registry`);
  return r;
}
