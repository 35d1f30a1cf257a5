// The definitions the page's main thread shares with core (src/core/rules.ts): exact match, variant lookup and
// a variant's config; and the module stays free of tfjs, so the page can import it without loading the engine.

import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LESSONS } from '../../src/core/lessons/index';
import { HELP } from '../../src/ui/help';
import { exactMatch, lessonConfig, variantOf, variantOrPitfall, variantsOf } from '../../src/core/rules';

describe('exactMatch', () => {
  it('ignores surrounding space, letter case and one final full stop, nothing else', () => {
    expect(exactMatch(' Dog. ', 'dog')).toBe(true);
    expect(exactMatch('good', 'Good')).toBe(true);
    expect(exactMatch('dog', 'dogs')).toBe(false);
    expect(exactMatch('a dog', 'dog')).toBe(false);
    expect(exactMatch('', 'dog')).toBe(false);
  });
});

describe('lesson variants', () => {
  const lesson = LESSONS.find((l) => l.id === 'overfitting')!;

  it('lists the pitfall first, then the fixes, and finds each by id', () => {
    expect(variantsOf(lesson).map((v) => v.id)).toEqual(['pitfall', ...lesson.fixes.map((f) => f.id)]);
    expect(variantOf(lesson, 'more-data')).toBe(lesson.fixes.find((f) => f.id === 'more-data'));
    expect(() => variantOf(lesson, 'nope')).toThrow(
      /lesson "overfitting" has no variant "nope"; choose one of pitfall, early-stopping/,
    );
    expect(variantOrPitfall(lesson, 'nope')).toBe(lesson.pitfall);
    expect(variantOrPitfall(lesson, null)).toBe(lesson.pitfall);
  });

  it("a variant's config is the defaults, then the lesson's base, then the variant's, then the caller's", () => {
    const c = lessonConfig(lesson, 'more-data', { lora: { rank: 2 } });
    expect(c.data.maxRecords).toBe(0); // the variant's over the base's 24
    expect(c.train.maxSteps).toBe(120); // the lesson's base
    expect(c.lora.rank).toBe(2); // the caller's over the base's 16
    expect(c.train.optimizer).toBe('adamw'); // the defaults
  });

  it("every lesson names its model, so a change of the page's default model never moves a lesson", () => {
    for (const l of LESSONS) expect(l.base.model?.name, l.id).toMatch(/^(tiny|small)-world$/);
  });

  it("every control a lesson lists is a setting, or a group of settings, with the page's help text", () => {
    const helped = (path: string) => Object.keys(HELP).some((k) => k === path || k.startsWith(`${path}.`));
    for (const l of LESSONS) for (const path of l.controls) expect(helped(path), `${l.id}: ${path}`).toBe(true);
  });

  it('every lesson variant has a label that differs from the others in its lesson', () => {
    for (const l of LESSONS) {
      const labels = variantsOf(l).map((v) => v.label);
      expect(new Set(labels).size, l.id).toBe(labels.length);
    }
  });
});

describe('src/core/rules.ts', () => {
  it('imports nothing but tfjs-free modules (config, and what config imports: memory-estimate, settings, units)', () => {
    const imports = (file: string) =>
      [...fs.readFileSync(file, 'utf8').matchAll(/^import .* from '([^']+)';/gm)].map((m) => m[1]);
    expect(imports('src/core/rules.ts')).toEqual(['./config']);
    expect(imports('src/core/config.ts')).toEqual(['./memory-estimate', './settings', './units']);
    expect(imports('src/core/settings.ts')).toEqual([]);
    expect(imports('src/core/memory-estimate.ts')).toEqual(['./config']);
    expect(imports('src/core/units.ts')).toEqual([]);
  });
});
