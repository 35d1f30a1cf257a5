// The copy probe (src/core/eval/copy-probe.ts) on shipped models, with our engine on wasm:
//   npx tsx scripts/probes/copy-probe.ts [model ...]          (default: every model in public/models)
//   npx tsx scripts/probes/copy-probe.ts --write-fixture     (rewrites tests/fixtures/copy-probe.json; seeded)
// Prints one JSON line per model. scripts/probes/copy_probe.py measures the same fixture in PyTorch.

import * as fs from 'node:fs';
import { diskLoader } from '../../src/core/assets';
import { initBackend } from '../../src/core/backend';
import { copyProbe, type ProbeSet } from '../../src/core/eval/copy-probe';
import { loadModel } from '../../src/core/model/checkpoint';
import { Rng } from '../../src/core/rng';

export const FIXTURE = 'tests/fixtures/copy-probe.json';
// the corpus's own names (scripts/maintain/make-corpus-v2.ts), so no name is new to a small-world model
const NAMES = (
  'Mia Ada Lila Nora Rosa Ivy Zoe Ruby Tess Anna Lucy Maya Pia Elsa Iris Clara Jane Beth Cora Edith Fay Gwen Hazel ' +
  'Jill Kate Lena Mabel Nell Olive Polly Una Vera Queenie Tom Ben Sam Finn Leo Max Eli Owen Hugo Jack Kai Otto Noah ' +
  'Theo Jonas Felix Alfie Bert Carl Dan Ezra Fred Gus Hal Ivan Joe Ken Luke Ned Paul Xavier Yusuf Walt'
).split(' ');

export function makeProbeSet(seed = 2026, sequences = 64, questions = 64): ProbeSet {
  const g = new Rng(seed);
  const repeat = Array.from({ length: sequences }, () => {
    const seq = g
      .shuffle([...NAMES])
      .slice(0, 6)
      .join(' ');
    return {
      text: `${seq} ${seq}`,
      first: [0, seq.length] as [number, number],
      second: [seq.length + 1, 2 * seq.length + 1] as [number, number],
    };
  });
  const recall = Array.from({ length: questions }, (_, i) => {
    const names = g.shuffle([...NAMES]).slice(0, 4);
    const rooms = g.shuffle([1, 2, 3, 4, 5, 6, 7, 8, 9]).slice(0, 4);
    const k = g.int(4);
    const context = names.map((n, j) => `${n} is in room ${rooms[j]}`).join(', ') + '.';
    return i % 2 === 0
      ? {
          direction: 'forward' as const,
          prompt: `${context} Which room is ${names[k]} in?\nAnswer: `,
          answer: String(rooms[k]),
        }
      : {
          direction: 'backward' as const,
          prompt: `${context} Who is in room ${rooms[k]}?\nAnswer: `,
          answer: names[k],
        };
  });
  return { repeat, recall };
}

async function main() {
  if (process.argv.includes('--write-fixture')) {
    fs.writeFileSync(FIXTURE, JSON.stringify(makeProbeSet(), null, 1) + '\n');
    console.log(`wrote ${FIXTURE}`);
    return;
  }
  const set = JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as ProbeSet;
  await initBackend('wasm');
  const loader = await diskLoader();
  const names = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  for (const name of names.length ? names : fs.readdirSync('public/models').sort()) {
    const m = await loadModel(loader, name);
    const view = { params: m.model.params, arch: m.model.arch, lora: null, embedMode: 'onehot' as const };
    const r = await copyProbe(view, m.tokenizer, set);
    console.log(JSON.stringify({ model: name, ...r }));
  }
}

if (process.argv[1]?.endsWith('copy-probe.ts')) await main();
