// Trains every variant the page offers (pitfall and every fix) of every lesson on several seeds and prints, per
// variant, mean ± spread of each figure its diagnosis quotes, whether the pitfall shows on each seed, and the wall
// time per run. A fix "helps" on a seed when its diagnosis no longer shows the pitfall that the pitfall's run of
// the same seed shows. Real runs on the wasm backend, nothing scripted:
//   npm run lessons:verify -- [--lesson ID[,ID...]] [--seeds 1,2,3] [--write] [--override JSON] [--variant ID[,ID...]]
// --write merges the results into docs/lessons-verify.json (by lesson) and rewrites two tables in docs/LESSONS.md
// from every lesson recorded there, so parts can be run one at a time: the per-seed figures (between its
// lessons:verify markers) and each variant's diagnosis on its first seed (lessons:verify:text).

import * as fs from 'node:fs';
import { diskLoader } from '../../src/core/assets';
import { LESSONS, lessonById } from '../../src/core/lessons/index';
import { mean, std } from '../../src/core/lessons/measure';
import { runLesson } from '../../src/core/lessons/runner';
import type { Lesson } from '../../src/core/lessons/types';
import { variantsOf } from '../../src/core/rules';
import { Session } from '../../src/core/session';
import { mergeConfig, type DeepPartial, type RunConfig } from '../../src/core/config';

const argv = process.argv.slice(2);
const value = (n: string) => {
  const i = argv.indexOf(`--${n}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const lessons: Lesson[] = value('lesson')?.split(',').map(lessonById) ?? LESSONS;
const seeds = (value('seeds') ?? '1,2,3').split(',').map((s) => {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`--seeds ${value('seeds')}: expected whole numbers separated by commas, like 1,2,3`);
  return n;
});
const write = argv.includes('--write');
// --override JSON: settings on top of every variant (to try a lesson on another model or dataset); not recorded
const extra = value('override');
let override: DeepPartial<RunConfig> = {};
try {
  override = extra ? (JSON.parse(extra) as DeepPartial<RunConfig>) : {};
} catch (e) {
  throw new Error(`--override ${extra}: not JSON (${(e as Error).message}); e.g. '{"model":{"name":"small-world"}}'`);
}
// --variant ID[,ID...]: only these variants (with --override, to try one fix's settings); not recorded either
const only = value('variant')?.split(',');
if ((extra || only) && write)
  throw new Error(
    '--override and --variant change what the lessons run, so their results are not written: drop --write',
  );
const JSON_FILE = 'docs/lessons-verify.json';
const DOC = 'docs/LESSONS.md';
const BEGIN = '<!-- lessons:verify -->';
const END = '<!-- /lessons:verify -->';
const TEXT_BEGIN = '<!-- lessons:verify:text -->';
const TEXT_END = '<!-- /lessons:verify:text -->';

/** One variant on one seed, as its diagnosis measured it. */
interface SeedRun {
  seed: number;
  showsPitfall: boolean;
  metrics: Record<string, number>;
  seconds: number;
  text: string;
}
interface VariantRuns {
  id: string;
  label: string;
  runs: SeedRun[];
}
interface LessonRuns {
  id: string;
  number: number;
  title: string;
  date: string;
  variants: VariantRuns[];
}

const fmt = (x: number) =>
  !Number.isFinite(x)
    ? String(x)
    : Math.abs(x) >= 1000
      ? x.toFixed(0)
      : Math.abs(x) >= 10
        ? x.toFixed(1)
        : Math.abs(x) >= 0.01 || x === 0
          ? x.toFixed(2)
          : x.toExponential(1);
const spread = (xs: number[]) => `${fmt(mean(xs))} ± ${fmt(std(xs))}`;
const marks = (bs: boolean[]) => bs.map((b) => (b ? 'yes' : 'no')).join(' ');

/** Markdown rows for one lesson: one per variant. */
function rows(l: LessonRuns): string[] {
  // the pitfall's run is not there when --variant left it out: then no fix can be said to help
  const pitfall = l.variants.find((v) => v.id === 'pitfall');
  return l.variants.map((v) => {
    const keys = Object.keys(v.runs[0]?.metrics ?? {});
    const figures = keys.map((k) => `${k} ${spread(v.runs.map((r) => r.metrics[k]))}`).join('; ');
    // a fix helps on a seed where the pitfall's run shows the pitfall and the fix's run does not
    const helps = v.runs.map((r) => {
      const p = pitfall?.runs.find((x) => x.seed === r.seed);
      return p !== undefined && p.showsPitfall && !r.showsPitfall;
    });
    const verdict =
      v === pitfall
        ? `shows: ${marks(v.runs.map((r) => r.showsPitfall))}`
        : pitfall
          ? `helps: ${marks(helps)}`
          : `pitfall not run; shows it: ${marks(v.runs.map((r) => r.showsPitfall))}`;
    const seconds = spread(v.runs.map((r) => r.seconds));
    return `| ${l.number} | ${v.label} | ${v.runs.map((r) => r.seed).join(', ')} | ${verdict} | ${figures} | ${seconds} |`;
  });
}

/** Markdown rows for one lesson: each variant's diagnosis on its first seed, as the page prints it. */
function textRows(l: LessonRuns): string[] {
  return l.variants.map((v) => {
    const r = v.runs[0];
    const cell = (t: string) => t.replace(/\|/g, '\\|');
    return `| ${l.number} | ${cell(v.label)} | ${r.seed} | ${r.showsPitfall ? 'yes' : 'no'} | ${cell(r.text)} |`;
  });
}

/** doc with the text between begin and end markers replaced by body. */
function between(doc: string, begin: string, end: string, body: string): string {
  const a = doc.indexOf(begin);
  const b = doc.indexOf(end);
  if (a < 0 || b < a) throw new Error(`${DOC} has no ${begin} … ${end} section to write the table into`);
  return `${doc.slice(0, a + begin.length)}\n${body}\n${doc.slice(b)}`;
}

const HEADER = [
  '| # | variant | seeds | pitfall shows / fix helps, per seed | figures the diagnosis quotes (mean ± s.d. over seeds) | s per run |',
  '| --- | --- | --- | --- | --- | --- |',
];

const session = await Session.create({ loader: await diskLoader(), backend: 'wasm' });
const results: LessonRuns[] = [];
for (const lesson of lessons) {
  const entry: LessonRuns = {
    id: lesson.id,
    number: lesson.number,
    title: lesson.title,
    date: new Date().toISOString().slice(0, 10),
    variants: [],
  };
  for (const v of variantsOf(lesson).filter((x) => !only || only.includes(x.id))) {
    const runs: SeedRun[] = [];
    for (const seed of seeds) {
      const t0 = performance.now();
      const r = await runLesson(session, lesson, v.id, { override: mergeConfig(override, { train: { seed } }) });
      const run = {
        seed,
        showsPitfall: r.diagnosis.showsPitfall,
        metrics: r.diagnosis.metrics,
        seconds: (performance.now() - t0) / 1000,
        text: r.diagnosis.text,
      };
      runs.push(run);
      console.error(
        `${lesson.id} / ${v.id} / seed ${seed}: ${run.seconds.toFixed(0)} s; ${run.showsPitfall ? 'pitfall seen' : 'no pitfall'}: ${run.text}`,
      );
    }
    entry.variants.push({ id: v.id, label: v.label, runs });
  }
  results.push(entry);
  console.log([`${lesson.number}. ${lesson.title}`, ...HEADER, ...rows(entry)].join('\n') + '\n');
}
session.dispose();

if (write) {
  const stored: Record<string, LessonRuns> = fs.existsSync(JSON_FILE)
    ? JSON.parse(fs.readFileSync(JSON_FILE, 'utf8'))
    : {};
  for (const r of results) stored[r.id] = r;
  fs.writeFileSync(JSON_FILE, JSON.stringify(stored, null, 1) + '\n');
  const all = Object.values(stored).sort((a, b) => a.number - b.number);
  const table = [...HEADER, ...all.flatMap(rows)].join('\n');
  const texts = [
    '| # | variant | seed | shows the pitfall | diagnosis, as the page prints it |',
    '| --- | --- | --- | --- | --- |',
    ...all.flatMap(textRows),
  ].join('\n');
  const dates = [...new Set(all.map((l) => l.date))].join(', ');
  const note = `Lessons measured: ${all.map((l) => l.number).join(', ')} (on ${dates}; seeds per run in the table).`;
  let doc = fs.readFileSync(DOC, 'utf8');
  doc = between(doc, BEGIN, END, `${note}\n\n${table}`);
  doc = between(doc, TEXT_BEGIN, TEXT_END, texts);
  fs.writeFileSync(DOC, doc);
  console.error(`wrote ${JSON_FILE} and the table in ${DOC}`);
}
