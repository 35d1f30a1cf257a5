// The page's one state object: it owns the engine (worker), the setup, the run on screen, the run library,
// the chart settings, the sample bench and the chosen lesson, and carries out what the buttons ask.
// Components only read it and call its methods.

import { proxy } from 'comlink';
import { configProblems, defaultConfig, mergeConfig, type Backend, type DeepPartial, type RunConfig } from '../../core/config';
import type { LessonInfo, LessonTrial, LossRow, ModelInfo } from '../../protocol';
import { decodeDataset, type TextEncoding } from '../../core/data/parse';
import { explainEngineError } from '../../core/engine-errors';
import { buildCharts } from '../chart-data';
import { describeChanges, diffConfig } from '../config-diff';
import { checkFileSize, MAX_FILE_BYTES } from '../files';
import { applyOverrides, decodeHash, encodeHash } from '../hash';
import { historyOf, type RunLesson, type StoredRun } from '../runs';
import { Bench } from './bench.svelte';
import { Engine } from './engine.svelte';
import { Exports } from './exports.svelte';
import { Library } from './library.svelte';
import { ModelImport } from './model-import.svelte';
import { RunState } from './run.svelte';
import { CUSTOM, Setup } from './setup.svelte';

const SAVE_EVERY_MS = 3000; // an in-progress run is written to IndexedDB this often

export class Playground {
  readonly setup = new Setup();
  readonly library = new Library();
  readonly bench = new Bench();
  readonly engine = new Engine((message) => this.workerDied(message));
  readonly modelImport = new ModelImport(this.engine, (m) => this.useImported(m));
  readonly exports = new Exports(this.engine);

  current = $state.raw<RunState | null>(null);
  /** Whether this tab's worker holds fine-tuned weights (a run trained since the worker started). */
  tunedInWorker = $state(false);
  lesson = $state.raw<LessonInfo | null>(null);
  lessonVariant = $state<string | null>(null);
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
  /** A link's hash that names a lesson, kept until the worker has listed the lessons. */
  private pendingHash: string | null = null;

  readonly training = $derived(this.current?.active ?? false);
  /** The worker holds fine-tuned weights to sample from: a run is training or has trained in this tab. */
  readonly hasTuned = $derived(this.training || this.tunedInWorker);
  readonly lessons = $derived(this.engine.lessons);
  readonly variant = $derived(this.lesson ? ([this.lesson.pitfall, ...this.lesson.fixes].find((v) => v.id === this.lessonVariant) ?? null) : null);
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
        return { run: r, tag, label: `${tag} ${cur ? describeChanges(diffConfig(r.config, cur.config), 2) : ''}`.trim() };
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
    if (h.lesson && this.engine.lessons.length === 0) this.pendingHash = hash; // applied again once lessons are listed
    else if (h.lesson) {
      const lesson = this.engine.lessons.find((l) => l.id === h.lesson);
      if (lesson) {
        const variant = [lesson.pitfall, ...lesson.fixes].find((v) => v.id === h.variant) ?? lesson.pitfall;
        config = mergeConfig(config, lesson.base, variant.override);
        this.lesson = lesson;
        this.lessonVariant = variant.id;
        if (h.hide) this.setup.visibleControls = lesson.controls;
      } else this.notice(`The link names a lesson "${h.lesson}" that this page does not have; showing the plain playground.`);
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
    return encodeHash(config, { lesson: this.lesson?.id, variant: this.lessonVariant, hide: this.setup.visibleControls !== null });
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
    this.tunedInWorker = false;
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
      this.notice(`The model "${name}" is not in this engine (imported models do not survive a reload or a backend change): import it again in the Model panel. Using tiny-world meanwhile.`);
      this.setup.config.model.name = 'tiny-world';
      this.setup.config.model.arch = defaultConfig().model.arch;
    }
    this.exports.adapter = null;
    await this.loadModel();
    if (this.setup.customText) await this.validateCustom(this.setup.customText, this.setup.customFileName ?? 'pasted text');
  }

  async chooseBackend(pref: Backend | 'auto') {
    this.setup.config.model.backend = pref;
    await this.startEngine(pref);
  }

  async chooseModel(name: string) {
    const imported = this.engine.imported.find((m) => m.name === name);
    if (this.engine.model?.name !== name) this.modelChanged();
    this.setup.config.model.name = name;
    if (imported) this.setup.config.model.arch = { ...imported.arch };
    else if (name !== 'random') this.setup.config.model.arch = defaultConfig().model.arch;
    await this.loadModel();
  }

  /** Has the worker load the setup's model, unless a model setting is broken: then nothing is built (ModelPanel says why). */
  private async loadModel() {
    if (this.setup.modelProblems.length === 0) await this.engine.loadModel(this.snapshot());
  }

  /** An imported model is loaded in the worker: pick it, with its shape. */
  private useImported(m: ModelInfo) {
    this.modelChanged();
    this.engine.addImported(m);
    this.setup.config.model.name = m.name;
    this.setup.config.model.arch = { ...m.arch };
  }

  /** Another model in the worker takes the fine-tuned weights and any loaded adapter with it. */
  private modelChanged() {
    this.tunedInWorker = false;
    this.exports.adapter = null;
  }

  async loadAdapter(files: File[]) {
    if (this.training) return;
    if (await this.exports.loadAdapter(files)) this.tunedInWorker = true;
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
    if (!lesson) {
      this.lessonVariant = null;
      this.setup.visibleControls = null;
      return;
    }
    const variant = [lesson.pitfall, ...lesson.fixes].find((v) => v.id === variantId) ?? lesson.pitfall;
    this.lessonVariant = variant.id;
    const keep = { model: { backend: this.setup.config.model.backend } };
    const model = this.setup.config.model.name;
    this.setup.config = mergeConfig(defaultConfig(), lesson.base, variant.override, keep);
    if (this.setup.config.model.name !== model) void this.loadModel();
  }

  /** Trains the setup: one run, or every trial of a lesson variant that needs several; then the lesson's diagnosis. */
  async train(): Promise<void> {
    if (!this.engine.ready || this.training || !this.setup.canStart) return;
    const config = this.snapshot();
    const lesson = this.lesson;
    const variant = this.variant;
    const trials = variant?.trials?.runs ?? [{ label: '', override: {} }];
    const measured: LessonTrial[] = [];
    this.stopRequested = false;
    let last: RunState | null = null;
    for (const [i, trial] of trials.entries()) {
      this.trialNote = trials.length > 1 ? `${trial.label} (run ${i + 1} of ${trials.length})` : null;
      const runLesson: RunLesson | null =
        lesson && variant ? { id: lesson.id, title: lesson.title, variant: variant.id, variantLabel: variant.label, trial: trials.length > 1 ? trial.label : null, diagnosis: null } : null;
      const t0 = performance.now();
      last = await this.trainOne(mergeConfig(config, trial.override), runLesson);
      if (!last.end || this.stopRequested || !lesson || !variant) break;
      const client = this.engine.client!;
      this.measuring = true;
      try {
        const measures = await client.guard(client.api.measure(lesson.id));
        measured.push({ label: trial.label || variant.label, history: historyOf(last.toStored())!, measures, seconds: (performance.now() - t0) / 1000 });
      } catch (e) {
        this.notice(`The lesson could not measure the run: ${(e as Error).message}`);
        break;
      } finally {
        this.measuring = false;
      }
    }
    this.trialNote = null;
    if (last && lesson && variant && measured.length === trials.length) {
      const client = this.engine.client!;
      this.measuring = true;
      try {
        const d = await client.guard(client.api.diagnose(lesson.id, variant.id, measured));
        last.lesson = { ...last.lesson!, diagnosis: { text: d.text, showsPitfall: d.showsPitfall } };
        await this.library.save(last.toStored());
      } catch (e) {
        this.notice(`The lesson could not diagnose the run: ${(e as Error).message}`);
      } finally {
        this.measuring = false;
      }
    }
  }

  /** Trains one run to its end (or failure), streaming it to the charts and into IndexedDB. */
  private async trainOne(config: RunConfig, lesson: RunLesson | null): Promise<RunState> {
    const client = this.engine.client!;
    const custom = this.setup.isCustom ? (this.setup.validation?.records ?? null) : null;
    const previous = this.current;
    const run = new RunState({ config, lesson, dataLabel: this.setup.isCustom ? (this.setup.customFileName ?? 'custom data') : config.data.dataset, backend: this.engine.report?.backend ?? '' });
    if (previous && this.library.get(previous.id) && !this.library.overlayIds.includes(previous.id)) {
      this.library.overlayIds = [...this.library.overlayIds, previous.id].slice(-4);
    }
    this.current = run;
    this.tunedInWorker = false;
    this.exports.adapter = null;
    this.lossRows = null;
    let lastSave = 0;
    const save = () => this.library.save(run.toStored());
    await save();
    try {
      const onProgress = proxy((p: Parameters<RunState['apply']>[0]) => {
        run.apply(p);
        if (performance.now() - lastSave > SAVE_EVERY_MS) {
          lastSave = performance.now();
          void save();
        }
      });
      run.finish(await client.guard(client.api.start(config, custom, onProgress)));
      this.tunedInWorker = true;
    } catch (e) {
      run.fail(this.failureWords(run, explainEngineError((e as Error).message, 'train')));
    }
    await save();
    return run;
  }

  private failureWords(run: RunState, message: string): string {
    const kept = run.step > 0 ? ` The ${run.step} steps recorded so far are kept.` : '';
    return `${message}${kept}`;
  }

  private workerDied(message: string) {
    this.tunedInWorker = false;
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
    if (!client || !this.tunedInWorker) return;
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
