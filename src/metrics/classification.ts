// Metrics over predicted classes: accuracy, top-k, MAP@k, precision/recall/F1, confusion matrix.
import { prepare, type Scores, singleLabel, type Truth, toMatrix } from './input.js';

function argmaxRow(data: Float64Array, offset: number, cols: number): number {
  let best = 0;
  for (let j = 1; j < cols; j++) if (data[offset + j]! > data[offset + best]!) best = j;
  return best;
}

/** Predicted class per row: the first maximum (numpy's argmax). A flat array needs `cols`. */
export function argmax(scores: Scores, cols?: number): Int32Array {
  let rows: number;
  if (ArrayBuffer.isView(scores)) {
    if (cols === undefined) throw new Error('argmax: a flat score array needs the number of classes');
    rows = scores.length / cols;
  } else rows = 'shape' in scores ? scores.shape[0]! : (scores as readonly unknown[]).length;
  const s = toMatrix(scores, rows);
  return Int32Array.from({ length: s.rows }, (_, i) => argmaxRow(s.data, i * s.cols, s.cols));
}

/** Share of rows whose argmax is the true class. */
export function accuracy(scores: Scores, truth: Truth): number {
  const { s, t } = prepare(scores, truth);
  const y = singleLabel(t, 'accuracy');
  let hits = 0;
  for (let i = 0; i < s.rows; i++) {
    if (argmaxRow(s.data, i * s.cols, s.cols) === y[i]) hits++;
  }
  return hits / s.rows;
}

/** 1-based position of the true class in scikit-learn's top-k order: by score descending, ties broken
 * towards the higher class index (sklearn sorts ascending with a stable sort, then reverses). */
function truePosition(data: Float64Array, offset: number, cols: number, y: number): number {
  const v = data[offset + y]!;
  let pos = 1;
  for (let j = 0; j < cols; j++) {
    const w = data[offset + j]!;
    if (w > v || (w === v && j > y)) pos++;
  }
  return pos;
}

/** Share of rows whose true class is among the k best (scikit-learn's top_k_accuracy_score). */
export function topKAccuracy(scores: Scores, truth: Truth, k: number): number {
  if (!Number.isInteger(k) || k < 1) throw new Error(`topKAccuracy: k must be an integer >= 1, got ${k}`);
  const { s, t } = prepare(scores, truth);
  const y = singleLabel(t, `top-${k} accuracy`);
  let hits = 0;
  for (let i = 0; i < s.rows; i++) if (truePosition(s.data, i * s.cols, s.cols, y[i]!) <= k) hits++;
  return hits / s.rows;
}

/** Mean average precision at k for one true class per row (Freesound 2018 used k = 3): a row scores
 * 1/position when its class is among the first k predictions, else 0. Order as in topKAccuracy. */
export function mapAtK(scores: Scores, truth: Truth, k = 3): number {
  if (!Number.isInteger(k) || k < 1) throw new Error(`mapAtK: k must be an integer >= 1, got ${k}`);
  const { s, t } = prepare(scores, truth);
  const y = singleLabel(t, `MAP@${k}`);
  let sum = 0;
  for (let i = 0; i < s.rows; i++) {
    const pos = truePosition(s.data, i * s.cols, s.cols, y[i]!);
    if (pos <= k) sum += 1 / pos;
  }
  return sum / s.rows;
}

/** MAP@k from ranked prediction lists (the 2018 submission format, `label` = "a b c"): a class listed
 * twice counts at its first position only, as the competition's metric did. */
export function mapAtKFromLists(
  predicted: readonly (readonly number[])[],
  truth: ArrayLike<number>,
  k = 3,
): number {
  if (predicted.length !== truth.length)
    throw new Error(`mapAtK: ${predicted.length} prediction lists but ${truth.length} truth rows`);
  if (predicted.length === 0) throw new Error('mapAtK: no rows to score');
  let sum = 0;
  predicted.forEach((list, i) => {
    const pos = list.slice(0, k).indexOf(truth[i]!);
    if (pos >= 0) sum += 1 / (pos + 1);
  });
  return sum / predicted.length;
}

export interface PrfOptions {
  /** `threshold`: class j is predicted when score >= threshold (default for multi-hot truth).
   * `argmax`: exactly the best class is predicted (default for class-index truth). */
  prediction?: 'threshold' | 'argmax';
  threshold?: number;
}

export interface PrfPerClass {
  precision: Float64Array;
  recall: Float64Array;
  f1: Float64Array;
  /** Number of true items per class. */
  support: Int32Array;
  tp: Int32Array;
  fp: Int32Array;
  fn: Int32Array;
}

function predictedHot(scores: Scores, truth: Truth, opts: PrfOptions) {
  const { s, t } = prepare(scores, truth);
  const mode = opts.prediction ?? (t.index && !isMultiHotInput(truth) ? 'argmax' : 'threshold');
  const threshold = opts.threshold ?? 0.5;
  const pred = new Uint8Array(s.rows * s.cols);
  for (let i = 0; i < s.rows; i++) {
    if (mode === 'argmax') {
      pred[i * s.cols + argmaxRow(s.data, i * s.cols, s.cols)] = 1;
    } else {
      for (let j = 0; j < s.cols; j++) pred[i * s.cols + j] = s.data[i * s.cols + j]! >= threshold ? 1 : 0;
    }
  }
  return { s, t, pred };
}

function isMultiHotInput(truth: Truth): boolean {
  if ('shape' in truth && !ArrayBuffer.isView(truth)) return truth.shape.length === 2;
  return Array.isArray(truth) && truth.length > 0 && typeof truth[0] === 'object';
}

/** Per-class counts and scores; a 0/0 ratio is 0 (scikit-learn's zero_division=0). */
export function precisionRecallF1PerClass(scores: Scores, truth: Truth, opts: PrfOptions = {}): PrfPerClass {
  const { s, t, pred } = predictedHot(scores, truth, opts);
  const c = s.cols;
  const tp = new Int32Array(c);
  const fp = new Int32Array(c);
  const fn = new Int32Array(c);
  for (let i = 0; i < s.rows * c; i++) {
    const j = i % c;
    if (pred[i] && t.hot[i]) tp[j]!++;
    else if (pred[i]) fp[j]!++;
    else if (t.hot[i]) fn[j]!++;
  }
  const precision = new Float64Array(c);
  const recall = new Float64Array(c);
  const f1 = new Float64Array(c);
  const support = new Int32Array(c);
  for (let j = 0; j < c; j++) {
    [precision[j], recall[j], f1[j]] = prf(tp[j]!, fp[j]!, fn[j]!);
    support[j] = tp[j]! + fn[j]!;
  }
  return { precision, recall, f1, support, tp, fp, fn };
}

function prf(tp: number, fp: number, fn: number): [number, number, number] {
  const p = tp + fp > 0 ? tp / (tp + fp) : 0;
  const r = tp + fn > 0 ? tp / (tp + fn) : 0;
  return [p, r, p + r > 0 ? (2 * p * r) / (p + r) : 0];
}

export interface Prf {
  precision: number;
  recall: number;
  f1: number;
}

/** Precision, recall and F1: macro = unweighted mean over all classes (each class's F1 from its own
 * precision and recall), micro = from counts pooled over classes. */
export function precisionRecallF1(
  scores: Scores,
  truth: Truth,
  opts: PrfOptions & { average?: 'macro' | 'micro' } = {},
): Prf {
  const per = precisionRecallF1PerClass(scores, truth, opts);
  if (opts.average === 'micro') {
    const sum = (a: Int32Array) => a.reduce((x, y) => x + y, 0);
    const [precision, recall, f1] = prf(sum(per.tp), sum(per.fp), sum(per.fn));
    return { precision, recall, f1 };
  }
  const mean = (a: Float64Array) => a.reduce((x, y) => x + y, 0) / a.length;
  return { precision: mean(per.precision), recall: mean(per.recall), f1: mean(per.f1) };
}

/** counts[true][predicted] over argmax predictions (scikit-learn's orientation). */
export function confusionMatrix(scores: Scores, truth: Truth): number[][] {
  const { s, t } = prepare(scores, truth);
  const y = singleLabel(t, 'confusion matrix');
  const m = Array.from({ length: s.cols }, () => new Array<number>(s.cols).fill(0));
  for (let i = 0; i < s.rows; i++) {
    m[y[i]!]![argmaxRow(s.data, i * s.cols, s.cols)]!++;
  }
  return m;
}
