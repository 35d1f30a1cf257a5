// The CLI on a user's own work, run as typed (`npm run -s train -- ...`): --data prints the page's report and
// names bad lines by number while training on the rest; a progress bar on a terminal; --model trains an imported GPT-2 folder; --out writes
// an adapter that loads back through the PEFT importer and gives the run's own validation loss, a run.json the
// page's Runs panel accepts, curves.csv with the run's steps, and a lesson's diagnosis.

import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diskLoader } from '../../src/core/assets';
import type { RunConfig } from '../../src/core/config';
import { parseDataset } from '../../src/core/data/parse';
import { evalLoss } from '../../src/core/eval/evaluate';
import { exportHfGpt2, importHfGpt2 } from '../../src/core/import/hf-gpt2';
import { importHfModel } from '../../src/core/import/hf';
import { importPeftAdapter } from '../../src/core/import/peft';
import { readSafetensors } from '../../src/core/model/safetensors';
import { paramShapes } from '../../src/core/model/gpt';
import { Rng } from '../../src/core/rng';
import { Session } from '../../src/core/session';
import type { EvalEvent, StepEvent } from '../../src/core/train/types';
import { isRun } from '../../src/ui/runs';
import { fixtureFiles, fixtureTokenizer } from '../helpers/gpt2-tiny';
import { jsonLines, npmRun, shellRun } from '../helpers/npm-run';
import { maxAbsDiff } from '../helpers/tiny';

let dir: string;
/** config.json + model.safetensors of the tiny GPT-2 fixture in a folder of their own. */
function fixtureFolder(name: string): string {
  const folder = join(dir, name);
  mkdirSync(folder);
  for (const f of ['config.json', 'model.safetensors'])
    copyFileSync(new URL(`../fixtures/gpt2-tiny/${f}`, import.meta.url), join(folder, f));
  return folder;
}
const sums = (n: number) =>
  Array.from({ length: n }, (_, i) => JSON.stringify({ prompt: `${i}+${i}=`, completion: String(2 * i) }));

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lora-cli-'));
  // the tiny GPT-2 fixture as a model folder, with this engine's character tokenizer for its 50 ids
  const model = fixtureFolder('gpt2-tiny');
  writeFileSync(join(model, 'tokenizer.json'), JSON.stringify(fixtureTokenizer().toJSON()));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run train -- --data FILE', () => {
  it('JSONL on an imported GPT-2 folder: line 5 reported, the other 30 records trained, --out loads back', async () => {
    const lines = sums(30);
    lines.splice(4, 0, '{"prompt": "5+5=", '); // line 5: cut off
    const data = join(dir, 'sums.jsonl');
    writeFileSync(data, lines.join('\n') + '\n');
    const out = join(dir, 'out');
    const r = await npmRun(
      [
        'run',
        '-s',
        'train',
        '--',
        '--data',
        data,
        '--model',
        join(dir, 'gpt2-tiny'),
        '--set',
        'train.maxSteps=3',
        '--set',
        'eval.everySteps=3',
        '--set',
        'lora.dropout=0',
        '--out',
        out,
        '--json',
      ],
      { timeoutMs: 90_000 },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const events = jsonLines(r.stdout);
    expect(events.map((e) => e.type)).toEqual(['data', 'step', 'step', 'step', 'eval', 'saved', 'end']);
    const report = events[0] as unknown as { records: number; errors: { line: number; message: string }[] };
    expect(report.records).toBe(30);
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0].line).toBe(5);
    expect(report.errors[0].message).toMatch(/^line 5: not valid JSON/);
    expect(events.find((e) => e.type === 'saved')!.files).toEqual([
      'adapter/adapter_config.json',
      'adapter/adapter_model.safetensors',
      'run.json',
      'curves.csv',
    ]);

    // run.json is a run the page imports; it trained on the imported model and the 30 good records
    const saved = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    expect(saved.format).toBe('lora-playground-runs');
    const run = saved.runs[0];
    expect(isRun(run)).toBe(true);
    expect(run.config.model.name).toBe('gpt2-tiny');
    expect(run.steps).toHaveLength(3);
    // curves.csv: a header and one row per step, the losses of the run
    const csv = readFileSync(join(out, 'curves.csv'), 'utf8').trim().split('\n');
    expect(csv[0].split(',').slice(0, 3)).toEqual(['step', 'epoch', 'loss']);
    expect(csv.slice(1).map((l) => Number(l.split(',')[2]))).toEqual(run.steps.map((s: StepEvent) => s.loss));

    // the adapter, through the page's PEFT import, gives the validation loss the run reported at its last step
    // (the CLI trained on wasm; this evaluates on cpu)
    const session = await Session.create({ loader: await diskLoader(), backend: 'cpu' });
    await session.useModel(await importHfGpt2(fixtureFiles(), { name: 'gpt2-tiny', tokenizer: fixtureTokenizer() }));
    const records = parseDataset(readFileSync(data, 'utf8'), { fileName: data }).records;
    const prepared = await session.prepare(run.config as RunConfig, records);
    const adapter = (f: string) => new Uint8Array(readFileSync(join(out, 'adapter', f)));
    const { lora } = importPeftAdapter(
      {
        'adapter_config.json': adapter('adapter_config.json'),
        'adapter_model.safetensors': adapter('adapter_model.safetensors'),
      },
      session.model.arch,
    );
    const view = { ...session.baseView(), lora };
    const last = run.evals.at(-1) as EvalEvent;
    expect(last.step).toBe(3);
    const c = prepared.config;
    const base = await evalLoss(session.baseView(), prepared.data.val, c.train.batchSize, c.eval.maxBatches);
    const tuned = await evalLoss(view, prepared.data.val, c.train.batchSize, c.eval.maxBatches);
    expect(Math.abs(tuned - last.valLoss)).toBeLessThan(1e-4);
    expect(Math.abs(tuned - base)).toBeGreaterThan(1e-3); // the adapter is the trained one, not a zero one
    lora.dispose();
    session.dispose();
  });

  it('CSV on the built-in model: the report as the page words it, the bad row by line number, plain step lines', async () => {
    const data = join(dir, 'pets.csv');
    const rows = ['prompt,completion', ...Array.from({ length: 12 }, (_, i) => `Pet ${i}?,cat ${i}`)];
    rows.splice(3, 0, 'Who, me?,yes'); // line 4: three fields
    writeFileSync(data, rows.join('\n') + '\n');
    const r = await npmRun(
      ['run', '-s', 'train', '--', '--data', data, '--set', 'train.maxSteps=2', '--set', 'eval.everySteps=2'],
      { timeoutMs: 90_000 },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^pets\.csv \(CSV\)\n {2}Usable records +12\n {2}Lines with errors +1\n/);
    expect(r.stdout).toContain('Parse errors\n  line 4: has 3 fields but the header has 2');
    expect(r.stdout).toMatch(/; 10 train \/ 1 val examples; 2 steps\n/); // 12 good records, the default 80/10/10 split
    expect(r.stdout).toMatch(/\nstep 1\/2 {2}loss [\d.]+ .*ETA \d+s\n/);
    expect(r.stdout).toMatch(/\nstep 2\/2 /);
    expect(r.stdout).not.toContain('\r'); // not a terminal: no bar redrawn in place
    expect(r.stdout).toContain('Completed 2 steps.');
  });

  it('a GPT-2-vocabulary folder (its tokenizer.json checked) trains on a TXT file; full fine-tuning with --out writes the model, which loads back', async () => {
    // a random GPT-2-shaped checkpoint with GPT-2's 50,257-token vocabulary, 8 wide, and a tokenizer.json to check
    const arch = { vocabSize: 50257, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 8, mlpRatio: 4, layerNormEps: 1e-5 };
    const rng = new Rng(9);
    const weights = new Map(
      paramShapes(arch).map(([name, shape]) => [
        name,
        { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).map(() => rng.normal() * 0.1) },
      ]),
    );
    const folder = join(dir, 'gpt2-vocab');
    mkdirSync(folder);
    const files = exportHfGpt2(arch, weights, { eosId: 50256 });
    writeFileSync(join(folder, 'config.json'), files['config.json']);
    writeFileSync(join(folder, 'model.safetensors'), files['model.safetensors']);
    writeFileSync(
      join(folder, 'tokenizer.json'),
      JSON.stringify({ model: { type: 'BPE', vocab: { Hello: 15496, Ġworld: 995, '<|endoftext|>': 50256 } } }),
    );
    const data = join(dir, 'hello.txt');
    writeFileSync(
      data,
      Array.from({ length: 12 }, (_, i) => `Hello world number ${i}, and a few more words.`).join('\n\n'),
    );
    const out = join(dir, 'full');
    const r = await npmRun(
      [
        'run',
        '-s',
        'train',
        '--',
        '--model',
        folder,
        '--data',
        data,
        '--set',
        'train.method=full',
        '--set',
        'train.freeze.embeddings=false',
        '--set',
        'train.maxSteps=2',
        '--set',
        'eval.general=false',
        '--out',
        out,
        '--json',
      ],
      { timeoutMs: 120_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    const events = jsonLines(r.stdout);
    expect((events[0] as unknown as { format: string; records: number }).format).toBe('txt');
    expect(events.find((e) => e.type === 'saved')!.files).toEqual([
      'model/config.json',
      'model/model.safetensors',
      'run.json',
      'curves.csv',
    ]);
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).runs[0];
    expect(run.config.model.name).toBe('gpt2-vocab');
    expect(run.totalParams).toBe(paramShapes(arch).reduce((n, [, sh]) => n + sh.reduce((a, b) => a * b, 1), 0));
    const saved = await importHfGpt2(
      {
        'config.json': readFileSync(join(out, 'model/config.json'), 'utf8'),
        'model.safetensors': new Uint8Array(readFileSync(join(out, 'model/model.safetensors'))),
      },
      { name: 'tuned' },
    );
    expect(saved.tokenizer.kind).toBe('gpt2-bpe');
    const tuned = await saved.model.weights();
    // two full steps changed the weights, embeddings included
    for (const name of ['wte.weight', 'h.0.attn.c_attn.weight'])
      expect(maxAbsDiff(tuned.get(name)!.data, weights.get(name)!.data), name).toBeGreaterThan(1e-4);
    saved.model.dispose();
  });

  it("a Llama-layout folder (sharded weights, its own tokenizer.json) trains LoRA on q, v and the gate; the adapter has PEFT's names and loads back", async () => {
    const folder = new URL('../fixtures/llama-tiny', import.meta.url).pathname;
    const data = join(dir, 'sums-llama.jsonl');
    writeFileSync(data, sums(20).join('\n') + '\n');
    const out = join(dir, 'llama');
    const r = await npmRun(
      [
        'run',
        '-s',
        'train',
        '--',
        '--model',
        folder,
        '--data',
        data,
        '--set',
        'lora.targets=q,v,gate',
        '--set',
        'train.maxSteps=2',
        '--set',
        'lora.dropout=0',
        '--out',
        out,
        '--json',
      ],
      { timeoutMs: 90_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(jsonLines(r.stdout).map((e) => e.type)).toEqual(['data', 'step', 'step', 'eval', 'saved', 'end']);
    const files = {
      'adapter_config.json': readFileSync(join(out, 'adapter', 'adapter_config.json'), 'utf8'),
      'adapter_model.safetensors': new Uint8Array(readFileSync(join(out, 'adapter', 'adapter_model.safetensors'))),
    };
    const cfg = JSON.parse(files['adapter_config.json']);
    expect(cfg.target_modules).toEqual(['q_proj', 'v_proj', 'gate_proj']);
    expect(cfg.fan_in_fan_out).toBe(false);
    const names = [...readSafetensors(files['adapter_model.safetensors']).tensors.keys()].sort();
    expect(names).toHaveLength(2 * 2 * 3); // 2 blocks × 3 projections × A and B
    expect(names[0]).toBe('base_model.model.model.layers.0.mlp.gate_proj.lora_A.weight');
    const loaded = await importHfModel(
      Object.fromEntries(
        readdirSync(folder).map((f) => [
          f,
          f.endsWith('.json') ? readFileSync(join(folder, f), 'utf8') : new Uint8Array(readFileSync(join(folder, f))),
        ]),
      ),
      { name: 'llama-tiny' },
    );
    const { lora } = importPeftAdapter(files, loaded.model.arch);
    expect(lora.cfg.targets).toEqual(['q', 'v', 'gate']);
    // two steps moved every B off zero
    for (const ad of lora.adapters)
      expect(Math.max(...((await ad.B.data()) as Float32Array).map(Math.abs))).toBeGreaterThan(0);
    lora.dispose();
    loaded.model.dispose();
  });

  it('on a terminal: a progress bar redrawn in place, with steps done and ETA', async () => {
    // script(1) gives the command a pseudo-terminal, as a user's shell would
    const r = await shellRun(
      `script -qec "npm run -s train -- --set train.maxSteps=4 --set eval.everySteps=4" /dev/null`,
      { timeoutMs: 90_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    const bars = r.stdout.split('\r').filter((l) => l.startsWith('['));
    expect(bars.map((b) => /^\[([#-]{24})\] (\d)\/4 .* ETA \d+s/.exec(b)?.slice(1, 3))).toEqual([
      ['######------------------', '1'],
      ['############------------', '2'],
      ['##################------', '3'],
      ['########################', '4'],
    ]);
  });

  it('a lesson with --out also writes its diagnosis, the one its end event carries', async () => {
    const out = join(dir, 'lesson');
    const r = await npmRun(
      ['run', '-s', 'train', '--', '--lesson', 'overfitting', '--set', 'train.maxSteps=3', '--out', out, '--json'],
      { timeoutMs: 90_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    const end = jsonLines(r.stdout).at(-1)!;
    expect(end.type).toBe('end');
    expect(typeof end.diagnosis).toBe('string');
    expect(readFileSync(join(out, 'diagnosis.txt'), 'utf8')).toBe(`overfitting (pitfall): ${end.diagnosis}\n`);
    expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).runs[0].steps).toHaveLength(3);
  });

  it('a mistyped option is an error naming it and the accepted ones, not a run on the built-in data', async () => {
    const r = await npmRun(['run', '-s', 'train', '--', '--dat', 'my.jsonl'], { timeoutMs: 60_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'error: "--dat" is not an option of npm run train; accepted: --config, --lesson, --variant, --set, --backend, --data, --model, --out, --json, --help',
    );
    expect(r.stdout).toBe('');
  });

  it('refuses a model folder whose vocabulary needs a tokenizer it lacks, saying what to add', async () => {
    const bare = fixtureFolder('bare');
    const r = await npmRun(['run', '-s', 'train', '--', '--model', bare, '--set', 'train.maxSteps=1'], {
      timeoutMs: 60_000,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--model ${bare}: config.json: vocab_size 50 is smaller than GPT-2's 50257 tokens`);
    expect(r.stderr).toContain('tokenizer.json ({"kind": "char"');
  });
});
