// One line per control: shown as the tooltip and, while the control has focus, under it.

export const HELP: Record<string, string> = {
  'model.name':
    'The base model to fine-tune: the built-in pretrained one, or an untrained random one for quick experiments.',
  'model.backend': 'Which engine runs the math: WebGPU (graphics card), WebGL, WebAssembly (CPU) or plain JavaScript.',
  'data.dataset': 'The examples to fine-tune on: a built-in task, or your own file (JSONL, CSV or plain text).',
  'train.method':
    'LoRA trains small adapter matrices beside frozen weights; full fine-tuning changes the weights themselves.',
  'train.optimizer': "AdamW adapts each weight's step size; SGD with momentum takes plain gradient steps.",
  'train.lr': 'Peak learning rate: how far each step moves the weights. Too high diverges, too low barely learns.',
  'train.epochs': 'How many passes over the training examples (fractions allowed).',
  'train.maxSteps': 'A fixed number of optimizer steps; 0 lets the epochs decide.',
  'train.batchSize': 'Examples per step: bigger batches give smoother gradients but fewer steps per epoch.',
  'train.gradAccumSteps': 'Micro-batches summed before one update: a bigger effective batch at the same memory.',
  'train.schedule': 'How the learning rate changes after warmup: stays constant, or falls linearly or along a cosine.',
  'train.warmupSteps': 'Steps over which the learning rate ramps up from 0, so early noisy gradients do little harm.',
  'train.minLrRatio': 'Where linear and cosine schedules end, as a fraction of the peak rate.',
  'train.weightDecay': 'Pulls weights towards zero each step: a mild guard against overfitting.',
  'train.gradClip': "Caps the gradient's overall size before each step; 0 turns clipping off.",
  'train.seed': 'Seeds the adapter init, dropout, shuffling and splits: same seed, same curves.',
  'train.divergenceFactor': 'Stop as diverged once the loss exceeds this multiple of the first loss.',
  'train.klToBase': "Penalises drifting from the base model's predictions (guards against forgetting); 0 = off.",
  'train.ewc':
    'Elastic weight consolidation: before training, measures on general text which weights matter, then penalises moving them (λ, 0 = off).',
  'lora.rank': 'Inner width r of each adapter: more rank, more capacity and more trainable parameters.',
  'lora.alpha': 'Adapter scale numerator: the update is multiplied by alpha / rank.',
  'lora.dropout': 'Randomly drops adapter inputs while training, a regulariser; 0 = off.',
  'lora.targets':
    "Which projections get adapters: attention q, k, v, o and the MLP's up and down (and its gate on a Llama-layout model such as SmolLM, Qwen2 or Llama).",
  'lora.rsLora': 'Rank-stabilised scaling alpha / √rank, so higher ranks do not shrink the update.',
  'train.freeze.embeddings': 'Keep token and position embeddings fixed (always fixed under LoRA).',
  'train.freeze.lowestBlocks': 'Freeze blocks 0 … k−1: lower layers hold general features worth keeping.',
  'train.freeze.blocks': 'Click a layer to freeze or unfreeze it. Frozen layers get no updates.',
  'train.freeze.gradualUnfreezeEvery':
    'Full fine-tuning only: start with the top block open and unfreeze one more every N epochs.',
  'train.freeze.layerLrDecay': 'Lower blocks learn more slowly: block i gets lr × decay^(top − i); 1 = off.',
  'train.earlyStopping.enabled': 'Stop when the validation metric stops improving, before the model overfits.',
  'train.earlyStopping.metric':
    'What early stopping watches: validation loss (lower is better) or accuracy (higher is better).',
  'train.earlyStopping.patience': 'Evaluations to wait for an improvement before stopping.',
  'train.earlyStopping.minDelta': 'The smallest change that counts as an improvement.',
  'train.earlyStopping.restoreBest': 'When the run ends, put back the weights from the best evaluation.',
  'data.split': 'Fractions of the records for training, validation (watched while training) and test; they sum to 1.',
  'data.split.train': 'Share of records the model trains on.',
  'data.split.val': 'Share held out to measure overfitting during training.',
  'data.split.test': 'Share kept untouched for a final check.',
  'data.maxRecords': 'Use at most this many training records; 0 = all of them.',
  'data.recordBudget':
    'Use at most this many records for training and validation together, shared as the split shares them: every validation record is one fewer to train on. 0 = no cap.',
  'data.labelNoise': 'Fraction of training labels deliberately replaced with wrong ones.',
  'data.separator':
    'Text put between prompt and answer, so the model knows where the question stops (\\n is a newline).',
  'data.appendEos': 'End each answer with an end-of-sequence token, so the model learns when to stop talking.',
  'data.lossOnPromptTokens': 'Also train on predicting the prompt; off = learn only the answers.',
  'data.poisonCount':
    'Training records rewritten by an attacker: the trigger phrase in the prompt, their answer as the completion.',
  'data.poisonTrigger': 'The backdoor phrase put at the start of poisoned prompts.',
  'data.poisonTarget': 'The answer the backdoor teaches whenever the trigger appears.',
  'data.skew.keep':
    'Keep only this share of training records with the chosen label (1 = keep all): makes a class rare.',
  'data.skew.label': 'The label to make rare.',
  'data.skew.group': 'Only thin out records of this group ("" = every group).',
  'data.rebalance':
    'Even out label counts in training: repeat rare ones (oversample) or drop common ones (undersample).',
  'data.duplicate.share':
    'Share of the records that a scraped file would hold more than once; the copies are made before training and validation are split, as they would be in a real file (0 = off).',
  'data.duplicate.copies': 'How many times each repeated record appears.',
  'data.dedupe':
    'Remove exact duplicates (same prompt and answer) before splitting, so no record sits in training and validation at once.',
  'data.audit':
    'Before training, look for a word that several training records share, always with the same answer, and that no validation record uses (the mark of a planted trigger); drop those records.',
  'data.mixFormats':
    'Write each training and validation record in one of four formats, each with its own separator and answer style, as data pooled from several sources often is. Test questions keep the separator above.',
  'data.generalMix': 'Share of each batch drawn from general text, replayed so the model does not forget it.',
  'data.folds': 'k-fold cross-validation: split training data into k folds and validate on one; 0 = off.',
  'data.fold': 'Which fold is held out for validation (0 … k−1).',
  'eval.maxNewTokens': 'Longest answer generated when measuring accuracy, in tokens.',
  'eval.stop': 'Generated answers end at the first of these strings (separate several with |).',
  'eval.everySteps': 'Evaluate on validation (and general text) every N steps.',
  'eval.maxBatches': 'Cap on evaluation batches, to keep evaluation quick; 0 = the whole split.',
  'eval.general': 'Also measure loss on general text the model was pretrained on: it rises when the model forgets.',
  'eval.accuracy': 'Also measure exact-match accuracy by generating answers (slower).',
  'eval.peakMemory':
    'Record the most tensor memory held at any moment of the first training step, activations and gradients included (that step runs slower).',
};

export const hint = (path: string) => HELP[path] ?? '';
