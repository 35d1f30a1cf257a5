// Trains a lesson's pitfall and one fix on the shipped model (wasm backend) and returns both diagnoses.

import { diskLoader } from '../../src/core/assets';
import { lessonById } from '../../src/core/lessons/index';
import { runLesson } from '../../src/core/lessons/runner';
import type { Diagnosis } from '../../src/core/lessons/types';
import { Session } from '../../src/core/session';

/** For a test whose lesson runs on small-world (2.5 times tiny-world's step time): over the unit project's 120 s
 * once test files share the CPU. */
export const SMALL_WORLD_TIMEOUT = 400_000;

let session: Session | null = null;

export async function lessonSession(): Promise<Session> {
  session ??= await Session.create({ loader: await diskLoader(), backend: 'wasm' });
  return session;
}

/** Pitfall and fix diagnoses; their metrics are what the lesson measured on real training runs. */
export async function pitfallAndFix(id: string, fixId?: string): Promise<{ pitfall: Diagnosis; fix: Diagnosis }> {
  const s = await lessonSession();
  const lesson = lessonById(id);
  const pitfall = (await runLesson(s, lesson, 'pitfall')).diagnosis;
  const fix = (await runLesson(s, lesson, fixId ?? lesson.fixes[0].id)).diagnosis;
  console.log(`${id}\n  pitfall: ${pitfall.text}\n  fix:     ${fix.text}`);
  return { pitfall, fix };
}

/** One more variant's diagnosis, run on the shared session (for a lesson whose pitfall a test already ran). */
export async function variantDiagnosis(id: string, variantId: string): Promise<Diagnosis> {
  const d = (await runLesson(await lessonSession(), lessonById(id), variantId)).diagnosis;
  console.log(`${id} / ${variantId}: ${d.text}`);
  return d;
}
