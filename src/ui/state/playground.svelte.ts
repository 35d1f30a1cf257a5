// The page's one state object: it owns the engine (worker), the setup, the run on screen, the run library,
// the chart settings, the sample bench and the chosen lesson, and carries out what the buttons ask.
// Components only read it and call its methods.

import { proxy } from 'comlink';
import {
  configProblems,
  defaultConfig,
  DEFAULT_MODEL,
  loraTargetsOf,
  mergeConfig,
  type Backend,
  type ModelArch,
  type DeepPartial,
  type RunConfig,
} from '../../core/config';
import { decodeDataset, type TextEncoding } from '../../core/data/parse';
import { explainEngineError } from '../../core/engine-errors';
import type { Diagnosis } from '../../core/lessons/types';
import { variantOf, variantOrPitfall } from '../../core/rules';
import type {
  LessonInfo,
  LessonListener,
  LessonOutcome,
  LossRow,
  ModelInfo,
  Progress,
  RunListener,
  RunStart,
} from '../../protocol';
import { buildCharts } from '../chart-data';
import { describeChanges, diffConfig } from '../config-diff';
import { checkFileSize, MAX_FILE_BYTES } from '../files';
import { applyOverrides, decodeHash, encodeHash } from '../hash';
import type { RunLesson, StoredRun } from '../runs';
import { Bench } from './bench.svelte';
import { Engine } from './engine.svelte';
import { Exports } from './exports.svelte';
import { Library } from './library.svelte';
import { ModelImport } from './model-import.svelte';
import { RunState } from './run.svelte';
import { CUSTOM, Setup } from './setup.svelte';

const SAVE_EVERY_MS = 3000; // an in-progress run is written to IndexedDB this often

/** One side of a pitfall-versus-fix comparison. */
export interface ComparedRun {
  label: string;
  diagnosis: Diagnosis | null;
}

export class Playground {
  readonly setup = new Setup();
  readonly library = new Library();
  readonly bench = new Bench();
  readonly engine = new Engine((message) => this.workerDied(message));
  readonly modelImport = new ModelImport(
    this.engine,
    (m) => this.useImported(m),
    () => ({ config: this.setup.config, backend: this.engine.report?.backend ?? null }),
  );
  readonly exports = new Exports(this.engine);

  current = $state.raw<RunState | null>(null);
  lesson = $state.raw<LessonInfo | null>(null);
  lessonVariant = $state<string | null>(null);
  /** The lesson's pitfall and a fix run one after the other (compare()), with each diagnosis once it is in. */
  comparison = $state.raw<{ lesson: string; pitfall: ComparedRun; fix: ComparedRun } | null>(null);
  /** "trial 2 of 4" while a lesson variant with several runs trains. */
  trialNote = $state<string | null>(null);
  measuring = $state(false);
  notices = $state.raw<string[]>([]);
  smoothing = $state(0.6);
  logScale = $state(false);
  booted = $state(false);
  /** The trained run's training records, highest loss first (mislabeled and poisoned ones float up). */
  lossRows = $state.raw<LossRow[] | null>(null);
  lossRowsError = $state<string | null>(null);
  private stopRequested = false;
  private lastSave = 0;
  /** A link's hash that names a lesson, kept until the worker has listed the lessons. */
  private pendingHash: string | null = null;

  readonly training = $derived(this.current?.active ?? false);
  /** The worker holds fine-tuned weights to sample from: a run is training or has trained, or an adapter is loaded. */
  readonly hasTuned = $derived(this.training || this.engine.state.tuned || this.engine.state.adapter !== null);
  readonly lessons = $derived(this.engine.lessons);
  readonly variant = $derived(
    this.lesson && this.lessonVariant ? variantOrPitfall(this.lesson, this.lessonVariant) : null,
  );
  /** How many runs Start will train: a lesson variant may need several (k-fold, search). */
  readonly trialCount = $derived(this.variant?.trials?.runs.length ?? 1);

  readonly overlays = $derived.by(() => {
    const cur = this.current;
    return this.library.overlayIds
      .filter((id) => id !== cur?.id)
      .map((id) => this.library.get(id))
      .filter((r): r is StoredRun => r !== undefined)
      .map((r) => {
        const tag = `#${this.library.numberOf(r.id)}`;
        return {
          run: r,
          tag,
          label: `${tag} ${cur ? describeChanges(diffConfig(r.config, cur.config), 2) : ''}`.trim(),
        };
      });
  });

  readonly charts = $derived.by(() => {
    const cur = this.current;
    const curves = cur ? { steps: cur.steps, evals: cur.evals, warmupEndStep: cur.warmupEndStep, end: cur.end } : null;
    return buildCharts(curves, this.overlays, this.smoothing);
  });

  /** Storage, saved setup, the link's hash, the latest run; then the worker. */
  async boot(): Promise<void> {
    await this.library.open();
    const saved = await this.library.storage?.setup().catch(() => undefined);
    if (saved) {
      this.setup.config = mergeConfig(defaultConfig(), saved.config as DeepPartial<RunConfig>);
      this.setup.customText = saved.customText;
      this.setup.customFileName = saved.customFileName;
    }
    if (location.hash.length > 1) this.applyHash(location.hash);
    const last = this.library.runs.at(-1);
    if (last) this.current = RunState.fromStored(last);
    this.booted = true;
    await this.startEngine(this.setup.config.model.backend);
  }

  /** A link's hash replaces the setup: the lesson's settings (if any) first, then each path=value. */
  applyHash(hash: string) {
    const h = decodeHash(hash);
    let config = defaultConfig();
    this.lesson = null;
    this.lessonVariant = null;
    this.setup.visibleControls = null;
    if (h.lesson && this.engine.lessons.length === 0)
      this.pendingHash = hash; // applied again once lessons are listed
    else if (h.lesson) {
      const lesson = this.engine.lessons.find((l) => l.id === h.lesson);
      if (lesson) {
        const variant = variantOrPitfall(lesson, h.variant);
        config = mergeConfig(config, lesson.base, variant.override);
        this.lesson = lesson;
        this.lessonVariant = variant.id;
        if (h.hide) this.setup.visibleControls = lesson.controls;
      } else
        this.notice(
          `The link names a lesson "${h.lesson}" that this page does not have; showing the plain playground.`,
        );
    }
    const { config: c, problems } = applyOverrides(config, h.overrides);
    // the engine starts on the backend at once, so a bad one is replaced rather than only flagged
    const backend = configProblems(c).find((p) => p.field === 'model.backend');
    if (backend) {
      problems.push(`The link's setting was ignored: ${backend.message}; using auto.`);
      c.model.backend = 'auto';
    }
    this.setup.config = c;
    problems.forEach((p) => this.notice(p));
  }

  /** The setup as a link: the lesson, then only what differs from the defaults. */
  hashFor(config: RunConfig): string {
    return encodeHash(config, {
      lesson: this.lesson?.id,
      variant: this.lessonVariant,
      hide: this.setup.visibleControls !== null,
    });
  }

  /** Keeps IndexedDB and the URL in step with the setup. Call once, from the root component. */
  watch() {
    let timer: ReturnType<typeof setTimeout> | undefined;
    $effect(() => {
      if (!this.booted) return;
      const config = $state.snapshot(this.setup.config) as RunConfig;
      const { customText, customFileName } = this.setup;
      const hash = this.hashFor(config);
      clearTimeout(timer);
      timer = setTimeout(() => {
        history.replaceState(null, '', hash ? `#${hash}` : location.pathname + location.search);
        void this.library.storage?.putSetup({ config, customText, customFileName }).catch(() => undefined);
      }, 300);
    });
  }

  notice(text: string) {
    if (!this.notices.includes(text)) this.notices = [...this.notices, text];
  }
  dismissNotice(i: number) {
    this.notices = this.notices.filter((_, j) => j !== i);
  }

  private snapshot(): RunConfig {
    return $state.snapshot(this.setup.config) as RunConfig;
  }

  async startEngine(pref: Backend | 'auto') {
    await this.engine.start(pref);
    if (!this.engine.ready) return;
    this.setup.datasets = this.engine.datasets;
    if (this.pendingHash) {
      const hash = this.pendingHash;
      this.pendingHash = null;
      this.applyHash(hash);
    }
    const name = this.setup.config.model.name;
    if (!this.engine.knows(name)) {
      // imported models live in the worker: a new engine (reload, backend change) does not have them
      this.notice(
        `The model "${name}" is not in this engine (imported models do not survive a reload or a backend change): import it again in the Model panel. Using ${DEFAULT_MODEL} meanwhile.`,
      );
      this.setup.config.model.name = DEFAULT_MODEL;
      this.setArch(defaultConfig().model.arch);
    }
    await this.loadModel();
    if (this.setup.customText)
      await this.validateCustom(this.setup.customText, this.setup.customFileName ?? 'pasted text');
  }

  async chooseBackend(pref: Backend | 'auto') {
    this.setup.config.model.backend = pref;
    await this.startEngine(pref);
  }

  async chooseModel(name: string) {
    const imported = this.engine.imported.find((m) => m.name === name);
    this.setup.config.model.name = name;
    if (imported) this.setArch(imported.arch);
    else if (name !== 'random') this.setArch(defaultConfig().model.arch);
    await this.loadModel();
  }

  /** A new model shape, keeping only the LoRA targets it has (a Llama's gate goes when a GPT-2 comes back). */
  private setArch(arch: ModelArch) {
    this.setup.config.model.arch = { ...arch };
    const have = loraTargetsOf(arch);
    const kept = this.setup.config.lora.targets.filter((t) => have.includes(t));
    if (kept.length !== this.setup.config.lora.targets.length)
      this.setup.config.lora.targets = kept.length > 0 ? kept : ['q', 'v'];
  }

  /** Has the worker load the setup's model, unless a model setting is broken: then nothing is built (ModelPanel says why). */
  private async loadModel() {
    if (this.setup.modelProblems.length === 0) await this.engine.loadModel(this.snapshot());
  }

  /** An imported model is loaded in the worker: pick it, with its shape. */
  private useImported(m: ModelInfo) {
    this.engine.modelError = null;
    this.setup.config.model.name = m.name;
    this.setArch(m.arch);
  }

  /** An uploaded dataset: sized, then decoded (UTF-8 or UTF-16), then checked; a file that cannot be read is refused by name. */
  async uploadCustom(file: File) {
    const s = this.setup;
    let decoded: ReturnType<typeof decodeDataset>;
    try {
      checkFileSize(file, MAX_FILE_BYTES.dataset, 'dataset');
      decoded = decodeDataset(new Uint8Array(await file.arrayBuffer()), file.name);
    } catch (e) {
      decoded = { error: (e as Error).message };
    }
    if ('error' in decoded) {
      s.config.data.dataset = CUSTOM;
      s.customText = null;
      s.customFileName = file.name;
      s.customEncoding = null;
      s.validation = null;
      s.validationError = decoded.error;
      return;
    }
    await this.validateCustom(decoded.text, file.name, decoded.encoding);
  }

  async validateCustom(text: string, fileName: string, encoding: TextEncoding | null = null) {
    const s = this.setup;
    s.customEncoding = encoding;
    s.customText = text;
    s.customFileName = fileName;
    s.config.data.dataset = CUSTOM;
    s.validation = null;
    s.validationError = null;
    const client = this.engine.client;
    if (!client || !this.engine.ready) return;
    s.validating = true;
    try {
      s.validation = await client.guard(client.api.validateData(text, fileName, this.snapshot()));
    } catch (e) {
      s.validationError = (e as Error).message;
    } finally {
      s.validating = false;
    }
  }

  /** Loads a lesson variant's settings over the lesson's shared ones (and the defaults); null: free play. */
  chooseLesson(id: string | null, variantId?: string) {
    const lesson = id ? this.engine.lessons.find((l) => l.id === id) : undefined;
    this.lesson = lesson ?? null;
    if (this.comparison && this.comparison.lesson !== id) this.comparison = null;
    if (!lesson) {
      this.lessonVariant = null;
      this.setup.visibleControls = null;
      return;
    }
    const variant = variantOrPitfall(lesson, variantId);
    this.lessonVariant = variant.id;
    const keep = { model: { backend: this.setup.config.model.backend } };
    const model = this.setup.config.model.name;
    this.setup.config = mergeConfig(defaultConfig(), lesson.base, variant.override, keep);
    if (this.setup.config.model.name !== model) void this.loadModel();
  }

  /**
   * Trains the setup. With a lesson chosen, the worker runs the variant through the core lesson runner (every trial
   * of a k-fold or a search, then the diagnosis), with the learner's changes to the variant's settings on top.
   */
  async train(): Promise<void> {
    if (!this.engine.ready || this.training || !this.setup.canStart) return;
    const config = this.snapshot();
    const lesson = this.lesson;
    const variant = this.variant;
    this.stopRequested = false;
    if (lesson && variant) {
      // the setup is the variant's settings with the learner's changes: it goes over the variant's as a whole
      await this.trainLesson(lesson, variant.id, config);
      return;
    }
    const run = this.beginRun(config, null);
    try {
      const listener: RunListener = { started: (s) => this.started(run, s), progress: (p) => this.progress(run, p) };
      const custom = this.setup.isCustom ? (this.setup.validation?.records ?? null) : null;
      const { history } = await this.engine.change(
        (c) => c.api.start(config, custom, proxy(listener)),
        (r) => r.state,
      );
      run.finish(history);
    } catch (e) {
      run.fail(this.failureWords(run, explainEngineError((e as Error).message, 'train')));
    }
    await this.library.save(run.toStored());
  }

  /**
   * The lesson's pitfall, then the chosen fix, as the lesson defines them (the model and backend stay the
   * learner's): the fix's curves are drawn over the pitfall's and both diagnoses show side by side.
   */
  async compare(fixId: string): Promise<void> {
    const lesson = this.lesson;
    if (!lesson || !this.engine.ready || this.training) return;
    const fix = variantOf(lesson, fixId);
    const keep: DeepPartial<RunConfig> = {
      model: { name: this.setup.config.model.name, backend: this.setup.config.model.backend },
    };
    this.stopRequested = false;
    this.comparison = {
      lesson: lesson.id,
      pitfall: { label: lesson.pitfall.label, diagnosis: null },
      fix: { label: fix.label, diagnosis: null },
    };
    this.chooseLesson(lesson.id, lesson.pitfall.id);
    const pitfall = await this.trainLesson(lesson, lesson.pitfall.id, keep);
    if (!pitfall || this.stopRequested) return;
    this.comparison = { ...this.comparison, pitfall: { ...this.comparison.pitfall, diagnosis: pitfall.diagnosis } };
    this.chooseLesson(lesson.id, fix.id);
    const fixed = await this.trainLesson(lesson, fix.id, keep);
    if (fixed && this.comparison)
      this.comparison = { ...this.comparison, fix: { ...this.comparison.fix, diagnosis: fixed.diagnosis } };
  }

  /** Runs a lesson variant in the worker; each of its trials becomes a run on screen. Null when it failed or was stopped. */
  private async trainLesson(
    lesson: LessonInfo,
    variantId: string,
    override: DeepPartial<RunConfig>,
  ): Promise<LessonOutcome | null> {
    const variant = variantOf(lesson, variantId);
    let run: RunState | null = null;
    const listener: LessonListener = {
      trialStart: (t) => {
        this.trialNote = t.of > 1 ? `${t.label} (run ${t.index + 1} of ${t.of})` : null;
        run = this.beginRun(t.config, {
          id: lesson.id,
          title: lesson.title,
          variant: variant.id,
          variantLabel: variant.label,
          trial: t.of > 1 ? t.label : null,
          diagnosis: null,
        });
      },
      started: (s) => {
        if (run) this.started(run, s);
      },
      progress: (p) => {
        if (run) this.progress(run, p);
      },
      trialEnd: (t) => {
        if (!run) return;
        run.finish(t.history);
        this.engine.state = t.state;
        this.measuring = t.index + 1 === (variant.trials?.runs.length ?? 1);
        void this.library.save(run.toStored());
      },
    };
    try {
      const outcome = await this.engine.change(
        (c) => c.api.runLesson(lesson.id, variantId, override, proxy(listener)),
        (o) => o.state,
      );
      const last = run as RunState | null;
      if (last) {
        last.lesson = {
          ...last.lesson!,
          diagnosis: { text: outcome.diagnosis.text, showsPitfall: outcome.diagnosis.showsPitfall },
        };
        await this.library.save(last.toStored());
      }
      return outcome;
    } catch (e) {
      const last = run as RunState | null;
      if (last?.active) last.fail(this.failureWords(last, explainEngineError((e as Error).message, 'train')));
      if (last) await this.library.save(last.toStored());
      this.notice(`The lesson run did not finish: ${(e as Error).message}`);
      return null;
    } finally {
      this.trialNote = null;
      this.measuring = false;
    }
  }

  /** A new run on screen: the one it replaces joins the overlays, and it is saved as it goes. */
  private beginRun(config: RunConfig, lesson: RunLesson | null): RunState {
    const previous = this.current;
    const run = new RunState({
      config,
      lesson,
      dataLabel: this.setup.isCustom ? (this.setup.customFileName ?? 'custom data') : config.data.dataset,
      backend: this.engine.report?.backend ?? '',
    });
    if (previous && this.library.get(previous.id) && !this.library.overlayIds.includes(previous.id)) {
      this.library.overlayIds = [...this.library.overlayIds, previous.id].slice(-4);
    }
    this.current = run;
    this.lossRows = null;
    this.lastSave = 0;
    void this.library.save(run.toStored());
    return run;
  }

  /** The worker has prepared the run (and dropped the previous run and any loaded adapter). */
  private started(run: RunState, s: RunStart) {
    run.start(s);
    this.engine.state = s.state;
  }

  /** One throttled progress update from the worker, and a save now and then. */
  private progress(run: RunState, p: Progress) {
    run.apply(p);
    if (performance.now() - this.lastSave > SAVE_EVERY_MS) {
      this.lastSave = performance.now();
      void this.library.save(run.toStored());
    }
  }

  private failureWords(run: RunState, message: string): string {
    const kept = run.step > 0 ? ` The ${run.step} steps recorded so far are kept.` : '';
    return `${message}${kept}`;
  }

  private workerDied(message: string) {
    const run = this.current;
    if (run?.active) run.fail(this.failureWords(run, message));
  }

  async pause() {
    if (this.current?.status !== 'training') return;
    this.current.status = 'paused';
    await this.engine.client?.api.pause();
  }
  async resume() {
    if (this.current?.status !== 'paused') return;
    this.current.status = 'training';
    await this.engine.client?.api.resume();
  }
  async stop() {
    if (!this.current?.active) return;
    this.stopRequested = true;
    this.current.status = 'stopping';
    await this.engine.client?.api.stop();
  }

  async loadLossTable() {
    const client = this.engine.client;
    if (!client || !this.engine.state.tuned) return;
    this.lossRowsError = null;
    try {
      this.lossRows = await client.guard(client.api.lossTable());
    } catch (e) {
      this.lossRowsError = (e as Error).message;
    }
  }

  show(id: string) {
    const r = this.library.get(id);
    if (r && !this.training) this.current = RunState.fromStored(r);
  }

  async remove(id: string) {
    if (this.current?.id === id && this.training) return;
    await this.library.remove(id);
    if (this.current?.id === id) {
      const last = this.library.runs.at(-1);
      this.current = last ? RunState.fromStored(last) : null;
    }
  }

  /** Loads a stored run's config into the setup, to run it again or vary it. */
  reuse(id: string) {
    const r = this.library.get(id);
    if (r) this.setup.config = mergeConfig(defaultConfig(), r.config as DeepPartial<RunConfig>);
  }
}
