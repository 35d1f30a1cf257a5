import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend';
await initBackend('wasm');
async function time(name: string, f: () => tf.Tensor, n=20) { for (let i=0;i<3;i++){const r=f(); await r.data(); r.dispose();} const t0=performance.now(); for(let i=0;i<n;i++){const r=f(); await r.data(); r.dispose();} console.log(name, ((performance.now()-t0)/n).toFixed(3),'ms'); }
const a = tf.randomNormal([128,128]); const v = tf.randomNormal([128,16]);
await time('2D [128,128]x[128,16]', () => tf.matMul(a, v), 200);
const att = tf.randomNormal([64,128,128]);
await time('slice one [1,128,128] of 64', () => tf.slice(att, [5,0,0],[1,128,128]), 200);
const a1 = tf.randomNormal([1,128,128]); const v1 = tf.randomNormal([1,128,16]);
await time('3D batch1 [1,128,128]x[1,128,16]', () => tf.matMul(a1, v1), 200);
const big = tf.randomNormal([8192,128]);
await time('2D [8192,128]x[128,16] (same flops as batch of 64)', () => tf.matMul(big, v), 50);
