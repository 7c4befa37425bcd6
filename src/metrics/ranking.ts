// Metrics over score rankings: lwlrap, average precision, ROC-AUC, padded cmAP. Ties are grouped the
// way scikit-learn groups them (one threshold per distinct score), so results match it exactly.
import { type Matrix, prepare, type Scores, type Truth, type TruthMatrix } from './input.js';

/** Indices of `values` by score, highest first. */
function orderDesc(values: Float64Array): Uint32Array {
  const order = new Uint32Array(values.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  return order.sort((a, b) => values[b]! - values[a]!);
}

/** Average precision of one binary problem, as scikit-learn's average_precision_score:
 * sum over distinct thresholds of (R_t - R_{t-1}) * P_t. 0 when there are no positives (sklearn 1.2
 * sets recall to 1 there, and precision at the last threshold is 0). */
export function binaryAveragePrecision(y: ArrayLike<number>, s: ArrayLike<number>): number {
  const n = y.length;
  const scores = Float64Array.from(s);
  let positives = 0;
  for (let i = 0; i < n; i++) positives += y[i]! > 0 ? 1 : 0;
  if (positives === 0) return 0;
  const order = orderDesc(scores);
  let tp = 0;
  let seen = 0;
  let prevRecall = 0;
  let ap = 0;
  for (let r = 0; r < n; ) {
    const v = scores[order[r]!]!;
    // The whole tie group crosses the threshold at once.
    while (r < n && scores[order[r]!] === v) {
      tp += y[order[r]!]! > 0 ? 1 : 0;
      seen++;
      r++;
    }
    const recall = tp / positives;
    ap += (recall - prevRecall) * (tp / seen);
    prevRecall = recall;
  }
  return ap;
}

/** ROC-AUC of one binary problem: the share of (positive, negative) pairs ranked in the right order,
 * ties counting one half — the area under scikit-learn's trapezoidal ROC curve. NaN when one of the
 * two classes is absent (sklearn raises there). */
export function binaryRocAuc(y: ArrayLike<number>, s: ArrayLike<number>): number {
  const n = y.length;
  const scores = Float64Array.from(s);
  const order = orderDesc(scores);
  let pos = 0;
  let pairs = 0;
  let tpAbove = 0;
  for (let r = 0; r < n; ) {
    const v = scores[order[r]!]!;
    let a = 0;
    let b = 0;
    while (r < n && scores[order[r]!] === v) {
      if (y[order[r]!]! > 0) a++;
      else b++;
      r++;
    }
    pairs += b * tpAbove + (a * b) / 2;
    tpAbove += a;
    pos += a;
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) return Number.NaN;
  return pairs / (pos * neg);
}

function column(m: Matrix | TruthMatrix, j: number): Float64Array {
  const out = new Float64Array(m.rows);
  const src = 'hot' in m ? m.hot : m.data;
  for (let i = 0; i < m.rows; i++) out[i] = src[i * m.cols + j]!;
  return out;
}

export type Average = 'macro' | 'micro';

/** Average precision of each class (sklearn `average_precision_score(..., average=None)`). */
export function averagePrecisionPerClass(scores: Scores, truth: Truth): Float64Array {
  const { s, t } = prepare(scores, truth);
  return Float64Array.from({ length: s.cols }, (_, j) => binaryAveragePrecision(column(t, j), column(s, j)));
}

/** Mean average precision: macro = mean over classes (classes without positives count as 0, as in
 * sklearn 1.2), micro = AP of all (row, class) pairs pooled. */
export function averagePrecision(scores: Scores, truth: Truth, average: Average = 'macro'): number {
  if (average === 'micro') {
    const { s, t } = prepare(scores, truth);
    return binaryAveragePrecision(t.hot, s.data);
  }
  const per = averagePrecisionPerClass(scores, truth);
  return per.reduce((a, b) => a + b, 0) / per.length;
}

/** ROC-AUC of each class; NaN for a class whose truth column is all 0 or all 1. */
export function rocAucPerClass(scores: Scores, truth: Truth): Float64Array {
  const { s, t } = prepare(scores, truth);
  return Float64Array.from({ length: s.cols }, (_, j) => binaryRocAuc(column(t, j), column(s, j)));
}

export interface RocAucOptions {
  average?: Average;
  /** Leave classes with undefined AUC out of the macro mean instead of throwing (sklearn throws). */
  skipUndefined?: boolean;
}

/** ROC-AUC, macro (mean over classes) or micro (pooled pairs), one-vs-rest for class-index truth. */
export function rocAuc(scores: Scores, truth: Truth, opts: RocAucOptions = {}): number {
  if (opts.average === 'micro') {
    const { s, t } = prepare(scores, truth);
    const v = binaryRocAuc(t.hot, s.data);
    if (Number.isNaN(v)) throw new Error('rocAuc: the truth has no positives or no negatives at all');
    return v;
  }
  const per = rocAucPerClass(scores, truth);
  const bad = [...per.keys()].filter((j) => Number.isNaN(per[j]!));
  if (bad.length > 0 && !opts.skipUndefined) {
    throw new Error(
      `rocAuc: undefined for class${bad.length > 1 ? 'es' : ''} ${bad.slice(0, 20).join(', ')} (only one of positive/negative present); pass skipUndefined to leave them out`,
    );
  }
  const ok = [...per].filter((v) => !Number.isNaN(v));
  if (ok.length === 0) throw new Error('rocAuc: undefined for every class');
  return ok.reduce((a, b) => a + b, 0) / ok.length;
}

/** BirdCLEF's padded cmAP: `paddingFactor` rows whose truth and scores are all 1 are appended, then
 * macro AP. The padding keeps rare classes from dominating and defines AP for absent classes. */
export function paddedCmap(scores: Scores, truth: Truth, paddingFactor = 5): number {
  if (!Number.isInteger(paddingFactor) || paddingFactor < 0)
    throw new Error(`paddedCmap: padding factor must be an integer >= 0, got ${paddingFactor}`);
  const { s, t } = prepare(scores, truth);
  const rows = s.rows + paddingFactor;
  const ps = new Float64Array(rows * s.cols).fill(1);
  ps.set(s.data);
  const pt = new Uint8Array(rows * s.cols).fill(1);
  pt.set(t.hot);
  let sum = 0;
  const y = new Float64Array(rows);
  const v = new Float64Array(rows);
  for (let j = 0; j < s.cols; j++) {
    for (let i = 0; i < rows; i++) {
      y[i] = pt[i * s.cols + j]!;
      v[i] = ps[i * s.cols + j]!;
    }
    sum += binaryAveragePrecision(y, v);
  }
  return sum / s.cols;
}

export interface LwlrapResult {
  /** Label-weighted label-ranking average precision (Freesound Audio Tagging 2019). */
  lwlrap: number;
  /** Per class: mean precision at the rank of each of its positive labels; NaN without positives. */
  perClass: Float64Array;
  /** Share of all positive labels belonging to each class; sum(perClass * weights) = lwlrap. */
  weights: Float64Array;
}

/** lwlrap with per-class scores and weights. For each positive (row i, class j) the precision is
 * |{true k : s_ik >= s_ij}| / |{k : s_ik >= s_ij}| — ties ranked as scikit-learn's
 * label_ranking_average_precision_score ranks them (max rank) — and lwlrap averages it over all
 * positive labels. Rows without positives do not count. */
export function lwlrapPerClass(scores: Scores, truth: Truth): LwlrapResult {
  const { s, t } = prepare(scores, truth);
  const c = s.cols;
  const sums = new Float64Array(c);
  const counts = new Float64Array(c);
  const row = new Float64Array(c);
  for (let i = 0; i < s.rows; i++) {
    for (let j = 0; j < c; j++) row[j] = s.data[i * c + j]!;
    const hot = t.hot.subarray(i * c, (i + 1) * c);
    if (!hot.includes(1)) continue;
    const order = orderDesc(row);
    // Walk tie groups from the top; after a group, `above` counts every label scoring >= its value.
    let above = 0;
    let trueAbove = 0;
    for (let r = 0; r < c; ) {
      const v = row[order[r]!]!;
      const start = r;
      while (r < c && row[order[r]!] === v) {
        trueAbove += hot[order[r]!]!;
        above++;
        r++;
      }
      for (let q = start; q < r; q++) {
        const j = order[q]!;
        if (hot[j]) {
          sums[j]! += trueAbove / above;
          counts[j]!++;
        }
      }
    }
  }
  let total = 0;
  for (const n of counts) total += n;
  if (total === 0) throw new Error('lwlrap: the truth has no positive labels');
  const perClass = sums.map((v, j) => (counts[j]! > 0 ? v / counts[j]! : Number.NaN));
  const weights = counts.map((n) => n / total);
  let lwlrap = 0;
  for (let j = 0; j < c; j++) if (counts[j]! > 0) lwlrap += sums[j]!;
  return { lwlrap: lwlrap / total, perClass, weights };
}

export function lwlrap(scores: Scores, truth: Truth): number {
  return lwlrapPerClass(scores, truth).lwlrap;
}

/** scikit-learn's label_ranking_average_precision_score (optionally sample-weighted): per row the mean
 * over its positives of the precision above; rows with no or all positives score 1. */
export function labelRankingAveragePrecision(
  scores: Scores,
  truth: Truth,
  sampleWeight?: ArrayLike<number>,
): number {
  const { s, t } = prepare(scores, truth);
  const c = s.cols;
  let out = 0;
  let wsum = 0;
  const row = new Float64Array(c);
  for (let i = 0; i < s.rows; i++) {
    const w = sampleWeight ? sampleWeight[i]! : 1;
    const hot = t.hot.subarray(i * c, (i + 1) * c);
    let npos = 0;
    for (const h of hot) npos += h;
    let aux = 1;
    if (npos > 0 && npos < c) {
      for (let j = 0; j < c; j++) row[j] = s.data[i * c + j]!;
      let sum = 0;
      for (let j = 0; j < c; j++) {
        if (!hot[j]) continue;
        let rank = 0;
        let l = 0;
        for (let q = 0; q < c; q++) {
          if (row[q]! >= row[j]!) {
            rank++;
            l += hot[q]!;
          }
        }
        sum += l / rank;
      }
      aux = sum / npos;
    }
    out += aux * w;
    wsum += w;
  }
  return out / wsum;
}
