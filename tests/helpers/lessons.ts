// Trains a lesson's pitfall and one fix on the shipped model (wasm backend) and returns both diagnoses.

import { diskLoader } from '../../src/core/assets';
import { lessonById } from '../../src/core/lessons/index';
import { runLesson } from '../../src/core/lessons/runner';
import { describe, expect, it } from 'vitest';
import type { Diagnosis } from '../../src/core/lessons/types';
import { Session } from '../../src/core/session';

/** For a test whose lesson runs on small-world (2.5 times tiny-world's step time) and trains several variants: over
 * the unit project's 600 s hang guard on a loaded machine. A guard, not a speed check. */
export const SMALL_WORLD_TIMEOUT = 1_200_000;

let session: Session | null = null;

export async function lessonSession(): Promise<Session> {
  session ??= await Session.create({ loader: await diskLoader(), backend: 'wasm' });
  return session;
}

/** A diagnosis is prose for a learner: no code identifier (camelCase) in it (the separator "\nA: " is not one). */
function prose(d: Diagnosis): Diagnosis {
  expect(d.text).not.toMatch(/(?<![\\\w])[a-z]+[A-Z]\w*/);
  return d;
}

// each lesson's pitfall is trained once per test file: the tests of its other fixes compare against the same run
const pitfalls = new Map<string, Promise<Diagnosis>>();

/** The lesson's pitfall diagnosis, trained on first use. */
export function pitfallOf(id: string): Promise<Diagnosis> {
  let p = pitfalls.get(id);
  if (!p) {
    p = lessonSession().then(async (s) => prose((await runLesson(s, lessonById(id), 'pitfall')).diagnosis));
    pitfalls.set(id, p);
  }
  return p;
}

/** Pitfall and fix diagnoses; their metrics are what the lesson measured on real training runs. */
export async function pitfallAndFix(id: string, fixId?: string): Promise<{ pitfall: Diagnosis; fix: Diagnosis }> {
  const s = await lessonSession();
  const lesson = lessonById(id);
  const pitfall = await pitfallOf(id);
  const fix = prose((await runLesson(s, lesson, fixId ?? lesson.fixes[0].id)).diagnosis);
  console.log(`${id}\n  pitfall: ${pitfall.text}\n  fix:     ${fix.text}`);
  return { pitfall, fix };
}

/**
 * A test per fix of each lesson named, less those its own test trains (by id), so that every variant the page
 * offers is trained by some test: each against the lesson's pitfall run (trained once per file, same seed), its
 * diagnosis no longer shows the pitfall, by the line the lesson states (docs/LESSONS.md has each on three seeds).
 */
export function everyOtherFix(title: string, tested: Record<string, string[]>) {
  const rows = Object.entries(tested).flatMap(([lesson, ids]) =>
    lessonById(lesson)
      .fixes.filter((f) => !ids.includes(f.id))
      .map((f) => ({ lesson, fix: f.id, label: f.label })),
  );
  describe(title, () => {
    it.each(rows)(
      '$lesson: $label',
      async ({ lesson, fix }) => {
        expect((await pitfallOf(lesson)).showsPitfall).toBe(true);
        expect((await variantDiagnosis(lesson, fix)).showsPitfall).toBe(false);
      },
      SMALL_WORLD_TIMEOUT,
    );
  });
}

/** One more variant's diagnosis, run on the shared session (for a lesson whose pitfall a test already ran). */
export async function variantDiagnosis(id: string, variantId: string): Promise<Diagnosis> {
  const d = prose((await runLesson(await lessonSession(), lessonById(id), variantId)).diagnosis);
  console.log(`${id} / ${variantId}: ${d.text}`);
  return d;
}
