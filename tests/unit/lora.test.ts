// LoRA invariants (PEFT's _test_merge_layers): a fresh adapter changes nothing; merged = unmerged; unmerge restores
// the base; ΔW = s·A·B by hand; rsLoRA scaling; each target lands in its own column slice; dropout only in training.

import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/core/backend';
import { LORA_TARGETS, type LoraConfig, type LoraTarget } from '../../src/core/config';
import { logits } from '../../src/core/model/gpt';
import { LoraSet, targetSlot } from '../../src/core/model/lora';
import { loraScale } from '../../src/core/rules';
import { GPTModel } from '../../src/core/model/model';
import { Rng } from '../../src/core/rng';
import { TINY, maxAbsDiff, normals, scaledValues, setValues, snapshot, valuesOf } from '../helpers/tiny';

const B = 2;
const T = TINY.blockSize;
const C = TINY.nEmbd;

const ids = (() => {
  const rng = new Rng(21);
  return Array.from({ length: B * T }, () => rng.int(TINY.vocabSize));
})();

const cfgOf = (over: Partial<LoraConfig> = {}): LoraConfig => ({
  rank: 2,
  alpha: 4,
  dropout: 0,
  targets: [...LORA_TARGETS],
  rsLora: false,
  ...over,
});

function forward(model: GPTModel, lora: LoraSet | null, training = false, dropoutSeed?: number): Promise<Float32Array> {
  return valuesOf(
    tf.tidy(() => logits(model.params, TINY, tf.tensor2d(ids, [B, T], 'int32'), { lora, training, dropoutSeed })),
  );
}

/** Gives every adapter a random nonzero B (a fresh one is zero). */
function randomizeB(lora: LoraSet, seed: number) {
  lora.adapters.forEach((ad, i) => setValues(ad.B, normals(ad.B.size, seed + i, 0.5)));
}

/** Plain-loop matrix product of row-major [n, k] × [k, m]. */
function matmul(a: ArrayLike<number>, b: ArrayLike<number>, n: number, k: number, m: number): Float64Array {
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < m; j++) for (let q = 0; q < k; q++) out[i * m + j] += a[i * k + q] * b[q * m + j];
  return out;
}

let model: GPTModel;

beforeAll(async () => {
  await initBackend('cpu');
  model = new GPTModel(TINY, scaledValues(TINY, 4, 0.5));
});

afterAll(() => model.dispose());

describe('LoRA adapters', () => {
  it('a fresh adapter (B = 0) leaves the logits bit-identical to the base model', async () => {
    const lora = new LoraSet(TINY, cfgOf(), 1);
    for (const ad of lora.adapters) expect(Math.max(...(await ad.B.data()).map(Math.abs))).toBe(0);
    expect(Math.max(...(await lora.adapters[0].A.data()).map(Math.abs))).toBeGreaterThan(0);
    expect(await forward(model, lora)).toEqual(await forward(model, null));
    lora.dispose();
  });

  it('A is drawn from U(-1/√in, 1/√in) with the shapes [in, r] and B [r, out]', async () => {
    const lora = new LoraSet(TINY, cfgOf({ rank: 3 }), 2);
    for (const ad of lora.adapters) {
      const { inDim, outDim } = targetSlot(TINY, ad.target);
      expect(ad.A.shape).toEqual([inDim, 3]);
      expect(ad.B.shape).toEqual([3, outDim]);
      expect(Math.max(...(await ad.A.data()).map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(inDim));
    }
    expect(lora.countParams()).toBe(TINY.nLayer * 3 * (3 * (C + C) + (C + C) + (C + 4 * C) + (4 * C + C)));
    lora.dispose();
  });

  it('merged forward equals unmerged forward, and unmerge restores the base weights', async () => {
    const lora = new LoraSet(TINY, cfgOf(), 3);
    randomizeB(lora, 50);
    const before = await snapshot(model.params);
    const unmerged = await forward(model, lora);
    const base = await forward(model, null);
    expect(maxAbsDiff(unmerged, base)).toBeGreaterThan(1e-2); // the adapters really do something

    await lora.merge(model.params);
    expect(lora.merged).toBe(true);
    const merged = await forward(model, lora); // apply() skips adapters while merged: only the folded weights act
    expect(maxAbsDiff(merged, unmerged)).toBeLessThan(1e-5);
    await expect(lora.merge(model.params)).rejects.toThrow(/already merged/);

    lora.unmerge(model.params);
    expect(lora.merged).toBe(false);
    const after = await snapshot(model.params);
    for (const [name, w] of before) expect(maxAbsDiff(after.get(name)!, w), name).toBeLessThan(1e-6);
    expect(maxAbsDiff(await forward(model, lora), unmerged)).toBeLessThan(1e-5);
    expect(() => lora.unmerge(model.params)).toThrow(/not merged/);
    lora.dispose();
  });

  it('refuses to merge an adapter with a non-finite weight (safe merge): it names the adapter and changes no base weight', async () => {
    for (const bad of [NaN, Infinity]) {
      const lora = new LoraSet(TINY, cfgOf({ targets: ['q', 'v', 'down'] }), 5);
      randomizeB(lora, 70);
      const broken = lora.get(1, 'v')!;
      const values = (await broken.B.data()) as Float32Array;
      broken.B.assign(
        tf.tensor2d(
          values.map((x, i) => (i === 3 ? bad : x)),
          broken.B.shape as [number, number],
        ),
      );
      const before = await snapshot(model.params);
      const tensors = tf.memory().numTensors;
      await expect(lora.merge(model.params)).rejects.toThrow(
        /LoRA adapter v of block 1 would make h\.1\.attn\.c_attn\.weight non-finite \(NaN or Infinity\).*nothing was merged/,
      );
      expect(lora.merged).toBe(false);
      expect(await snapshot(model.params)).toEqual(before); // not one weight was touched, not even block 0's
      expect(tf.memory().numTensors).toBe(tensors); // the copies are freed
      lora.dispose();
    }
  });

  it('deltaWeight equals scale·A·B computed by hand', async () => {
    const lora = new LoraSet(TINY, cfgOf({ rank: 3, alpha: 6 }), 4);
    randomizeB(lora, 60);
    for (const ad of [lora.get(0, 'q')!, lora.get(1, 'down')!]) {
      const { inDim, outDim } = targetSlot(TINY, ad.target);
      const want = matmul(await ad.A.data(), await ad.B.data(), inDim, 3, outDim).map((x) => x * 2); // s = 6/3
      const got = await valuesOf(lora.deltaWeight(ad));
      expect(got.length).toBe(inDim * outDim);
      expect(maxAbsDiff(got, want)).toBeLessThan(1e-6);
      expect(Math.max(...want.map(Math.abs))).toBeGreaterThan(1e-2);
    }
    lora.dispose();
  });

  it('scales by alpha/r, or alpha/√r with rsLoRA, in the forward pass too', async () => {
    expect(loraScale({ alpha: 8, rank: 4, rsLora: false })).toBe(2);
    expect(loraScale({ alpha: 8, rank: 4, rsLora: true })).toBe(4);
    expect(loraScale({ alpha: 1, rank: 16, rsLora: true })).toBe(0.25);
    const plain = new LoraSet(TINY, cfgOf({ rank: 4, alpha: 8, targets: ['v'] }), 5);
    const rs = new LoraSet(TINY, cfgOf({ rank: 4, alpha: 8, targets: ['v'], rsLora: true }), 5);
    expect([plain.scale, rs.scale]).toEqual([2, 4]);
    randomizeB(plain, 70);
    randomizeB(rs, 70);
    // apply() adds s·(x·A)·B: with out = 0 the result is exactly the adapter's path, so the two differ by 4/2 = 2×
    const x = tf.tensor2d(normals(3 * C, 9), [3, C]);
    const zero = tf.zeros([3, C]) as tf.Tensor2D;
    const pathPlain = await valuesOf(tf.tidy(() => plain.apply(0, x, 'v', zero, false)));
    const pathRs = await valuesOf(tf.tidy(() => rs.apply(0, x, 'v', zero, false)));
    const ad = plain.get(0, 'v')!;
    const byHand = matmul(matmul(await x.data(), await ad.A.data(), 3, C, 4), await ad.B.data(), 3, 4, C);
    expect(
      maxAbsDiff(
        pathPlain,
        byHand.map((v) => 2 * v),
      ),
    ).toBeLessThan(1e-5);
    expect(
      maxAbsDiff(
        pathRs,
        byHand.map((v) => 4 * v),
      ),
    ).toBeLessThan(1e-5);
    tf.dispose([x, zero]);
    plain.dispose();
    rs.dispose();
  });

  it('each target merges into its own column slice of its own weight, and nothing else', async () => {
    // target → [weight, first column, end column, the weight's column count] in GPT-2's [in, out] layout
    const expectedCols: Record<Exclude<LoraTarget, 'gate'>, [string, number, number, number]> = {
      q: ['attn.c_attn.weight', 0, C, 3 * C],
      k: ['attn.c_attn.weight', C, 2 * C, 3 * C],
      v: ['attn.c_attn.weight', 2 * C, 3 * C, 3 * C],
      o: ['attn.c_proj.weight', 0, C, C],
      up: ['mlp.c_fc.weight', 0, 4 * C, 4 * C],
      down: ['mlp.c_proj.weight', 0, C, C],
    };
    for (const target of LORA_TARGETS) {
      const lora = new LoraSet(TINY, cfgOf({ targets: [target] }), 6);
      randomizeB(lora, 80);
      const base = await snapshot(model.params); // per target: an earlier merge + unmerge may leave float rounding
      const unmerged = await forward(model, lora);
      await lora.merge(model.params);
      const merged = await snapshot(model.params);
      const [weight, lo, hi, cols] = expectedCols[target as Exclude<LoraTarget, 'gate'>];
      for (const [name, w] of base) {
        const m = merged.get(name)!;
        const layer = /^h\.(\d+)\.(.*)$/.exec(name);
        if (!layer || layer[2] !== weight) {
          expect(m, `${target} must not touch ${name}`).toEqual(w);
          continue;
        }
        // the change, column by column, equals the adapter's ΔW in the expected slice and zero elsewhere
        const delta = await valuesOf(lora.deltaWeight(lora.get(Number(layer[1]), target)!));
        const width = hi - lo;
        let outside = 0; // largest change outside the slice: must be exactly 0
        let inside = 0; // largest |change − ΔW| inside the slice
        for (let r = 0; r < w.length / cols; r++) {
          for (let c = 0; c < cols; c++) {
            const change = m[r * cols + c] - w[r * cols + c];
            if (c >= lo && c < hi) inside = Math.max(inside, Math.abs(change - delta[r * width + (c - lo)]));
            else outside = Math.max(outside, Math.abs(change));
          }
        }
        expect(outside, `${name} outside the ${target} columns [${lo}, ${hi})`).toBe(0);
        expect(inside, `${name} inside the ${target} columns [${lo}, ${hi})`).toBeLessThan(1e-6);
        expect(Math.max(...delta.map(Math.abs))).toBeGreaterThan(1e-2);
      }
      // and the forward path agrees with where merge put it
      expect(maxAbsDiff(await forward(model, lora), unmerged), `${target}: merged vs unmerged`).toBeLessThan(1e-5);
      lora.unmerge(model.params);
      lora.dispose();
    }
  });

  it('dropout > 0 changes training-mode outputs (seeded) but never eval-mode outputs', async () => {
    const noDrop = new LoraSet(TINY, cfgOf({ dropout: 0 }), 7);
    const drop = new LoraSet(TINY, cfgOf({ dropout: 0.5 }), 7); // same seed → same A
    randomizeB(noDrop, 90);
    randomizeB(drop, 90);
    const evalNoDrop = await forward(model, noDrop, false);
    expect(await forward(model, drop, false)).toEqual(evalNoDrop);
    expect(await forward(model, noDrop, true, 1)).toEqual(evalNoDrop); // p = 0: training changes nothing
    const train1 = await forward(model, drop, true, 1);
    expect(maxAbsDiff(train1, evalNoDrop)).toBeGreaterThan(1e-3);
    expect(await forward(model, drop, true, 1)).toEqual(train1); // the seed fixes the mask
    expect(maxAbsDiff(await forward(model, drop, true, 2), train1)).toBeGreaterThan(1e-4);
    noDrop.dispose();
    drop.dispose();
  });

  it('each adapter draws its own dropout mask: q, k, v of a block and the same target in two blocks drop different features', async () => {
    // identical A and B everywhere, so any difference between outputs comes from the masks alone
    const lora = new LoraSet(TINY, cfgOf({ dropout: 0.5, targets: ['q', 'k', 'v'] }), 3);
    const a = normals(C * 2, 5, 1);
    const b = normals(2 * C, 6, 1);
    for (const ad of lora.adapters) {
      setValues(ad.A, a);
      setValues(ad.B, b);
    }
    const x = tf.tensor2d(normals(4 * C, 7, 1), [4, C]);
    const zero = tf.zeros([4, C]) as tf.Tensor2D;
    const out = (layer: number, target: LoraTarget) =>
      valuesOf(tf.tidy(() => lora.apply(layer, x, target, zero, true, 11)));
    const q0 = await out(0, 'q');
    expect(await out(0, 'q')).toEqual(q0); // one seed, one mask per adapter
    expect(maxAbsDiff(await out(0, 'k'), q0)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(await out(0, 'v'), q0)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(await out(1, 'q'), q0)).toBeGreaterThan(1e-3);
    // and without dropout they all agree, so the test can see a shared mask
    const plain = (layer: number, target: LoraTarget) =>
      valuesOf(tf.tidy(() => lora.apply(layer, x, target, zero, false, 11)));
    expect(await plain(0, 'k')).toEqual(await plain(0, 'q'));
    tf.dispose([x, zero]);
    lora.dispose();
  });

  it('building and disposing an adapter set leaves no tensor behind', () => {
    const before = tf.memory().numTensors;
    new LoraSet(TINY, cfgOf({ rank: 4 }), 9).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
