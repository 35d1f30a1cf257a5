// "Beyond the browser": a run as a ready-to-run Python project — train.py (transformers + peft + accelerate)
// with every setting of the RunConfig that has a counterpart there, data.jsonl with the run's own splits, and
// requirements.txt. What has no counterpart is listed at the top of the script instead of silently dropped.
// The learning-rate schedule and the example encoding are restated in Python from schedule.ts and format.ts.

import type { RunConfig } from '../config';
import type { Splits } from '../data/split';
import type { DataRecord } from '../data/types';
import { peftTargetModules } from './peft';

export interface PythonExportOptions {
  baseModel: string; // Hugging Face id or local folder of the GPT-2 model to fine-tune (an imported model's id)
  outputDir?: string; // where train.py writes checkpoints and the adapter (default "lora-playground-run")
  dataFile?: string; // name of the JSONL file next to train.py (default "data.jsonl")
}

/** The run's records, one JSON object per line with its split: what train.py reads. */
export function datasetJsonl(records: Splits<DataRecord>): string {
  const lines: string[] = [];
  for (const split of ['train', 'val', 'test'] as const) {
    for (const r of records[split]) lines.push(JSON.stringify({ split, ...r }));
  }
  return lines.join('\n') + '\n';
}

/** A value as a Python literal: numbers and JSON strings read the same in both; true → True, null → None. */
function py(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new RangeError(`cannot write ${v} as a Python number`);
    return String(v);
  }
  if (Array.isArray(v)) return `[${v.map(py).join(', ')}]`;
  return JSON.stringify(v);
}

/** Settings the Python run cannot reproduce, each with its value and why. */
function notExported(c: RunConfig): string[] {
  const t = c.train;
  const out: string[] = [];
  // the Llama layout has q, k and v as projections of their own: PEFT adapts each as the browser does
  const qkv = c.model.arch.llama ? [] : c.lora.targets.filter((x) => x === 'q' || x === 'k' || x === 'v');
  if (t.method === 'lora' && qkv.length > 0 && qkv.length < 3) {
    out.push(
      `lora.targets ${JSON.stringify(c.lora.targets)}: PEFT adapts GPT-2's fused c_attn as a whole, so q, k and v all get one adapter of rank r`,
    );
  }
  if (t.method === 'lora' && qkv.length > 1)
    out.push(
      `lora.rank per projection: the browser gives each of ${qkv.join(', ')} its own rank-${c.lora.rank} adapter; here c_attn gets one of rank ${c.lora.rank}`,
    );
  if (t.freeze.gradualUnfreezeEvery > 0)
    out.push(`train.freeze.gradualUnfreezeEvery = ${t.freeze.gradualUnfreezeEvery}: gradual unfreezing`);
  if (t.freeze.layerLrDecay !== 1)
    out.push(`train.freeze.layerLrDecay = ${t.freeze.layerLrDecay}: layer-wise learning-rate decay`);
  if (t.klToBase > 0) out.push(`train.klToBase = ${t.klToBase}: the KL penalty towards the base model`);
  if (t.ewc > 0) out.push(`train.ewc = ${t.ewc}: elastic weight consolidation`);
  if (c.data.generalMix > 0) out.push(`data.generalMix = ${c.data.generalMix}: replay of general text`);
  if (c.eval.general) out.push('eval.general: loss on held-out general text');
  if (c.eval.accuracy) out.push('eval.accuracy: exact-match accuracy by greedy generation');
  if (t.earlyStopping.enabled && t.earlyStopping.metric === 'valAccuracy')
    out.push('train.earlyStopping.metric "valAccuracy": early stopping watches eval_loss instead');
  if (t.earlyStopping.enabled && !t.earlyStopping.restoreBest)
    out.push(
      'train.earlyStopping.restoreBest = false: transformers needs load_best_model_at_end with early stopping, so the best weights are restored',
    );
  out.push(`train.divergenceFactor = ${t.divergenceFactor}: transformers has no divergence stop`);
  return out;
}

// Long because it is a file: the train.py it returns, as a template, read top to bottom like the script itself.
/** train.py for a run. Pure-Python helpers sit at module level so they can be checked without torch. */
export function pythonTrainingScript(c: RunConfig, o: PythonExportOptions): string {
  const t = c.train;
  const es = t.earlyStopping;
  const frozen = [...new Set([...Array(t.freeze.lowestBlocks).keys(), ...t.freeze.blocks])].sort((a, b) => a - b);
  const trainedLayers = [...Array(c.model.arch.nLayer).keys()].filter((i) => !frozen.includes(i));
  const lora = t.method === 'lora';
  const llama = c.model.arch.llama !== undefined;
  const hasVal = c.data.split.val > 0;
  const caveats = notExported(c)
    .map((line) => `  - ${line}`)
    .join('\n');
  return `#!/usr/bin/env python3
"""Fine-tuning exported from LoRA Playground: the browser run's data, ${lora ? 'LoRA adapter' : 'full fine-tuning'}, optimizer and schedule,
run with Hugging Face transformers${lora ? ' + peft' : ''} + accelerate.

    pip install -r requirements.txt
    python train.py                # one GPU or CPU;  accelerate launch train.py  for more

The settings below are the run's config (dotted names as in the playground). Not carried over:
${caveats}
Also different by construction: batch order (torch's shuffling), eval_loss (a mean of batch means, not
token-weighted), and loss normalisation across gradient-accumulation micro-batches in recent transformers.
"""

import json
import math
import os

BASE_MODEL = ${py(o.baseModel)}
DATA_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), ${py(o.dataFile ?? 'data.jsonl')})
OUTPUT_DIR = ${py(o.outputDir ?? 'lora-playground-run')}
SEED = ${py(t.seed)}  # train.seed

# data.*
SEPARATOR = ${py(c.data.separator)}
APPEND_EOS = ${py(c.data.appendEos)}
LOSS_ON_PROMPT_TOKENS = ${py(c.data.lossOnPromptTokens)}
MAX_TOKENS = ${py(c.model.arch.blockSize + 1)}  # model.arch.blockSize + 1: inputs and their next-token targets

# lora.* (train.method = ${py(t.method)})
METHOD = ${py(t.method)}
LORA_R = ${py(c.lora.rank)}
LORA_ALPHA = ${py(c.lora.alpha)}
LORA_DROPOUT = ${py(c.lora.dropout)}
USE_RSLORA = ${py(c.lora.rsLora)}
${
  llama
    ? `# lora.targets ${py(c.lora.targets)}: the Llama layout's q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj`
    : `# lora.targets ${py(c.lora.targets)}: q, k, v are slices of GPT-2's fused c_attn; o = attn.c_proj, up = mlp.c_fc, down = mlp.c_proj`
}
TARGET_MODULES = ${py(peftTargetModules(c.lora.targets, llama))}
LLAMA_LAYOUT = ${py(llama)}  # model.arch.llama: a Llama/Qwen2/Mistral checkpoint (model.layers), else GPT-2 (transformer.h)

# train.freeze.*
FREEZE_EMBEDDINGS = ${py(t.freeze.embeddings)}
FROZEN_BLOCKS = ${py(frozen)}
TRAINED_BLOCKS = ${py(trainedLayers)}

# train.*
OPTIMIZER = ${py(t.optimizer)}
LEARNING_RATE = ${py(t.lr)}
WEIGHT_DECAY = ${py(t.weightDecay)}
ADAM_BETA1 = ${py(t.beta1)}
ADAM_BETA2 = ${py(t.beta2)}
ADAM_EPSILON = ${py(t.epsilon)}
SGD_MOMENTUM = ${py(t.momentum)}
SCHEDULE = ${py(t.schedule)}
WARMUP_STEPS = ${py(t.warmupSteps)}
MIN_LR_RATIO = ${py(t.minLrRatio)}
GRAD_CLIP = ${py(t.gradClip)}  # 0 = off
BATCH_SIZE = ${py(t.batchSize)}
GRAD_ACCUM_STEPS = ${py(t.gradAccumSteps)}
EPOCHS = ${py(t.epochs)}
MAX_STEPS = ${py(t.maxSteps)}  # 0 = derive from EPOCHS

# eval.* and train.earlyStopping.*
EVAL_STEPS = ${py(c.eval.everySteps)}
EVAL_MAX_BATCHES = ${py(c.eval.maxBatches)}  # 0 = the whole validation split
HAS_VALIDATION = ${py(hasVal)}
EARLY_STOPPING = ${py(es.enabled && hasVal)}
PATIENCE = ${py(es.patience)}
MIN_DELTA = ${py(es.minDelta)}


def load_split(split):
    with open(DATA_FILE, encoding="utf-8") as f:
        return [r for r in map(json.loads, f) if r["split"] == split]


def encode(record, encode_text, eos_id):
    """A record as token ids and a loss mask, as the playground's src/core/data/format.ts does it."""
    eos = [eos_id] if APPEND_EOS else []
    if "prompt" in record or "completion" in record:
        prefix = record.get("prompt", "") + SEPARATOR
        prefix_ids = encode_text(prefix)
        ids = encode_text(prefix + record.get("completion", "")) + eos
        # a BPE may merge across the boundary: the completion starts where the two encodings part
        boundary = 0
        while boundary < len(prefix_ids) and prefix_ids[boundary] == ids[boundary]:
            boundary += 1
        mask = [1 if LOSS_ON_PROMPT_TOKENS or i >= boundary else 0 for i in range(len(ids))]
    else:
        ids = encode_text(record.get("text", "")) + eos
        mask = [1] * len(ids)
    return ids[:MAX_TOKENS], mask[:MAX_TOKENS]


def lr_factor(step_index, total_steps):
    """Learning rate / LEARNING_RATE after step_index updates (src/core/train/schedule.ts, steps from 1)."""
    step = step_index + 1
    if step <= WARMUP_STEPS:  # 1) linear warmup
        return step / max(1, WARMUP_STEPS)
    if SCHEDULE == "constant":
        return 1.0
    progress = min(1.0, (step - WARMUP_STEPS) / max(1, total_steps - WARMUP_STEPS))  # 2) 0 -> 1 after warmup
    if SCHEDULE == "linear":  # 3) decay to MIN_LR_RATIO
        return 1.0 - (1.0 - MIN_LR_RATIO) * progress
    return MIN_LR_RATIO + 0.5 * (1.0 - MIN_LR_RATIO) * (1.0 + math.cos(math.pi * progress))


def main():
    import torch
    from torch.optim.lr_scheduler import LambdaLR
    from transformers import AutoModelForCausalLM, AutoTokenizer, EarlyStoppingCallback, Trainer, TrainingArguments, set_seed

    set_seed(SEED)
    tokenizer = AutoTokenizer.from_pretrained(BASE_MODEL)
    # the playground's model has no dropout besides LoRA's
    no_dropout = {} if LLAMA_LAYOUT else dict(resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)  # Llama: attention_dropout 0
    model = AutoModelForCausalLM.from_pretrained(BASE_MODEL, **no_dropout)
    max_tokens = min(MAX_TOKENS, getattr(model.config, "n_positions", None) or model.config.max_position_embeddings)

    if METHOD == "lora":
        from peft import LoraConfig, get_peft_model

        lora_config = LoraConfig(
            r=LORA_R,
            lora_alpha=LORA_ALPHA,
            lora_dropout=LORA_DROPOUT,
            target_modules=TARGET_MODULES,
            use_rslora=USE_RSLORA,
            layers_to_transform=TRAINED_BLOCKS if FROZEN_BLOCKS else None,
            layers_pattern=("layers" if LLAMA_LAYOUT else "h") if FROZEN_BLOCKS else None,
            fan_in_fan_out=not LLAMA_LAYOUT,  # GPT-2's Conv1D stores weights [in, out]; nn.Linear [out, in]
            bias="none",
            task_type="CAUSAL_LM",
        )
        model = get_peft_model(model, lora_config)
    else:
        if FREEZE_EMBEDDINGS and LLAMA_LAYOUT:  # the token embedding and the output head (tied or not)
            model.model.embed_tokens.requires_grad_(False)
            model.lm_head.requires_grad_(False)
        elif FREEZE_EMBEDDINGS:  # token + position embeddings, and so the tied head
            model.transformer.wte.requires_grad_(False)
            model.transformer.wpe.requires_grad_(False)
        blocks = model.model.layers if LLAMA_LAYOUT else model.transformer.h
        for i in FROZEN_BLOCKS:
            blocks[i].requires_grad_(False)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(f"trainable parameters: {trainable:,} of {sum(p.numel() for p in model.parameters()):,}")

    encode_text = lambda s: tokenizer(s, add_special_tokens=False)["input_ids"]

    def examples(split, limit=0):
        records = load_split(split)
        rows = []
        for r in records[:limit] if limit > 0 else records:
            ids, mask = encode(r, encode_text, tokenizer.eos_token_id)
            ids, mask = ids[:max_tokens], mask[:max_tokens]
            rows.append({"input_ids": ids, "labels": [t if m else -100 for t, m in zip(ids, mask)]})
        return rows

    def collate(rows):
        width = max(len(r["input_ids"]) for r in rows)
        pad = lambda xs, value: xs + [value] * (width - len(xs))
        return {
            "input_ids": torch.tensor([pad(r["input_ids"], tokenizer.eos_token_id) for r in rows]),
            "attention_mask": torch.tensor([pad([1] * len(r["input_ids"]), 0) for r in rows]),
            "labels": torch.tensor([pad(r["labels"], -100) for r in rows]),
        }

    class PlaygroundTrainer(Trainer):
        def create_optimizer(self):
            if self.optimizer is None:
                # as src/core/train/freeze.ts: no weight decay on biases, norm gains, embeddings and an untied head
                decay, no_decay = [], []
                for name, p in self.model.named_parameters():
                    if p.requires_grad:
                        embedding = any(k in name for k in (".wte.", ".wpe.", "embed_tokens", "lm_head"))
                        (no_decay if p.ndim < 2 or embedding else decay).append(p)
                groups = [{"params": decay, "weight_decay": WEIGHT_DECAY}, {"params": no_decay, "weight_decay": 0.0}]
                if OPTIMIZER == "sgd":  # SGD with momentum, L2 weight decay
                    self.optimizer = torch.optim.SGD(groups, lr=LEARNING_RATE, momentum=SGD_MOMENTUM)
                else:  # AdamW, decoupled weight decay
                    self.optimizer = torch.optim.AdamW(groups, lr=LEARNING_RATE, betas=(ADAM_BETA1, ADAM_BETA2), eps=ADAM_EPSILON)
            return self.optimizer

        def create_scheduler(self, num_training_steps, optimizer=None):
            if self.lr_scheduler is None:
                opt = optimizer if optimizer is not None else self.optimizer
                self.lr_scheduler = LambdaLR(opt, lambda i: lr_factor(i, num_training_steps))
            return self.lr_scheduler

    train_rows = examples("train")
    val_rows = examples("val", EVAL_MAX_BATCHES * BATCH_SIZE) if HAS_VALIDATION else []
    test_rows = examples("test")
    evaluating = len(val_rows) > 0
    args = TrainingArguments(
        output_dir=OUTPUT_DIR,
        seed=SEED,
        data_seed=SEED,
        learning_rate=LEARNING_RATE,
        weight_decay=WEIGHT_DECAY,
        adam_beta1=ADAM_BETA1,
        adam_beta2=ADAM_BETA2,
        adam_epsilon=ADAM_EPSILON,
        lr_scheduler_type=SCHEDULE if SCHEDULE != "constant" else "constant_with_warmup",  # replaced by lr_factor
        warmup_steps=WARMUP_STEPS,
        max_grad_norm=GRAD_CLIP,
        per_device_train_batch_size=BATCH_SIZE,
        per_device_eval_batch_size=BATCH_SIZE,
        gradient_accumulation_steps=GRAD_ACCUM_STEPS,
        num_train_epochs=EPOCHS,
        max_steps=MAX_STEPS if MAX_STEPS > 0 else -1,
        eval_strategy="steps" if evaluating else "no",
        eval_steps=EVAL_STEPS,
        save_strategy="steps" if evaluating else "no",
        save_steps=EVAL_STEPS,
        save_total_limit=2,
        load_best_model_at_end=EARLY_STOPPING and evaluating,  # restores the best evaluation's weights
        metric_for_best_model="eval_loss",
        greater_is_better=False,
        logging_steps=1,
        report_to="none",
        remove_unused_columns=False,
    )
    callbacks = [EarlyStoppingCallback(early_stopping_patience=PATIENCE, early_stopping_threshold=MIN_DELTA)] if EARLY_STOPPING and evaluating else []
    trainer = PlaygroundTrainer(
        model=model,
        args=args,
        train_dataset=train_rows,
        eval_dataset=val_rows or None,
        data_collator=collate,
        callbacks=callbacks,
    )
    trainer.train()
    if evaluating:
        print("validation:", trainer.evaluate())
    if test_rows:
        print("test:", trainer.evaluate(test_rows, metric_key_prefix="test"))
    final = os.path.join(OUTPUT_DIR, "final")
    trainer.save_model(final)  # LoRA: adapter_config.json + adapter_model.safetensors
    tokenizer.save_pretrained(final)
    print("saved to", final)


if __name__ == "__main__":
    main()
`;
}

// accelerate >= 1.1: transformers 4.46 refuses TrainingArguments(data_seed=...) with an older one (seen with 1.0.1);
// tests/python/requirements.txt pins the set this script is run with in CI.
export const PYTHON_REQUIREMENTS = 'torch\ntransformers>=4.41\npeft>=0.10\naccelerate>=1.1.0\n';

/** The three files of the project: train.py, the data file, requirements.txt. `records`: the run's splits. */
export function exportPythonProject(
  c: RunConfig,
  records: Splits<DataRecord>,
  o: PythonExportOptions,
): Record<string, string> {
  return {
    'train.py': pythonTrainingScript(c, o),
    [o.dataFile ?? 'data.jsonl']: datasetJsonl(records),
    'requirements.txt': PYTHON_REQUIREMENTS,
  };
}
