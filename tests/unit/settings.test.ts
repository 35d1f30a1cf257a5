// The settings registry (src/core/settings.ts) is the one home of a setting's help, run-diff name, bounds and
// choices: every entry names a real field of RunConfig, every choice is accepted and anything else refused naming
// them all, every bound holds, and the page's help and run diff read the registry rather than a copy.

import { describe, expect, it } from 'vitest';
import { configProblems, defaultConfig, type RunConfig } from '../../src/core/config';
import { setPath } from '../../src/core/overrides';
import { SETTINGS, choicesOf, rangeOf, settingOf, type Setting } from '../../src/core/settings';
import { describeChanges, diffConfig, leaves, shortName } from '../../src/ui/config-diff';
import { applyOverrides, decodeHash, encodeHash } from '../../src/ui/hash';
import { hint } from '../../src/ui/help';

// accuracy measured, so that early stopping may watch it (a rule across two fields)
const base = () => setPath(defaultConfig(), 'eval.accuracy=true');
const problemsAt = (path: string, value: unknown) =>
  configProblems(setPath(base(), `${path}=${JSON.stringify(value)}`)).filter((p) => p.field === path);

describe('the settings registry', () => {
  it('names each setting once, and each is a field (or a group of fields) of RunConfig', () => {
    const paths = SETTINGS.map((s) => s.path);
    expect(new Set(paths).size).toBe(paths.length);
    const fields = [...leaves(defaultConfig()).keys()];
    for (const p of paths)
      expect(
        fields.some((f) => f === p || f.startsWith(p + '.')),
        p,
      ).toBe(true);
    for (const s of SETTINGS) expect(s.help.length, s.path).toBeGreaterThan(10);
  });

  it('every choice is accepted, and a value outside them is refused with all of them named', () => {
    for (const s of SETTINGS.filter((x) => x.choices)) {
      for (const v of choicesOf(s.path)) expect(problemsAt(s.path, v), `${s.path} = ${v}`).toEqual([]);
      const [p] = problemsAt(s.path, 'nonsense');
      for (const v of choicesOf(s.path)) expect(p.message, s.path).toContain(v);
    }
  });

  it("lora.dropout's bounds are the check's: its max accepted, just above refused", () => {
    const { min, max } = rangeOf('lora.dropout');
    expect(problemsAt('lora.dropout', min)).toEqual([]);
    expect(problemsAt('lora.dropout', max)).toEqual([]);
    expect(problemsAt('lora.dropout', max + 0.01)[0].message).toBe(
      `lora.dropout = ${max + 0.01} is not valid: a number from ${min} to ${max}`,
    );
  });

  it('the help line and the run diff read the registry', () => {
    expect(hint('train.lr')).toBe(settingOf('train.lr')!.help);
    expect(shortName('train.lr')).toBe(settingOf('train.lr')!.short);
    const a: RunConfig = defaultConfig();
    const b = setPath(setPath(a, 'train.seed=7'), 'train.lr=0.01');
    // the registry orders the diff: lr (a short name) before seed (none)
    expect(diffConfig(a, b).map((c) => c.path)).toEqual(['train.lr', 'train.seed']);
    expect(describeChanges(diffConfig(a, b))).toBe('lr 3e-3→0.01, seed 42→7');
  });

  it('a new setting needs its default and its registry entry: then it is checked, helped, diffed and carried by a link', () => {
    // the measure of issue 24: a throwaway field, added the way a contributor would add one, touches no other list
    const entry: Setting = {
      path: 'train.throwaway',
      help: 'A setting made up by this test, to show which files a new one needs.',
      rule: { type: 'int', min: 1, max: 9 },
    };
    (SETTINGS as Setting[]).push(entry); // the registry entry
    try {
      const withDefault = () => {
        const c = defaultConfig() as RunConfig & { train: { throwaway?: number } };
        c.train.throwaway = 3; // its default, as config.ts's defaultConfig() would write it
        return c as RunConfig;
      };
      const base = withDefault();
      expect(configProblems(base)).toEqual([]);
      const [p] = configProblems(setPath(base, 'train.throwaway=12'));
      expect([p.field, p.message]).toEqual(['train.throwaway', expect.stringContaining('an integer from 1 to 9')]);
      expect(hint('train.throwaway')).toBe(entry.help);
      const changed = setPath(base, 'train.throwaway=5');
      expect(describeChanges(diffConfig(base, changed))).toBe('throwaway 3→5');
      // a link carries it and reads it back (hash.ts has no list of fields to extend)
      const hash = encodeHash(changed, {}, base);
      expect(hash).toContain('train.throwaway=5');
      const { config, problems } = applyOverrides(withDefault(), decodeHash(hash).overrides);
      expect(problems).toEqual([]);
      expect((config.train as { throwaway?: number }).throwaway).toBe(5);
    } finally {
      (SETTINGS as Setting[]).pop();
    }
  });
});
