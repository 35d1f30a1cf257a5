// From runs to the columns uPlot draws: one x axis of optimizer steps shared by every run, nulls where a run
// has no value (evaluations are sparse; uPlot joins them with spanGaps). Pure functions, no uPlot import.

import type { StoredRun } from './runs';

export type Column = (number | null)[];

/** Exponential moving average with bias correction (TensorBoard's smoothing); weight 0 = raw values. */
export function ema(values: readonly (number | null)[], weight: number): Column {
  let acc = 0;
  let n = 0;
  return values.map((v) => {
    if (v === null || !Number.isFinite(v)) return null;
    acc = acc * weight + (1 - weight) * v;
    n++;
    return weight === 0 ? v : acc / (1 - weight ** n);
  });
}

export interface Curve {
  label: string;
  values: Column;
  color: string;
  faded?: boolean; // an earlier run
  thin?: boolean; // raw values behind the smoothed line
  dash?: number[];
  points?: boolean; // draw a dot at each value (sparse evaluation curves)
}

export interface Marker {
  step: number;
  label: string;
  color: string;
}

export interface ChartSet {
  x: number[];
  loss: Curve[];
  lr: Curve[];
  gradNorm: Curve[];
  markers: Marker[];
}

export const COLORS = {
  train: '#2563eb',
  val: '#dc2626',
  general: '#16a34a',
  lr: '#7c3aed',
  grad: '#b45309',
  overlay: '#64748b',
};
const OVERLAY_TINTS = ['#64748b', '#a16207', '#0e7490', '#9d174d', '#4d7c0f'];

type RunCurves = Pick<StoredRun, 'steps' | 'evals' | 'warmupEndStep' | 'end'>;

function column(n: number, at: Iterable<[number, number | undefined]>): Column {
  const c: Column = new Array(n).fill(null);
  for (const [step, v] of at) if (step >= 1 && step <= n && v !== undefined && Number.isFinite(v)) c[step - 1] = v;
  return c;
}

/** An earlier run drawn faded: `label` says what differed ("#2 lr 1e-2→3e-3"), `tag` names it briefly ("#2"). */
export interface Overlay {
  run: RunCurves;
  label: string;
  tag: string;
}

/** Step of the lowest validation loss so far (-1 when none). */
function bestSoFar(evals: RunCurves['evals']): number {
  let best = -1;
  let value = Infinity;
  for (const e of evals) if (e.valLoss < value) [best, value] = [e.step, e.valLoss];
  return best;
}

/** Charts for the current run with earlier runs (labelled by what differed) as faded overlays. */
export function buildCharts(current: RunCurves | null, overlays: Overlay[], smoothing: number): ChartSet {
  const all = [current, ...overlays.map((o) => o.run)].filter((r): r is RunCurves => r !== null);
  const n = Math.max(1, ...all.map((r) => Math.max(r.steps.at(-1)?.step ?? 0, r.evals.at(-1)?.step ?? 0)));
  const x = Array.from({ length: n }, (_, i) => i + 1);
  const loss: Curve[] = [];
  const lr: Curve[] = [];
  const gradNorm: Curve[] = [];
  const markers: Marker[] = [];

  overlays.forEach(({ run, label, tag }, i) => {
    const color = OVERLAY_TINTS[i % OVERLAY_TINTS.length];
    loss.push({
      label,
      values: ema(
        column(
          n,
          run.steps.map((s) => [s.step, s.loss]),
        ),
        smoothing,
      ),
      color,
      faded: true,
    });
    loss.push({
      label: `${tag} val`,
      values: column(
        n,
        run.evals.map((e) => [e.step, e.valLoss]),
      ),
      color,
      faded: true,
      dash: [4, 3],
      points: true,
    });
  });
  if (current) {
    const raw = column(
      n,
      current.steps.map((s) => [s.step, s.loss]),
    );
    if (smoothing > 0) loss.push({ label: 'train (raw)', values: raw, color: COLORS.train, thin: true });
    loss.push({
      label: smoothing > 0 ? 'train (smoothed)' : 'train',
      values: ema(raw, smoothing),
      color: COLORS.train,
    });
    loss.push({
      label: 'validation',
      values: column(
        n,
        current.evals.map((e) => [e.step, e.valLoss]),
      ),
      color: COLORS.val,
      points: true,
    });
    loss.push({
      label: 'general text',
      values: column(
        n,
        current.evals.map((e) => [e.step, e.generalLoss]),
      ),
      color: COLORS.general,
      points: true,
      dash: [6, 3],
    });
    lr.push({
      label: 'learning rate',
      values: column(
        n,
        current.steps.map((s) => [s.step, s.lr]),
      ),
      color: COLORS.lr,
    });
    gradNorm.push({
      label: 'gradient norm',
      values: column(
        n,
        current.steps.map((s) => [s.step, s.gradNorm]),
      ),
      color: COLORS.grad,
    });
    if (current.warmupEndStep > 0 && current.warmupEndStep <= n)
      markers.push({ step: current.warmupEndStep, label: 'warmup end', color: COLORS.lr });
    const end = current.end;
    const bestStep = end ? end.bestStep : bestSoFar(current.evals);
    if (bestStep > 0) markers.push({ step: bestStep, label: `best ${bestStep}`, color: COLORS.val });
    if (end && end.reason === 'early_stop')
      markers.push({ step: end.step, label: `early stop ${end.step}`, color: '#0f172a' });
    // the diverging step itself is never recorded: mark the last one that was
    if (end && end.reason === 'diverged')
      markers.push({ step: Math.max(1, current.steps.at(-1)?.step ?? 1), label: 'diverged after', color: '#0f172a' });
  }
  return { x, loss, lr, gradNorm, markers };
}
