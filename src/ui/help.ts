// One line per control (the settings registry's help, src/core/settings.ts): shown as the tooltip and, while the
// control has focus, under it.

import { SETTINGS, settingOf } from '../core/settings';

export const HELP: Record<string, string> = Object.fromEntries(SETTINGS.map((s) => [s.path, s.help]));

export const hint = (path: string) => settingOf(path)?.help ?? '';
