// Every command in the README's Commands table, run as written (through bash, from the repository root) with a
// short budget, checked against what the table says it does. Long-running commands are ended once they have
// proved themselves (a server answers, step events arrive). A command added to the table without a case here
// fails the first test. Placeholders are filled in (run.json, my.jsonl, DIR) and optional [flags] chosen per
// case; each case says which.

import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureTokenizer } from '../helpers/gpt2-tiny';
import { jsonLines, shellRun } from '../helpers/npm-run';

const ROOT = new URL('../..', import.meta.url).pathname;
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
/** The first cell of each row of the "## Commands" table, without its backticks. */
const tableCommands = readme
  .split('## Commands')[1]
  .split('\n\n')[0]
  .split('\n')
  .filter((l) => l.startsWith('| `'))
  .map((l) => /^\| `([^`]+)`/.exec(l)![1]);

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'lora-readme-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const steps = (out: string) => jsonLines(out).filter((e) => e.type === 'step');
const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : [join(dir, f)]));
const digest = (dir: string) =>
  Object.fromEntries(
    files(dir).map((f) => [relative(dir, f), createHash('sha256').update(readFileSync(f)).digest('hex')]),
  );

/** A server command: wait for its "Local: http://localhost:PORT/" line, then fetch the page from it. */
async function serves(line: string, check: (res: Response, body: string) => void) {
  let failure: unknown = null;
  let checked = false;
  const r = await shellRun(line, {
    timeoutMs: 120_000,
    until: async (out) => {
      const url = /Local:\s+(http:\/\/localhost:\d+\/)/.exec(out.replace(/\x1b\[[0-9;]*m/g, ''))?.[1];
      if (!url) return false;
      try {
        const res = await fetch(url);
        check(res, await res.text());
        checked = true;
      } catch (e) {
        failure = e;
      }
      return true;
    },
  });
  if (failure) throw failure;
  expect(checked, `no server answered; output:\n${r.stdout}\n${r.stderr}`).toBe(true);
}

// README command → [the line run (placeholders filled in), what the table promises, as a check]
const CASES: Record<string, [string | null, (line: string) => Promise<void>]> = {
  'npm start': [
    'npm start',
    async (line) => {
      await serves(line, (res, body) => {
        expect(res.status).toBe(200);
        expect(body).toContain('<div id="app"></div>');
        expect(body).toMatch(/<script type="module" crossorigin src="\/assets\/index-[\w-]+\.js">/); // the production build
        expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
        expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
      });
    },
  ],
  'npm run build': [
    'npm run build -- --outDir BUILD_DIR',
    async (line) => {
      // --outDir keeps the check's output away from dist/ (a user's build may be there)
      const out = join(tmp, 'build');
      const r = await shellRun(line.replace('BUILD_DIR', out), { timeoutMs: 180_000 });
      expect(r.code, r.stderr).toBe(0);
      const built = files(out).map((f) => relative(out, f));
      expect(built).toContain('index.html');
      expect(built).toContain('sw.js'); // the service worker that makes it work offline
      expect(built).toContain('manifest.webmanifest');
      expect(built).toContain('models/tiny-world/model.safetensors');
      expect(built.some((f) => /^assets\/trainer\.worker-.*\.js$/.test(f))).toBe(true);
    },
  ],
  'npm run dev': [
    'npm run dev',
    async (line) => {
      await serves(line, (res, body) => {
        expect(res.status).toBe(200);
        expect(body).toContain('/@vite/client'); // the dev server, with hot reload
      });
    },
  ],
  // this file runs inside `npm test`; running it here would recurse. `bash .ci/run` runs it on a fresh clone.
  'npm test': [null, async () => {}],
  'npm run train -- --config run.json --set train.lr=1e-3 --backend wasm [--json]': [
    'npm run train -- --config RUN_JSON --set train.lr=1e-3 --backend wasm --json',
    async (line) => {
      writeFileSync(join(tmp, 'run.json'), JSON.stringify({ train: { batchSize: 4 } }));
      const r = await shellRun(line.replace('RUN_JSON', join(tmp, 'run.json')), {
        timeoutMs: 60_000,
        until: (out) => steps(out).length >= 3,
      });
      expect(r.endedEarly, r.stderr).toBe(true);
      // --set reached the trainer: every step used lr 1e-3 (the default is 3e-3)
      expect(steps(r.stdout).map((e) => e.lr)).toEqual([1e-3, 1e-3, 1e-3]);
    },
  ],
  'npm run train -- --lesson overfitting --variant pitfall --json': [
    'npm run train -- --lesson overfitting --variant pitfall --json',
    async (line) => {
      const r = await shellRun(line, { timeoutMs: 60_000, until: (out) => steps(out).length >= 3 });
      expect(r.endedEarly, r.stderr).toBe(true);
      expect(r.ms).toBeLessThan(30_000);
      const s = steps(r.stdout);
      expect(s.map((e) => e.step)).toEqual([1, 2, 3]);
      expect(s.every((e) => e.lr === 3e-3 && Number.isFinite(e.loss))).toBe(true); // the lesson's lr, not the default's
      // before the first step only npm's banner for `train`: no pre-script (a `pretrain` script ran 23 minutes here)
      const before = r.stdout
        .slice(0, r.stdout.indexOf('{"type":"step"'))
        .split('\n')
        .filter((l) => l.trim() !== '');
      expect(before).toEqual([
        '> lora-playground@0.1.0 train',
        '> tsx scripts/train.ts --lesson overfitting --variant pitfall --json',
      ]);
    },
  ],
  'npm run train -- --data my.jsonl [--model DIR] [--out DIR]': [
    'npm run train -- --data MY_JSONL --model MODEL_DIR --out OUT_DIR --set train.maxSteps=2',
    async (line) => {
      const data = join(tmp, 'my.jsonl');
      writeFileSync(
        data,
        [
          '{"prompt": "2+2=", "completion": "4"}',
          'not json',
          ...Array.from({ length: 12 }, (_, i) => JSON.stringify({ prompt: `${i}+1=`, completion: String(i + 1) })),
        ].join('\n'),
      );
      const model = join(tmp, 'gpt2-tiny');
      mkdirSync(model);
      for (const f of ['config.json', 'model.safetensors'])
        copyFileSync(join(ROOT, 'tests/fixtures/gpt2-tiny', f), join(model, f));
      writeFileSync(join(model, 'tokenizer.json'), JSON.stringify(fixtureTokenizer().toJSON()));
      const out = join(tmp, 'out');
      const r = await shellRun(line.replace('MY_JSONL', data).replace('MODEL_DIR', model).replace('OUT_DIR', out), {
        timeoutMs: 90_000,
      });
      expect(r.code, r.stderr).toBe(0);
      const report = r.stdout.indexOf('Usable records            13');
      expect(report).toBeGreaterThanOrEqual(0);
      expect(r.stdout).toContain('line 2: not valid JSON');
      expect(r.stdout.indexOf('step 1/2')).toBeGreaterThan(report); // the report comes before training
      expect(r.stdout).toContain('model gpt2-tiny (');
      for (const f of ['adapter/adapter_config.json', 'adapter/adapter_model.safetensors', 'run.json', 'curves.csv'])
        expect(existsSync(join(out, f)), f).toBe(true);
    },
  ],
  'npm run lessons:verify -- --lesson batch-size --seeds 1,2,3 [--write]': [
    // one seed, without --write (docs/LESSONS.md stays as committed); ended after its first run's verdict line
    'npm run lessons:verify -- --lesson batch-size --seeds 1 2>&1',
    async (line) => {
      const verdict = /batch-size \/ pitfall \/ seed 1: \d+ s; (pitfall seen|no pitfall): \S/;
      const r = await shellRun(line, { timeoutMs: 180_000, until: (out) => verdict.test(out) });
      expect(r.endedEarly, r.stdout + r.stderr).toBe(true);
    },
  ],
  'npm run -s bench [-- --json] [--steps 12] [--backends wasm,cpu] [--sizes tiny-world,ref-0.8M[,small-world,gpt-135M,llama-135M]]': [
    'npm run -s bench -- --json --steps 3 --backends wasm --sizes tiny-world',
    async (line) => {
      const r = await shellRun(line, { timeoutMs: 90_000 });
      expect(r.code, r.stderr).toBe(0);
      const { steps: n, rows } = JSON.parse(r.stdout); // -s: stdout is the JSON alone
      expect(n).toBe(3);
      expect(
        rows.map((x: { backend: string; size: string; method: string }) => `${x.backend} ${x.size} ${x.method}`),
      ).toEqual(['wasm tiny-world lora', 'wasm tiny-world full']);
      for (const x of rows) {
        expect(x.msPerStep).toBeGreaterThan(0);
        // msPerStep is rounded to 0.1 ms in the output; tokens/s comes from the unrounded median
        expect(Math.abs(x.tokensPerSec - (x.batch * x.seqLen * 1000) / x.msPerStep)).toBeLessThan(
          x.tokensPerSec * 1e-3 + 1,
        );
        expect(x.peakBytes).toBeGreaterThan(0);
        expect(x.memory.peak).toBe(x.peakBytes); // the memory-by-part table's peak
      }
      expect(rows[0].trainable).toBeLessThan(rows[1].trainable); // LoRA trains fewer parameters than full
    },
  ],
  'npm run -s bench -- --gpu [--sizes small-world,llama-135M] [--dawn FILE]': [
    // no GPU and no dawn.node here (it is not a dependency): the command must say where to get it, and stop
    'npm run -s bench -- --gpu --sizes small-world --dawn /nonexistent/dawn.node',
    async (line) => {
      const r = await shellRun(line, { timeoutMs: 60_000 });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('bench --gpu:');
      expect(r.stderr).toContain('/nonexistent/dawn.node');
      const none = await shellRun('DAWN_NODE= npm run -s bench -- --gpu --sizes small-world', { timeoutMs: 60_000 });
      if (!existsSync(join(ROOT, 'node_modules/webgpu'))) {
        expect(none.code).toBe(2);
        expect(none.stderr).toContain('npm i --no-save webgpu@0.3.8');
      }
    },
  ],
  'npm run model:pretrain -- --steps 2000 --force': [
    'npm run model:pretrain -- --steps 2000',
    async (line) => {
      // the 23-minute run itself is not repeated here: without --force it must refuse, and --out must write elsewhere
      const shipped = join(ROOT, 'public/models/tiny-world');
      const before = digest(shipped);
      const refused = await shellRun(line, { timeoutMs: 60_000 });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('public/models/tiny-world/ holds the shipped model');
      expect(refused.stderr).toContain('--out DIR');
      expect(refused.stderr).toContain('--force');
      expect(refused.stdout).not.toMatch(/step \d+\//);
      const out = join(tmp, 'pretrained');
      const wrote = await shellRun(`npm run model:pretrain -- --steps 2 --out ${out}`, { timeoutMs: 90_000 });
      expect(wrote.code, wrote.stderr).toBe(0);
      expect(readdirSync(out).sort()).toEqual([
        '.pretrain',
        'MODEL_CARD.md',
        'config.json',
        'model.safetensors',
        'tokenizer.json',
      ]);
      expect(digest(shipped)).toEqual(before);
    },
  ],
  'npx tsx scripts/maintain/make-data.ts [--out DIR]': [
    'npx tsx scripts/maintain/make-data.ts --out OUT_DIR',
    async (line) => {
      const out = join(tmp, 'data');
      const r = await shellRun(line.replace('OUT_DIR', out), { timeoutMs: 60_000 });
      expect(r.code, r.stderr).toBe(0);
      const made = digest(out);
      expect(Object.keys(made)).toContain('datasets/qa.jsonl');
      expect(Object.keys(made)).toContain('corpus/general-train.txt');
      // deterministic, and the committed files are its output
      const pub = digest(join(ROOT, 'public'));
      for (const [f, hash] of Object.entries(made)) expect(pub[f], f).toBe(hash);
    },
  ],
};

describe("the README's commands, as written", () => {
  it('every command in the table has a case here', () => {
    expect(tableCommands.length).toBeGreaterThanOrEqual(9);
    expect(tableCommands).toEqual(Object.keys(CASES));
  });
  for (const [command, [line, check]] of Object.entries(CASES)) {
    (line ? it : it.skip)(
      line ? `${command}  (runs: ${line})` : `${command}  (skipped: this test runs inside it)`,
      () => check(line!),
      180_000,
    );
  }
});
