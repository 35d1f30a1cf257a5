// "Beyond the browser": the exported train.py carries the run's settings, data.jsonl its splits; with a python3
// at hand (no torch needed) the script compiles, and its schedule and encoding agree with schedule.ts/format.ts.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfig, mergeConfig, type DeepPartial, type RunConfig } from '../../src/core/config';
import { formatRecord } from '../../src/core/data/format';
import type { DataRecord } from '../../src/core/data/types';
import { datasetJsonl, exportPythonProject, pythonTrainingScript } from '../../src/core/import/python-export';
import { CharTokenizer } from '../../src/core/tokenizer/char';
import { lrAt } from '../../src/core/train/schedule';

const config = (over: DeepPartial<RunConfig>) => mergeConfig(defaultConfig(), over);

const LORA_RUN = config({
  lora: { rank: 8, alpha: 16, dropout: 0.05, targets: ['q', 'v', 'down'], rsLora: true },
  train: {
    lr: 2e-4,
    weightDecay: 0.01,
    schedule: 'cosine',
    warmupSteps: 10,
    minLrRatio: 0.1,
    gradClip: 0.5,
    batchSize: 4,
    gradAccumSteps: 2,
    epochs: 2.5,
    seed: 1234,
    earlyStopping: { enabled: true, patience: 2, minDelta: 0.001, metric: 'valLoss', restoreBest: true },
  },
  data: { separator: '\nA: ', lossOnPromptTokens: false },
  eval: { everySteps: 5, maxBatches: 3, general: false },
});
const FULL_RUN = config({
  train: {
    method: 'full',
    optimizer: 'sgd',
    momentum: 0.8,
    lr: 0.05,
    schedule: 'linear',
    maxSteps: 40,
    freeze: { embeddings: true, lowestBlocks: 1, blocks: [3], gradualUnfreezeEvery: 0, layerLrDecay: 0.9 },
    klToBase: 0.1,
  },
  data: { split: { train: 0.9, val: 0, test: 0.1 }, generalMix: 0.2 },
});

const records: { train: DataRecord[]; val: DataRecord[]; test: DataRecord[] } = {
  train: [
    { id: 'train-1', prompt: 'What is 2+2?', completion: '4' },
    { id: 'train-2', prompt: 'Capital of France?', completion: 'Paris', flags: { noisy: true } },
    { id: 'train-3', text: 'Plain text, "quoted" and\ttabbed.' },
  ],
  val: [{ id: 'val-1', prompt: 'café?', completion: 'oui 😀' }],
  test: [{ id: 'test-1', prompt: 'x', completion: 'y' }],
};

/** A python3 that runs, or null (then the Python checks are skipped, saying so). */
function findPython(): string | null {
  for (const cmd of ['/usr/bin/python3', 'python3']) {
    if (spawnSync(cmd, ['--version']).status === 0) return cmd;
  }
  return null;
}
const python = findPython();

describe('train.py', () => {
  it('carries the LoRA run: PEFT config, optimizer, schedule, batches, evaluation, early stopping, seed', () => {
    const s = pythonTrainingScript(LORA_RUN, { baseModel: 'distilgpt2' });
    for (const line of [
      'BASE_MODEL = "distilgpt2"',
      'SEED = 1234',
      'SEPARATOR = "\\nA: "',
      'APPEND_EOS = True',
      'LOSS_ON_PROMPT_TOKENS = False',
      'MAX_TOKENS = 129',
      'METHOD = "lora"',
      'LORA_R = 8',
      'LORA_ALPHA = 16',
      'LORA_DROPOUT = 0.05',
      'USE_RSLORA = True',
      'TARGET_MODULES = ["c_attn", "mlp.c_proj"]',
      'OPTIMIZER = "adamw"',
      'LEARNING_RATE = 0.0002',
      'WEIGHT_DECAY = 0.01',
      'ADAM_EPSILON = 1e-8',
      'SCHEDULE = "cosine"',
      'WARMUP_STEPS = 10',
      'MIN_LR_RATIO = 0.1',
      'GRAD_CLIP = 0.5',
      'BATCH_SIZE = 4',
      'GRAD_ACCUM_STEPS = 2',
      'EPOCHS = 2.5',
      'MAX_STEPS = 0',
      'EVAL_STEPS = 5',
      'EVAL_MAX_BATCHES = 3',
      'EARLY_STOPPING = True',
      'PATIENCE = 2',
      'MIN_DELTA = 0.001',
      'r=LORA_R,',
      'lora_alpha=LORA_ALPHA,',
      'lora_dropout=LORA_DROPOUT,',
      'target_modules=TARGET_MODULES,',
      'use_rslora=USE_RSLORA,',
      'LLAMA_LAYOUT = False',
      'fan_in_fan_out=not LLAMA_LAYOUT,',
      'EarlyStoppingCallback(early_stopping_patience=PATIENCE, early_stopping_threshold=MIN_DELTA)',
      'load_best_model_at_end=EARLY_STOPPING and evaluating,',
      'metric_for_best_model="eval_loss",',
      'learning_rate=LEARNING_RATE,',
      'warmup_steps=WARMUP_STEPS,',
      'max_grad_norm=GRAD_CLIP,',
      'per_device_train_batch_size=BATCH_SIZE,',
      'gradient_accumulation_steps=GRAD_ACCUM_STEPS,',
      'num_train_epochs=EPOCHS,',
      'eval_steps=EVAL_STEPS,',
      'seed=SEED,',
    ]) {
      expect(s, line).toContain(line);
    }
    // q and v share c_attn in PEFT: the script says so rather than pretending otherwise
    expect(s).toContain(`lora.targets ["q","v","down"]: PEFT adapts GPT-2's fused c_attn as a whole`);
  });

  it('carries a full fine-tune with SGD and frozen blocks, and lists what it cannot carry', () => {
    const s = pythonTrainingScript(FULL_RUN, { baseModel: 'gpt2', outputDir: 'out' });
    for (const line of [
      'METHOD = "full"',
      'OPTIMIZER = "sgd"',
      'SGD_MOMENTUM = 0.8',
      'LEARNING_RATE = 0.05',
      'SCHEDULE = "linear"',
      'MAX_STEPS = 40',
      'FREEZE_EMBEDDINGS = True',
      'FROZEN_BLOCKS = [0, 3]',
      'TRAINED_BLOCKS = [1, 2]',
      'HAS_VALIDATION = False',
      'EARLY_STOPPING = False',
      'OUTPUT_DIR = "out"',
    ]) {
      expect(s, line).toContain(line);
    }
    for (const caveat of [
      'train.freeze.layerLrDecay = 0.9',
      'train.klToBase = 0.1',
      'data.generalMix = 0.2',
      'eval.general',
      'train.divergenceFactor = 4',
    ])
      expect(s).toContain(caveat);
  });

  it('data.jsonl holds every split, one record per line, flags included', () => {
    const lines = datasetJsonl(records)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.split, l.id])).toEqual([
      ['train', 'train-1'],
      ['train', 'train-2'],
      ['train', 'train-3'],
      ['val', 'val-1'],
      ['test', 'test-1'],
    ]);
    expect(lines[1]).toEqual({
      split: 'train',
      id: 'train-2',
      prompt: 'Capital of France?',
      completion: 'Paris',
      flags: { noisy: true },
    });
    const files = exportPythonProject(LORA_RUN, records, { baseModel: 'gpt2' });
    expect(Object.keys(files).sort()).toEqual(['data.jsonl', 'requirements.txt', 'train.py']);
    expect(files['requirements.txt']).toContain('peft');
  });

  (python ? it : it.skip)(
    `compiles, and its lr schedule and encoding match the browser's (python3: ${python ?? 'not found, skipped'})`,
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'lora-py-'));
      try {
        for (const [name, c] of [
          ['lora_run', LORA_RUN],
          ['full_run', FULL_RUN],
        ] as const) {
          const files = exportPythonProject(c, records, { baseModel: 'gpt2' });
          writeFileSync(join(dir, `${name}.py`), files['train.py']);
          writeFileSync(join(dir, 'data.jsonl'), files['data.jsonl']);
          const compiled = spawnSync(python!, ['-m', 'py_compile', join(dir, `${name}.py`)], { encoding: 'utf8' });
          expect(compiled.stderr).toBe('');
          expect(compiled.status).toBe(0);
        }
        // import the module (torch is only imported inside main()) and run its pure-Python helpers
        const tok = new CharTokenizer();
        const total = 37;
        const check = `
import json, sys
sys.path.insert(0, ${JSON.stringify(dir)})
import lora_run as m
chars = json.loads(sys.argv[1])
table = {ch: i + 2 for i, ch in enumerate(chars)}
enc = lambda s: [table.get(ch, 1) for ch in s]
out = {"lr": [m.lr_factor(i, ${total}) for i in range(${total})],
       "examples": [m.encode(r, enc, 0) for split in ("train", "val", "test") for r in m.load_split(split)]}
print(json.dumps(out))`;
        const run = spawnSync(python!, ['-c', check, JSON.stringify(tok.chars)], { encoding: 'utf8' });
        expect(run.stderr).toBe('');
        const got = JSON.parse(run.stdout) as { lr: number[]; examples: [number[], number[]][] };
        const want = Array.from({ length: total }, (_, i) => lrAt(i + 1, total, LORA_RUN.train) / LORA_RUN.train.lr);
        got.lr.forEach((f, i) => expect(f, `step ${i + 1}`).toBeCloseTo(want[i], 12));
        const fmt = {
          separator: LORA_RUN.data.separator,
          appendEos: true,
          lossOnPromptTokens: false,
          blockSize: LORA_RUN.model.arch.blockSize,
        };
        const all = [...records.train, ...records.val, ...records.test];
        expect(got.examples).toEqual(all.map((r) => formatRecord(r, tok, fmt)).map((e) => [e.ids, e.lossMask]));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
