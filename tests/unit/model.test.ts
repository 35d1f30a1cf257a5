// The GPT forward pass and its gradients: finite-difference checks of maskedCrossEntropy(logits(...)) against
// tf.variableGrads, causality, shapes, embedding modes, the GPT-2 parameter count, and logits against an
// independent float64 re-implementation written out below with plain loops.

import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/core/backend';
import { DEFAULT_ARCH, type LoraConfig, type ModelArch } from '../../src/core/config';
import {
  countParams,
  logits,
  maskedCrossEntropy,
  paramShapes,
  type EmbedMode,
  type Params,
} from '../../src/core/model/gpt';
import { LoraSet } from '../../src/core/model/lora';
import { GPTModel } from '../../src/core/model/model';
import { Rng } from '../../src/core/rng';
import { TINY, maxAbsDiff, normals, scaledValues, setValues, valuesOf } from '../helpers/tiny';

const B = 2;
const T = TINY.blockSize; // 8
const V = TINY.vocabSize; // 11

/** Fixed token ids [B, T], next-token targets and a loss mask with some zeros (the mask must be respected). */
function fixedBatch(seed = 7) {
  const rng = new Rng(seed);
  const ids = Array.from({ length: B * T }, () => rng.int(V));
  const targets = Array.from({ length: B * T }, () => rng.int(V));
  const weights = Array.from({ length: B * T }, (_, i) => (i % 5 === 2 ? 0 : 1));
  return { ids, targets, weights };
}

type FixedBatch = ReturnType<typeof fixedBatch>;

function lossFn(p: Params, batch: FixedBatch, lora: LoraSet | null = null, embedMode: EmbedMode = 'gather') {
  return () => {
    const x = tf.tensor2d(batch.ids, [B, T], 'int32');
    const lg = logits(p, TINY, x, { lora, embedMode });
    return maskedCrossEntropy(lg, tf.tensor1d(batch.targets, 'int32'), tf.tensor1d(batch.weights));
  };
}

async function lossAt(f: () => tf.Scalar): Promise<number> {
  return (await valuesOf(tf.tidy(f)))[0];
}

/** Analytic gradients of f w.r.t. vars (made trainable for the call), read back by variable name. */
async function analyticGrads(f: () => tf.Scalar, vars: tf.Variable[]): Promise<Map<string, Float32Array>> {
  const was = vars.map((v) => v.trainable);
  vars.forEach((v) => (v.trainable = true));
  const { value, grads } = tf.variableGrads(f, vars);
  vars.forEach((v, i) => (v.trainable = was[i]));
  value.dispose();
  const out = new Map<string, Float32Array>();
  for (const v of vars) out.set(v.name, await valuesOf(grads[v.name]));
  return out;
}

/** Central difference of f w.r.t. one entry of v: (f(w+eps) − f(w−eps)) / 2eps, restoring w afterwards. */
async function numericGrad(f: () => tf.Scalar, v: tf.Variable, index: number, eps: number): Promise<number> {
  const base = ((await v.data()) as Float32Array).slice();
  const at = async (delta: number) => {
    const w = base.slice();
    w[index] += delta;
    setValues(v, w);
    return lossAt(f);
  };
  const plus = await at(eps);
  const minus = await at(-eps);
  setValues(v, base);
  return (plus - minus) / (2 * eps);
}

/** float32-appropriate agreement: |a − n| ≤ 2e-2·max(|a|, |n|) + 1e-3. */
function expectGradClose(analytic: number, numeric: number, what: string) {
  const tol = 2e-2 * Math.max(Math.abs(analytic), Math.abs(numeric)) + 1e-3;
  expect(Math.abs(analytic - numeric), `${what}: analytic ${analytic} vs numeric ${numeric}`).toBeLessThanOrEqual(tol);
}

/** The entries to check in a gradient: its largest (so the check is never vacuous) and two fixed positions. */
function entriesToCheck(g: Float32Array): number[] {
  let arg = 0;
  for (let i = 1; i < g.length; i++) if (Math.abs(g[i]) > Math.abs(g[arg])) arg = i;
  return [...new Set([arg, Math.floor(g.length * 0.37), Math.floor(g.length * 0.81)])];
}

async function gradCheck(f: () => tf.Scalar, vars: tf.Variable[], eps = 5e-3) {
  const analytic = await analyticGrads(f, vars);
  for (const v of vars) {
    const g = analytic.get(v.name)!;
    const idx = entriesToCheck(g);
    expect(Math.abs(g[idx[0]]), `largest gradient entry of ${v.name}`).toBeGreaterThan(1e-2);
    for (const i of idx) expectGradClose(g[i], await numericGrad(f, v, i, eps), `${v.name}[${i}]`);
  }
}

let model: GPTModel;

beforeAll(async () => {
  await initBackend('cpu');
  model = new GPTModel(TINY, scaledValues(TINY, 3, 0.5));
});

afterAll(() => model.dispose());

describe('gradients match central finite differences', () => {
  it.each(['gather', 'onehot'] as const)(
    'for wte, wpe, an attention c_attn weight, a ln_1 gain and an MLP c_proj bias (embedMode %s)',
    async (mode) => {
      const p = model.params;
      const vars = ['wte.weight', 'wpe.weight', 'h.1.attn.c_attn.weight', 'h.0.ln_1.weight', 'h.0.mlp.c_proj.bias'].map(
        (n) => p[n],
      );
      await gradCheck(lossFn(p, fixedBatch(), null, mode), vars);
    },
  );

  it('for LoRA A and B entries once B is nonzero', async () => {
    const cfg: LoraConfig = { rank: 2, alpha: 4, dropout: 0, targets: ['q', 'v', 'o', 'up', 'down'], rsLora: false };
    const lora = new LoraSet(TINY, cfg, 11);
    lora.adapters.forEach((ad, i) => setValues(ad.B, normals(ad.B.size, 100 + i, 0.5)));
    const vars = [lora.get(0, 'q')!.A, lora.get(0, 'q')!.B, lora.get(1, 'down')!.A, lora.get(1, 'up')!.B];
    await gradCheck(lossFn(model.params, fixedBatch(), lora), vars);
    lora.dispose();
  });
});

describe('forward pass', () => {
  it('returns logits of shape [B*T, V]', () => {
    const shape = tf.tidy(() => logits(model.params, TINY, tf.zeros([3, 5], 'int32') as tf.Tensor2D).shape);
    expect(shape).toEqual([15, V]);
  });

  it('refuses a sequence longer than the context', () => {
    expect(() => tf.tidy(() => logits(model.params, TINY, tf.zeros([1, T + 1], 'int32') as tf.Tensor2D))).toThrow(
      /longer than the model's context/,
    );
  });

  it('is causal: changing the token at j never changes logits before j, but changes position j', async () => {
    const lora = new LoraSet(
      TINY,
      { rank: 2, alpha: 4, dropout: 0, targets: ['q', 'k', 'v', 'o', 'up', 'down'], rsLora: false },
      5,
    );
    lora.adapters.forEach((ad, i) => setValues(ad.B, normals(ad.B.size, 200 + i, 0.5)));
    const { ids } = fixedBatch();
    const run = async (xs: number[]) =>
      valuesOf(tf.tidy(() => logits(model.params, TINY, tf.tensor2d(xs, [B, T], 'int32'), { lora })));
    const base = await run(ids);
    for (const j of [0, 3, T - 1]) {
      const changed = ids.slice();
      changed[j] = (changed[j] + 1) % V; // row 0, position j
      const out = await run(changed);
      const row = (t: number, a: Float32Array) => a.subarray(t * V, (t + 1) * V);
      for (let t = 0; t < j; t++)
        expect(maxAbsDiff(row(t, out), row(t, base)), `position ${t} after changing ${j}`).toBeLessThan(1e-6);
      expect(maxAbsDiff(row(j, out), row(j, base)), `position ${j} itself`).toBeGreaterThan(1e-3);
      // the other sequence in the batch never sees row 0
      expect(maxAbsDiff(out.subarray(T * V), base.subarray(T * V))).toBeLessThan(1e-6);
    }
    lora.dispose();
  });

  it("embedMode 'onehot' and 'gather' give the same logits and the same gradient w.r.t. wte", async () => {
    const p = model.params;
    const batch = fixedBatch(9);
    const lg = async (mode: EmbedMode) =>
      valuesOf(tf.tidy(() => logits(p, TINY, tf.tensor2d(batch.ids, [B, T], 'int32'), { embedMode: mode })));
    expect(maxAbsDiff(await lg('onehot'), await lg('gather'))).toBeLessThan(1e-5);
    const wte = p['wte.weight'];
    const gOne = (await analyticGrads(lossFn(p, batch, null, 'onehot'), [wte])).get(wte.name)!;
    const gGather = (await analyticGrads(lossFn(p, batch, null, 'gather'), [wte])).get(wte.name)!;
    expect(Math.max(...gGather.map(Math.abs))).toBeGreaterThan(1e-2);
    expect(maxAbsDiff(gOne, gGather)).toBeLessThan(1e-5);
  });

  it('matches an independent float64 GPT-2 forward pass written with plain loops', async () => {
    const { ids } = fixedBatch(13);
    const got = await valuesOf(tf.tidy(() => logits(model.params, TINY, tf.tensor2d(ids, [B, T], 'int32'))));
    const w = new Map<string, Float32Array>();
    for (const [name, v] of Object.entries(model.params)) w.set(name, (await v.data()) as Float32Array);
    const want = referenceLogits(TINY, w, ids, B, T);
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-4);
    expect(Math.max(...want.map(Math.abs))).toBeGreaterThan(1); // not a trivially flat output
  });
});

describe('maskedCrossEntropy', () => {
  it('is the mean of −log softmax(target) over rows whose weight is 1, computed by hand', async () => {
    const N = 5;
    const lg = normals(N * V, 31, 2);
    const targets = [0, 3, 10, 3, 7];
    const weights = [1, 0, 1, 1, 0];
    const nll = (r: number) => {
      const row = Array.from(lg.subarray(r * V, (r + 1) * V));
      const mx = Math.max(...row);
      return -(row[targets[r]] - mx - Math.log(row.reduce((s, z) => s + Math.exp(z - mx), 0)));
    };
    const want = (nll(0) + nll(2) + nll(3)) / 3;
    const got = await lossAt(() =>
      maskedCrossEntropy(tf.tensor2d(lg, [N, V]), tf.tensor1d(targets, 'int32'), tf.tensor1d(weights)),
    );
    expect(Math.abs(got - want)).toBeLessThan(1e-5 * want);
    expect(Math.abs(want - (nll(0) + nll(1) + nll(2) + nll(3) + nll(4)) / 5)).toBeGreaterThan(1e-2); // the mask matters here
    // all weights 0: the loss is 0, not NaN
    expect(
      await lossAt(() =>
        maskedCrossEntropy(tf.tensor2d(lg, [N, V]), tf.tensor1d(targets, 'int32'), tf.zeros([N]) as tf.Tensor1D),
      ),
    ).toBe(0);
  });
});

describe('parameter count', () => {
  // GPT-2 with mlpRatio 4: V·C + T·C + L·(12C² + 13C) + 2C
  const formula = (a: ModelArch) =>
    a.vocabSize * a.nEmbd + a.blockSize * a.nEmbd + a.nLayer * (12 * a.nEmbd ** 2 + 13 * a.nEmbd) + 2 * a.nEmbd;

  it('matches the hand formula for the tiny, default and GPT-2 small shapes', () => {
    const gpt2: ModelArch = {
      vocabSize: 50257,
      blockSize: 1024,
      nLayer: 12,
      nHead: 12,
      nEmbd: 768,
      mlpRatio: 4,
      layerNormEps: 1e-5,
    };
    for (const a of [TINY, DEFAULT_ARCH, gpt2]) expect(countParams(a)).toBe(formula(a));
    expect(countParams(gpt2)).toBe(124_439_808); // the published size of GPT-2 small
    expect(countParams(TINY)).toBe(11 * 8 + 8 * 8 + 2 * (12 * 64 + 13 * 8) + 16); // 1912
  });

  it('is the sum of the paramShapes, which hold every GPT-2 tensor once', () => {
    const shapes = paramShapes(TINY);
    expect(new Set(shapes.map(([n]) => n)).size).toBe(shapes.length);
    expect(shapes.length).toBe(2 + 12 * TINY.nLayer + 2);
    expect(shapes.reduce((n, [, s]) => n + s.reduce((x, y) => x * y, 1), 0)).toBe(countParams(TINY));
    // the MLP width follows mlpRatio
    const a = { ...TINY, mlpRatio: 2 };
    const C = a.nEmbd;
    expect(countParams(a)).toBe(V * C + T * C + a.nLayer * (4 * C * C + 2 * C * 2 * C + 9 * C + 2 * C) + 2 * C);
  });
});

/**
 * GPT-2 forward in float64 with explicit loops, written from the paper's description (pre-LN blocks, causal
 * softmax attention with 1/√d scaling, heads = consecutive column groups, tanh-GELU, tied head). ids: [B*T].
 */
function referenceLogits(
  a: ModelArch,
  w: Map<string, Float32Array>,
  ids: number[],
  nb: number,
  nt: number,
): Float64Array {
  const C = a.nEmbd;
  const H = a.mlpRatio * C;
  const hd = C / a.nHead;
  const W = (n: string) => w.get(n)!;
  const ln = (x: number[], g: Float32Array, b: Float32Array) => {
    const mean = x.reduce((s, v) => s + v, 0) / x.length;
    const vr = x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length;
    return x.map((v, i) => ((v - mean) / Math.sqrt(vr + a.layerNormEps)) * g[i] + b[i]);
  };
  const lin = (x: number[], m: Float32Array, bias: Float32Array, nOut: number) =>
    Array.from({ length: nOut }, (_, o) => x.reduce((s, v, i) => s + v * m[i * nOut + o], bias[o]));
  const gelu = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
  const out = new Float64Array(nb * nt * a.vocabSize);
  for (let b = 0; b < nb; b++) {
    let x = Array.from({ length: nt }, (_, t) =>
      Array.from({ length: C }, (_, c) => W('wte.weight')[ids[b * nt + t] * C + c] + W('wpe.weight')[t * C + c]),
    );
    for (let l = 0; l < a.nLayer; l++) {
      const h = `h.${l}.`;
      const qkv = x.map((r) =>
        lin(
          ln(r, W(h + 'ln_1.weight'), W(h + 'ln_1.bias')),
          W(h + 'attn.c_attn.weight'),
          W(h + 'attn.c_attn.bias'),
          3 * C,
        ),
      );
      const y = x.map(() => new Array<number>(C).fill(0));
      for (let head = 0; head < a.nHead; head++) {
        const q = (t: number, d: number) => qkv[t][head * hd + d];
        const k = (t: number, d: number) => qkv[t][C + head * hd + d];
        const v = (t: number, d: number) => qkv[t][2 * C + head * hd + d];
        for (let t = 0; t < nt; t++) {
          const s = Array.from({ length: t + 1 }, (_, u) => {
            let dot = 0;
            for (let d = 0; d < hd; d++) dot += q(t, d) * k(u, d);
            return dot / Math.sqrt(hd);
          });
          const mx = Math.max(...s);
          const e = s.map((z) => Math.exp(z - mx));
          const z = e.reduce((p, q2) => p + q2, 0);
          for (let d = 0; d < hd; d++) y[t][head * hd + d] = e.reduce((acc, ei, u) => acc + (ei / z) * v(u, d), 0);
        }
      }
      x = x.map((r, t) => {
        const o = lin(y[t], W(h + 'attn.c_proj.weight'), W(h + 'attn.c_proj.bias'), C);
        const r1 = r.map((v, i) => v + o[i]);
        const up = lin(
          ln(r1, W(h + 'ln_2.weight'), W(h + 'ln_2.bias')),
          W(h + 'mlp.c_fc.weight'),
          W(h + 'mlp.c_fc.bias'),
          H,
        ).map(gelu);
        const down = lin(up, W(h + 'mlp.c_proj.weight'), W(h + 'mlp.c_proj.bias'), C);
        return r1.map((v, i) => v + down[i]);
      });
    }
    x.forEach((r, t) => {
      const f = ln(r, W('ln_f.weight'), W('ln_f.bias'));
      for (let vv = 0; vv < a.vocabSize; vv++)
        out[(b * nt + t) * a.vocabSize + vv] = f.reduce((s, fc, c) => s + fc * W('wte.weight')[vv * C + c], 0);
    });
  }
  return out;
}
