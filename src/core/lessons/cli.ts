// Placeholder until the lessons land: the CLI's --lesson flag reports that no lesson exists yet.

import type { DeepPartial, RunConfig } from '../config';
import type { Session } from '../session';
import type { RunHistory } from '../train/types';

export async function lessonCli(id: string, _variant: string): Promise<{ override: DeepPartial<RunConfig>; diagnose(h: RunHistory, s: Session): Promise<string> }> {
  throw new Error(`unknown lesson "${id}"`);
}
