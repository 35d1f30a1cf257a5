// The setup panels' state: the RunConfig being edited, the uploaded dataset and its validation report, and
// what a teacher's link hides. Problems come from core's configProblems(), so the page and the trainer agree.

import { configProblems, defaultConfig, type RunConfig } from '../../core/config';
import type { TextEncoding } from '../../core/data/parse';
import { splitCounts } from '../../core/data/split';
import type { DatasetInfo, Validation } from '../../protocol';
import { tabMemory } from '../device';

export const CUSTOM = 'custom';

export interface FieldProblem {
  field: string;
  message: string;
}

export class Setup {
  config = $state<RunConfig>(defaultConfig());
  customText = $state.raw<string | null>(null);
  customFileName = $state<string | null>(null);
  /** How the uploaded file's bytes were read (null: pasted or restored text). */
  customEncoding = $state<TextEncoding | null>(null);
  validation = $state.raw<Validation | null>(null);
  validationError = $state<string | null>(null);
  validating = $state(false);
  /** Config paths a teacher's link keeps visible (null: show everything). */
  visibleControls = $state.raw<string[] | null>(null);
  datasets = $state.raw<DatasetInfo[]>([]);
  /** What a model may take in this tab: a link to a bigger one is refused before it is built. */
  readonly memory = tabMemory();

  readonly isCustom = $derived(this.config.data.dataset === CUSTOM);

  /** Records the run will have, when known: for the batch-size-versus-training-set check. */
  readonly recordCount = $derived.by(() => {
    if (this.isCustom) return this.validation?.records.length;
    return this.datasets.find((d) => d.name === this.config.data.dataset)?.records;
  });

  readonly trainSize = $derived.by(() => {
    const n = this.recordCount;
    if (n === undefined || n < 1) return undefined;
    try {
      const train = splitCounts(n, this.config.data.split).train;
      return this.config.data.maxRecords > 0 ? Math.min(train, this.config.data.maxRecords) : train;
    } catch {
      return undefined; // a bad split is reported by configProblems
    }
  });

  readonly problems: FieldProblem[] = $derived.by(() => {
    const out: FieldProblem[] = configProblems(this.config, this.trainSize, this.memory).map((p) => ({
      field: p.field,
      message: p.message,
    }));
    if (this.isCustom) {
      const v = this.validation;
      if (!this.customText) out.push({ field: 'data.dataset', message: 'Paste or upload a dataset first.' });
      else if (v && v.records.length === 0)
        out.push({
          field: 'data.dataset',
          message: 'The dataset has no usable records: fix the lines listed in the report.',
        });
      else if (v && v.records.length < 3)
        out.push({
          field: 'data.dataset',
          message: `The dataset has only ${v.records.length} usable record(s); at least 3 are needed to split off validation and test.`,
        });
    }
    return out;
  });

  /** Broken model settings: while there are any, the page asks the worker to build nothing. */
  readonly modelProblems = $derived(this.problems.filter((p) => p.field.startsWith('model.')));

  readonly canStart = $derived(
    this.problems.length === 0 && !this.validating && (!this.isCustom || this.validation !== null),
  );

  /** Messages for a field (its own path or any path below it). */
  problemsFor(path: string): string[] {
    return this.problems.filter((p) => p.field === path || p.field.startsWith(`${path}.`)).map((p) => p.message);
  }

  /** Whether a control shows: always, unless a teacher's link limits the page to the lesson's controls. */
  visible(path: string): boolean {
    const keep = this.visibleControls;
    if (!keep) return true;
    return keep.some((c) => c === path || path.startsWith(`${c}.`) || c.startsWith(`${path}.`));
  }
}
