// The transformer's elementwise pieces as single tape nodes with hand-written gradients (tf.customGrad).
// Composed from standard tfjs ops, tfjs would keep every intermediate for backward and every intermediate's
// gradient until the backward pass ends (~550 MB at batch 16 × seq 128 on the 214k-parameter model). Each op here
// saves only what its gradient needs and frees its own intermediates, forward and backward.
// Only standard ops inside, so they run on every backend; tests/unit/wasm-kernels.test.ts checks each against
// autodiff of the composed form and against finite differences.
// References: Ba et al. 2016 (LayerNorm); Hendrycks & Gimpel 2016 (GELU, tanh form); llm.c's layernorm/attention
// backward; FlashAttention's softmax backward dS = P ⊙ (dP − rowsum(dP ⊙ P)).

import * as tf from '@tensorflow/tfjs';
import { wasmKernels } from '../kernels/wasm/kernels';

type Save = tf.GradSaveFunc;
type Grad = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[];

/** Whether this backward pass is the outermost one (tfjs counts nested tapes; a higher-order pass reuses the tape). */
const outermost = () => (tf.engine() as unknown as { state: { gradientDepth: number } }).state.gradientDepth === 0;

/**
 * tf.customGrad with its gradient in a tidy (tfjs calls it outside one, so its intermediates would live to the end),
 * and with the node's incoming gradient dy and its saved tensors freed as soon as its gradient is computed. tfjs's
 * backward pass (tape.ts backpropagateGradients) keeps every intermediate gradient and every saved tensor until the
 * whole pass ends, so without this a step's backward holds a gradient for every tensor of the forward pass at once.
 * Safe because dy is the gradient of this node's own output, which no other node reads, and tfjs's own gradients
 * never hand one tensor object to two inputs (AddN and Cast clone).
 */
function fused<A extends tf.Tensor[]>(
  f: (...args: [...A, Save]) => { value: tf.Tensor; gradFunc: Grad },
): (...args: A) => tf.Tensor {
  return tf.customGrad(((...args: [...A, Save]) => {
    const { value, gradFunc } = f(...args);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const grads = tf.tidy(() => gradFunc(dy, saved));
        if (outermost()) for (const t of [dy, ...saved]) if (!grads.includes(t)) t.dispose();
        return grads;
      },
    };
  }) as never) as (...args: A) => tf.Tensor;
}

/** Whether a gradient is wanted: tf.variableGrads gives none to frozen variables (trainable false), so skip its work. */
export const wanted = (t: tf.Tensor) => !(t instanceof tf.Variable) || t.trainable;

/** x·W + b on 2-D activations: x [N, in], W [in, out], b [out] or null (no bias). Saves x and W. */
const linearTrainable = fused((x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, save: Save) => {
  save([x, w]);
  return {
    // 2-D only: a batched 3-D × 2-D matmul breaks in the backward pass (tfjs #8721)
    value: tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), b),
    gradFunc: (dy, [xs, ws]) => [
      tf.matMul(dy as tf.Tensor2D, ws as tf.Tensor2D, false, true),
      wanted(w) ? tf.matMul(xs as tf.Tensor2D, dy as tf.Tensor2D, true, false) : tf.zerosLike(ws),
      wanted(b) ? tf.sum(dy, 0) : tf.zerosLike(b),
    ],
  };
}) as (x: tf.Tensor2D, w: tf.Tensor, b: tf.Tensor) => tf.Tensor2D;

/** x·W without a bias (the Llama layout's projections). Saves x and W. */
const matMulTrainable = fused((x: tf.Tensor, w: tf.Tensor, save: Save) => {
  save([x, w]);
  return {
    value: tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D),
    gradFunc: (dy, [xs, ws]) => [
      tf.matMul(dy as tf.Tensor2D, ws as tf.Tensor2D, false, true),
      wanted(w) ? tf.matMul(xs as tf.Tensor2D, dy as tf.Tensor2D, true, false) : tf.zerosLike(ws),
    ],
  };
}) as (x: tf.Tensor2D, w: tf.Tensor) => tf.Tensor2D;

/**
 * A tape node whose only input is x: the weights `value` and `dx` close over are no inputs of it, so backward makes
 * no gradient for them (not even zeros their size) and saves nothing for one. For frozen weights only.
 */
function onlyX(x: tf.Tensor, value: (x: tf.Tensor) => tf.Tensor, dx: (dy: tf.Tensor) => tf.Tensor): tf.Tensor {
  return fused((xx: tf.Tensor, _save: Save) => ({ value: value(xx), gradFunc: (dy) => [dx(dy)] }))(x);
}

/** x·W + b with W and b frozen (LoRA, frozen layers): only dx = dy·Wᵀ, and x is not saved. */
const linearFrozen = (x: tf.Tensor2D, w: tf.Tensor, b: tf.Tensor | null) =>
  onlyX(
    x,
    (xx) =>
      b ? tf.add(tf.matMul(xx as tf.Tensor2D, w as tf.Tensor2D), b) : tf.matMul(xx as tf.Tensor2D, w as tf.Tensor2D),
    (dy) => tf.matMul(dy as tf.Tensor2D, w as tf.Tensor2D, false, true),
  ) as tf.Tensor2D;

/**
 * x·Wᵀ with W frozen: x [N, C], W [V, C] → [N, V] (the tied head when the embedding does not train). tf.matMul would
 * save W and x for backward; here only dx = dy·W is computed.
 */
export const matMulTFrozen = (x: tf.Tensor2D, w: tf.Tensor2D) =>
  onlyX(
    x,
    (xx) => tf.matMul(xx as tf.Tensor2D, w, false, true),
    (dy) => tf.matMul(dy as tf.Tensor2D, w),
  ) as tf.Tensor2D;

/** Rows of a frozen table (the embedding when it does not train): nothing saved, no gradient to anything. */
export const gatherFrozen = (table: tf.Tensor, ids: tf.Tensor1D) =>
  onlyX(
    ids,
    (i) => tf.gather(table, i),
    () => tf.zeros(ids.shape), // never called: the ids lead back to no trainable weight
  ) as tf.Tensor2D;

/** x·W + b: x [N, in], W [in, out], b [out] or null → [N, out]; the frozen form where neither W nor b trains. */
export function linear(x: tf.Tensor2D, w: tf.Tensor, b: tf.Tensor | null): tf.Tensor2D {
  if (!(wanted(w) || (b !== null && wanted(b)))) return linearFrozen(x, w, b);
  return b ? linearTrainable(x, w, b) : matMulTrainable(x, w);
}

/**
 * LoRA's update in one tape node: out + s·(x·A)·B, with x [N, in], A [in, r], B [r, out], out [N, out]. Composed
 * from tfjs ops it would keep x·A·B [N, out] for backward and three [N, out] gradients until backward ends; here
 * only x·A [N, r] is saved. dh = s·dy·Bᵀ; dx = dh·Aᵀ; dA = xᵀ·dh; dB = s·(x·A)ᵀ·dy.
 */
const loraOp = (scale: number) =>
  fused((out: tf.Tensor, x: tf.Tensor, a: tf.Tensor, b: tf.Tensor, save: Save) => {
    const xa = tf.matMul(x as tf.Tensor2D, a as tf.Tensor2D); // [N, r]
    save([x, a, b, xa]);
    return {
      value: tf.add(out, tf.mul(tf.matMul(xa, b as tf.Tensor2D), scale)),
      gradFunc: (dy, [xs, as, bs, xas]) => {
        const dh = tf.mul(tf.matMul(dy as tf.Tensor2D, bs as tf.Tensor2D, false, true), scale); // [N, r]
        return [
          dy.clone(),
          tf.matMul(dh, as as tf.Tensor2D, false, true),
          tf.matMul(xs as tf.Tensor2D, dh, true, false),
          tf.mul(tf.matMul(xas as tf.Tensor2D, dy as tf.Tensor2D, true, false), scale),
        ];
      },
    };
  });
const loraCache = new Map<number, ReturnType<typeof loraOp>>();
export function loraAdd(out: tf.Tensor2D, x: tf.Tensor2D, a: tf.Tensor, b: tf.Tensor, scale: number): tf.Tensor2D {
  let op = loraCache.get(scale);
  if (!op) loraCache.set(scale, (op = loraOp(scale)));
  return op(out, x, a, b) as tf.Tensor2D;
}

/** a + b for two tensors of one shape (the residual stream), saving nothing (tf.add keeps both inputs). */
export const residual = fused((a: tf.Tensor, b: tf.Tensor, _save: Save) => ({
  value: tf.add(a, b),
  gradFunc: (dy) => [dy.clone(), dy.clone()], // two tensors: tfjs disposes each input's gradient separately
})) as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

/** LayerNorm over the last axis: x [N, C], g [C], b [C]. Saves x̂ [N, C] and 1/σ [N, 1]. */
const layerNormOp = (eps: number) =>
  fused((x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: Save) => {
    const xc = tf.sub(x, tf.mean(x, -1, true)); // [N, C]
    const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(xc), -1, true), eps)); // [N, 1]
    const xhat = tf.mul(xc, rstd); // [N, C]
    save([xhat, rstd]);
    return {
      value: tf.add(tf.mul(xhat, g), b),
      gradFunc: (dy, [xh, rs]) => {
        const dxhat = tf.mul(dy, g); // [N, C]
        // dx = (1/σ)·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂))
        const dx = tf.mul(
          rs,
          tf.sub(tf.sub(dxhat, tf.mean(dxhat, -1, true)), tf.mul(xh, tf.mean(tf.mul(dxhat, xh), -1, true))),
        );
        return [dx, tf.sum(tf.mul(dy, xh), 0), tf.sum(dy, 0)];
      },
    };
  });

const lnCache = new Map<number, ReturnType<typeof layerNormOp>>();
/** The same LayerNorm in src/core/kernels/wasm/kernels.c (one pass each way); saves x and (mean, 1/σ) per row. */
const wasmLayerNormOp = (eps: number) =>
  fused((x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: Save) => {
    const [y, stats] = tf.engine().runKernel('FusedLayerNorm', { x, g, b }, { eps }) as tf.Tensor[];
    save([x, g, stats]);
    return {
      value: y,
      gradFunc: (dy, [xs, gs, st]) =>
        tf.engine().runKernel('FusedLayerNormGrad', { dy, x: xs, g: gs, stats: st }) as tf.Tensor[],
    };
  });

const wasmLnCache = new Map<number, ReturnType<typeof wasmLayerNormOp>>();
export function layerNorm(x: tf.Tensor2D, g: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor2D {
  if (x.shape[1] % 4 === 0 && wasmKernels()) {
    let op = wasmLnCache.get(eps);
    if (!op) wasmLnCache.set(eps, (op = wasmLayerNormOp(eps)));
    return op(x, g, b) as tf.Tensor2D;
  }
  let op = lnCache.get(eps);
  if (!op) lnCache.set(eps, (op = layerNormOp(eps)));
  return op(x, g, b) as tf.Tensor2D;
}

const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_K = 0.044715;

/**
 * GPT-2's tanh GELU ("gelu_new"): 0.5·x·(1 + tanh(u)), u = √(2/π)·(x + 0.044715·x³), computed as x·σ(2u), the same
 * function (tanh(u) = 2σ(2u) − 1): wasm's sigmoid is ~10× faster than its tanh. Saves only x.
 */
const geluOps = fused((x: tf.Tensor, save: Save) => {
  save([x]);
  const z = (x2: tf.Tensor, xv: tf.Tensor) => tf.mul(xv, tf.add(tf.mul(x2, 2 * GELU_C * GELU_K), 2 * GELU_C)); // 2u
  return {
    value: tf.mul(x, tf.sigmoid(z(tf.square(x), x))),
    gradFunc: (dy, [xs]) => {
      // d/dx x·σ(2u) = σ·(1 + x·(1 − σ)·2u'),  2u' = 2c·(1 + 3k·x²); nested tidies bound the [N, 4C] temporaries
      const s = tf.tidy(() => tf.sigmoid(z(tf.square(xs), xs)));
      const inner = tf.tidy(() =>
        tf.mul(tf.mul(xs, tf.sub(1, s)), tf.add(tf.mul(tf.square(xs), 6 * GELU_C * GELU_K), 2 * GELU_C)),
      );
      return [tf.mul(tf.mul(dy, s), tf.add(inner, 1))];
    },
  };
}) as (x: tf.Tensor) => tf.Tensor;

/** The same GELU in src/core/kernels/wasm/kernels.c: one pass forward, one backward. */
const geluWasm = fused((x: tf.Tensor, save: Save) => {
  save([x]);
  return {
    value: tf.engine().runKernel('FusedGelu', { x }) as tf.Tensor,
    gradFunc: (dy, [xs]) => [tf.engine().runKernel('FusedGeluGrad', { x: xs, dy }) as tf.Tensor],
  };
}) as (x: tf.Tensor) => tf.Tensor;

export const gelu = (x: tf.Tensor): tf.Tensor => (x.size >= 4 && wasmKernels() ? geluWasm(x) : geluOps(x));

const maskCache = new Map<number, tf.Tensor2D>();
/** Additive causal mask [T, T]: 0 on and below the diagonal, -1e9 above (a token never sees the future). */
function causalMask(T: number): tf.Tensor2D {
  let m = maskCache.get(T);
  if (!m || m.isDisposed) {
    const data = new Float32Array(T * T);
    for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) data[i * T + j] = -1e9;
    m = tf.keep(tf.tensor2d(data, [T, T]));
    maskCache.set(T, m);
  }
  return m;
}

/**
 * Causal multi-head self-attention core: q [B·T, C] (heads side by side), k, v [B·T, nKv·hd] → softmax(q·kᵀ/√d +
 * mask)·v [B·T, C]. With nKv < nh (k's width says how many; grouped-query attention, the Llama layout's) each k/v head serves nh/nKv
 * consecutive query heads: the wasm kernel reads it in place, the tfjs-ops path repeats it first (repeatKv).
 * Saves only the head-major q (pre-scaled), k and v; backward recomputes the probabilities P [B·nh, T, T] (as
 * FlashAttention does), so no [B·nh, T, T] tensor outlives its layer's forward or backward.
 */
export function causalAttention(
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  v: tf.Tensor2D,
  B: number,
  T: number,
  nh: number,
): tf.Tensor2D {
  const C = q.shape[1];
  const hd = C / nh;
  const nKv = k.shape[1] / hd;
  if (hd % 4 === 0 && wasmKernels()) return wasmAttention(q, k, v, T, nh);
  if (nKv !== nh) return causalAttention(q, repeatKv(k, nKv, nh / nKv), repeatKv(v, nKv, nh / nKv), B, T, nh);
  const scale = 1 / Math.sqrt(hd);
  const split = (t: tf.Tensor) =>
    t
      .reshape([B, T, nh, hd])
      .transpose([0, 2, 1, 3])
      .reshape([B * nh, T, hd]) as tf.Tensor3D; // [B*nh, T, hd]
  const merge = (t: tf.Tensor) =>
    t
      .reshape([B, nh, T, hd])
      .transpose([0, 2, 1, 3])
      .reshape([B * T, C]); // [B*T, C]
  // P = softmax(q·kᵀ + mask) [B*nh, T, T]; the nested tidies keep one or two [B*nh, T, T] tensors alive at a time
  const probs = (qh: tf.Tensor3D, kh: tf.Tensor3D) =>
    tf.tidy(() => tf.softmax(tf.add(tf.matMul(qh, kh, false, true), causalMask(T))) as tf.Tensor3D);
  const op = fused((qi: tf.Tensor, ki: tf.Tensor, vi: tf.Tensor, save: Save) => {
    const qh = tf.mul(split(qi), scale) as tf.Tensor3D; // scale q, not the T/hd times larger scores
    const kh = split(ki);
    const vh = split(vi);
    save([qh, kh, vh]);
    return {
      value: merge(tf.tidy(() => tf.matMul(probs(qh, kh), vh))),
      gradFunc: (dy, [qs, ks, vs]) => {
        const dO = split(dy); // [B*nh, T, hd]
        const [dV, dS] = tf.tidy(() => {
          const ps = probs(qs as tf.Tensor3D, ks as tf.Tensor3D); // recomputed: no [B*nh, T, T] kept between passes
          const dP = tf.matMul(dO, vs as tf.Tensor3D, false, true); // [B*nh, T, T]
          const rowDot = tf.tidy(() => tf.sum(tf.mul(dP, ps), -1, true)); // [B*nh, T, 1]
          // softmax backward: dS = P ⊙ (dP − rowsum(dP ⊙ P))
          return [
            tf.matMul(ps, dO, true, false),
            tf.mul(
              ps,
              tf.tidy(() => tf.sub(dP, rowDot)),
            ),
          ] as tf.Tensor3D[];
        });
        const dQ = tf.mul(tf.matMul(dS, ks as tf.Tensor3D), scale);
        const dK = tf.matMul(dS, qs as tf.Tensor3D, true, false);
        return [merge(dQ), merge(dK), merge(dV)];
      },
    };
  });
  return op(q, k, v) as tf.Tensor2D;
}

/** The same attention in src/core/kernels/wasm/kernels.c: saves q, k, v and two numbers per row (no [T, T] at all). */
function wasmAttention(q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D, T: number, nh: number): tf.Tensor2D {
  const op = fused((qi: tf.Tensor, ki: tf.Tensor, vi: tf.Tensor, save: Save) => {
    const [y, stats] = tf.engine().runKernel('CausalAttention', { q: qi, k: ki, v: vi }, { T, nh }) as tf.Tensor[];
    save([qi, ki, vi, stats]);
    return {
      value: y,
      gradFunc: (dy, [qs, ks, vs, st]) =>
        tf.engine().runKernel('CausalAttentionGrad', { q: qs, k: ks, v: vs, dy, stats: st }, { T, nh }) as tf.Tensor[],
    };
  });
  return op(q, k, v) as tf.Tensor2D;
}

// ---- the Llama layout's pieces (model/llama.ts) ---------------------------------------------------------
// References: Zhang & Sennrich 2019 (RMSNorm); Shazeer 2020 (SwiGLU); Su et al. 2021 (RoFormer, rotary
// positions); transformers' modeling_llama.py (rotate_half convention, inv_freq = θ^(-2i/d)).

/** RMSNorm over the last axis: x [N, C], g [C] → x/rms(x)·g. Saves x̂ [N, C] and 1/rms [N, 1]. */
const rmsNormOp = (eps: number) =>
  fused((x: tf.Tensor, g: tf.Tensor, save: Save) => {
    const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps)); // [N, 1]
    const xhat = tf.mul(x, rstd); // [N, C]
    save([xhat, rstd]);
    return {
      value: tf.mul(xhat, g),
      gradFunc: (dy, [xh, rs]) => {
        const dxhat = tf.mul(dy, g); // [N, C]
        // dx = (1/rms)·(dx̂ − x̂·mean(dx̂·x̂))
        const dx = tf.mul(rs, tf.sub(dxhat, tf.mul(xh, tf.mean(tf.mul(dxhat, xh), -1, true))));
        return [dx, wanted(g) ? tf.sum(tf.mul(dy, xh), 0) : tf.zerosLike(g)];
      },
    };
  });
const rmsCache = new Map<number, ReturnType<typeof rmsNormOp>>();
export function rmsNorm(x: tf.Tensor2D, g: tf.Tensor, eps: number): tf.Tensor2D {
  let op = rmsCache.get(eps);
  if (!op) rmsCache.set(eps, (op = rmsNormOp(eps)));
  return op(x, g) as tf.Tensor2D;
}

/** SwiGLU's gating: silu(gate) ⊙ up, both [N, I]. Saves both inputs. silu'(g) = σ(g)·(1 + g·(1 − σ(g))). */
export const swiglu = fused((gate: tf.Tensor, up: tf.Tensor, save: Save) => {
  save([gate, up]);
  return {
    value: tf.mul(tf.mul(gate, tf.sigmoid(gate)), up),
    gradFunc: (dy, [g, u]) => {
      const sg = tf.sigmoid(g);
      const dGate = tf.mul(tf.mul(dy, u), tf.mul(sg, tf.add(1, tf.mul(g, tf.sub(1, sg)))));
      return [dGate, tf.mul(dy, tf.mul(g, sg))];
    },
  };
}) as (gate: tf.Tensor2D, up: tf.Tensor2D) => tf.Tensor2D;

const ropeCache = new Map<string, [tf.Tensor, tf.Tensor]>();
/** cos and sin [1, T, 1, hd] for positions 0..T-1 (each frequency twice: transformers' cat(freqs, freqs)). */
function ropeTables(T: number, hd: number, theta: number): [tf.Tensor, tf.Tensor] {
  const key = `${T},${hd},${theta}`;
  let t = ropeCache.get(key);
  if (!t) {
    const cos = new Float32Array(T * hd);
    const sin = new Float32Array(T * hd);
    const half = hd / 2;
    for (let i = 0; i < half; i++) {
      // float32 like transformers' inv_freq, so long contexts round the same way
      const inv = Math.fround(1 / Math.pow(theta, (2 * i) / hd));
      for (let p = 0; p < T; p++) {
        const ang = Math.fround(p * inv);
        cos[p * hd + i] = cos[p * hd + i + half] = Math.cos(ang);
        sin[p * hd + i] = sin[p * hd + i + half] = Math.sin(ang);
      }
    }
    t = [tf.keep(tf.tensor(cos, [1, T, 1, hd])), tf.keep(tf.tensor(sin, [1, T, 1, hd]))];
    ropeCache.set(key, t);
  }
  return t;
}

/** rotate_half: [x1, x2] → [−x2, x1] over the last axis (and its transpose, [y1, y2] → [y2, −y1], for backward). */
function rotateHalf(x: tf.Tensor, transpose: boolean): tf.Tensor {
  const [x1, x2] = tf.split(x, 2, -1);
  return transpose ? tf.concat([x2, tf.neg(x1)], -1) : tf.concat([tf.neg(x2), x1], -1);
}

/**
 * Rotary position embedding on q or k: x [B*T, nh*hd] → x·cos + rotate_half(x)·sin per head, positions 0..T-1.
 * A fixed rotation of x, so its gradient is the inverse rotation of dy; nothing is saved.
 */
export function rope(x: tf.Tensor2D, B: number, T: number, nh: number, theta: number): tf.Tensor2D {
  const hd = x.shape[1] / nh;
  const [cos, sin] = ropeTables(T, hd, theta);
  const shape = [B, T, nh, hd];
  return onlyX(
    x,
    (xx) => {
      const x4 = xx.reshape(shape);
      return tf.add(tf.mul(x4, cos), tf.mul(rotateHalf(x4, false), sin)).reshape(x.shape);
    },
    (dy) => {
      const d4 = dy.reshape(shape);
      return tf.add(tf.mul(d4, cos), rotateHalf(tf.mul(d4, sin), true)).reshape(x.shape);
    },
  ) as tf.Tensor2D;
}

/**
 * Grouped-query attention's sharing: k or v [N, nKv*hd] → [N, nKv*g*hd], each key/value head repeated for the g
 * query heads that read it (transformers' repeat_kv). The gradient sums the g copies back.
 */
export function repeatKv(x: tf.Tensor2D, nKv: number, g: number): tf.Tensor2D {
  if (g === 1) return x;
  const [N, W] = x.shape;
  const hd = W / nKv;
  return onlyX(
    x,
    (xx) => tf.tile(xx.reshape([N, nKv, 1, hd]), [1, 1, g, 1]).reshape([N, nKv * g * hd]),
    (dy) => tf.sum(dy.reshape([N, nKv, g, hd]), 2).reshape([N, W]),
  ) as tf.Tensor2D;
}

/**
 * Mean cross-entropy over rows with weight 1: logits [N, V], targets [N] int32, weights [N] 0/1 → scalar.
 * Saves the probabilities [N, V]; the gradient is (softmax − one-hot)·w / Σw, with no gather (wasm lacks its gradient).
 */
export const crossEntropy = fused((lg: tf.Tensor, targets: tf.Tensor, weights: tf.Tensor, save: Save) => {
  // on wasm one pass of src/core/kernels/wasm/kernels.c each way; elsewhere the same math in tfjs ops
  const own = wasmKernels();
  const V = (lg as tf.Tensor2D).shape[1];
  let probs: tf.Tensor;
  let nll: tf.Tensor; // [N]
  if (own) [probs, nll] = tf.engine().runKernel('SoftmaxNll', { logits: lg, targets }) as tf.Tensor[];
  else {
    const logp = tf.logSoftmax(lg); // [N, V]
    probs = tf.exp(logp);
    nll = tf.neg(tf.sum(tf.mul(logp, tf.oneHot(targets as tf.Tensor1D, V).toFloat()), -1));
  }
  const denom = tf.maximum(tf.sum(weights), 1);
  save([probs, targets, weights, denom]);
  return {
    value: tf.div(tf.sum(tf.mul(nll, weights)), denom),
    gradFunc: (dy, [p, t, w, d]) => {
      const coef = tf.mul(tf.div(w, d), dy); // [N]
      const dlg = own
        ? (tf.engine().runKernel('SoftmaxNllGrad', { probs: p, targets: t, coef }) as tf.Tensor)
        : tf.mul(tf.sub(p, tf.oneHot(t as tf.Tensor1D, V).toFloat()), coef.reshape([-1, 1]));
      return [dlg, tf.zerosLike(t), tf.zerosLike(w)];
    },
  };
}) as (lg: tf.Tensor2D, targets: tf.Tensor1D, weights: tf.Tensor1D) => tf.Scalar;
