// Trains every lesson's pitfall and its first fix on the wasm backend and prints the markdown table in
// docs/LESSONS.md: what each diagnosis measured. Real runs, nothing scripted:
//   npx tsx scripts/lessons-table.ts [lesson-id,...] > table.md

import { diskLoader } from '../src/core/assets';
import { LESSONS } from '../src/core/lessons/index';
import { runLesson } from '../src/core/lessons/runner';
import { Session } from '../src/core/session';

const only = process.argv[2]?.split(',');
const session = await Session.create({ loader: await diskLoader(), backend: 'wasm' });
console.log('| # | lesson | run | shows the pitfall | diagnosis (measured) | seconds |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const lesson of LESSONS) {
  if (only && !only.includes(lesson.id)) continue;
  for (const v of [lesson.pitfall, lesson.fixes[0]]) {
    const t0 = performance.now();
    let cells: string[];
    try {
      const r = await runLesson(session, lesson, v.id);
      cells = [r.diagnosis.showsPitfall ? 'yes' : 'no', r.diagnosis.text.replace(/\|/g, '\\|')];
    } catch (e) {
      cells = ['error', (e as Error).message.replace(/\|/g, '\\|')];
    }
    console.log(
      `| ${lesson.number} | ${lesson.title} | ${v.label} | ${cells[0]} | ${cells[1]} | ${((performance.now() - t0) / 1000).toFixed(0)} |`,
    );
  }
}
session.dispose();
