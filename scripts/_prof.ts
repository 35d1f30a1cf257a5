import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend';
import { tinyConfig, randomExamples, tinyModel } from '../tests/helpers/tiny';
import { logits, maskedCrossEntropy } from '../src/core/model/gpt';
import { makeBatch } from '../src/core/train/batch';
await initBackend(process.argv[2] as any);
const arch = { vocabSize: 99, blockSize: 128, nLayer: 4, nHead: 4, nEmbd: 64, mlpRatio: 4, layerNormEps: 1e-5 };
const c = tinyConfig({ model: { arch } });
const { view } = tinyModel(c, 1, false);
const vars = Object.values(view.params) as tf.Variable[]; vars.forEach(v => v.trainable = true);
const b = makeBatch(randomExamples(16, arch, 3), 128);
const f = () => { const {value, grads} = tf.variableGrads(() => maskedCrossEntropy(logits(view.params, arch, b.x, { embedMode: view.embedMode }), b.y, b.w), vars); tf.dispose(grads); return value; };
for (let i=0;i<2;i++) { const v = f(); await v.data(); v.dispose(); }
const prof = await tf.profile(async () => { const v = f(); await v.data(); v.dispose(); });
const agg = new Map<string, {ms:number, n:number}>();
for (const k of prof.kernels) { const key = k.name + ' ' + JSON.stringify(k.inputShapes); const a = agg.get(key) ?? {ms:0,n:0}; a.ms += k.kernelTimeMs as number; a.n++; agg.set(key, a); }
const byName = new Map<string, number>(); for (const k of prof.kernels) byName.set(k.name, (byName.get(k.name) ?? 0) + (k.kernelTimeMs as number));
const total = [...byName.values()].reduce((a,b)=>a+b,0);
console.log('total kernel ms', total.toFixed(0), 'kernels', prof.kernels.length);
console.log([...byName.entries()].sort((a,b)=>b[1]-a[1]).slice(0,15).map(([k,v])=>`${k} ${v.toFixed(0)}`).join('\n'));
console.log('--- top shapes');
console.log([...agg.entries()].sort((a,b)=>b[1].ms-a[1].ms).slice(0,15).map(([k,v])=>`${v.ms.toFixed(0)}ms x${v.n} ${k}`).join('\n'));
