// Combining the scores of several models (runs, their folds, ONNX files) and the post-processing of
// window scores: arithmetic, geometric (the FSDKaggle2018 starter kernel) and rank averaging with
// per-model, per-class weights (e.g. each model's out-of-fold per-class lwlrap, the FAT2019 solution of
// daisukelab), neighbour smoothing and BirdCLEF's file-level boost, clip pooling, thresholds (given, or
// tuned for F1 on out-of-fold scores), top-k, and merging detections into events. Pure functions.

export type EnsembleMethod = 'mean' | 'geometric' | 'rank';
export const ENSEMBLE_METHODS: readonly EnsembleMethod[] = ['mean', 'geometric', 'rank'];

/** Floor of a probability before its log in the geometric mean. */
export const GEOMETRIC_FLOOR = 1e-7;

/**
 * Per-class ranks of the rows of a [rows, C] matrix, scaled to (0, 1]: rank / rows, ties getting their
 * average rank (scipy.stats.rankdata 'average').
 */
export function rankColumns(m: Float32Array, rows: number, c: number): Float32Array {
  const out = new Float32Array(rows * c);
  const order = new Int32Array(rows);
  for (let j = 0; j < c; j++) {
    for (let i = 0; i < rows; i++) order[i] = i;
    order.sort((a, b) => m[a * c + j]! - m[b * c + j]!);
    for (let i = 0; i < rows; ) {
      let k = i;
      while (k + 1 < rows && m[order[k + 1]! * c + j] === m[order[i]! * c + j]) k++;
      const r = (i + k + 2) / 2; // 1-based average rank
      for (let q = i; q <= k; q++) out[order[q]! * c + j] = r / rows;
      i = k + 1;
    }
  }
  return out;
}

/**
 * Combines M matrices [rows, C] into one. `weights[m][j]` weighs model m on class j (default: all 1);
 * each class's weights are normalised to sum to 1. mean: Σ w·p; geometric: exp(Σ w·ln max(p, 1e-7));
 * rank: Σ w·rank(p) with per-class ranks over the rows (rankColumns).
 */
export function combine(
  method: EnsembleMethod,
  mats: readonly Float32Array[],
  rows: number,
  c: number,
  weights?: readonly (readonly number[])[],
): Float32Array {
  const m = mats.length;
  if (m === 0) throw new Error('ensemble: no model scores to combine');
  for (const x of mats)
    if (x.length !== rows * c)
      throw new Error(`ensemble: expected ${rows}×${c} scores, got ${x.length} values`);
  const w: number[][] = [];
  for (let k = 0; k < m; k++) {
    const wk = weights?.[k] ?? [];
    w.push(Array.from({ length: c }, (_, j) => wk[j] ?? 1));
  }
  for (let j = 0; j < c; j++) {
    let s = 0;
    for (let k = 0; k < m; k++) {
      if (!(w[k]![j]! >= 0))
        throw new Error(`ensemble: weight of model ${k} on class ${j} must be ≥ 0, got ${w[k]![j]}`);
      s += w[k]![j]!;
    }
    for (let k = 0; k < m; k++) w[k]![j] = s > 0 ? w[k]![j]! / s : 1 / m;
  }
  const src = method === 'rank' ? mats.map((x) => rankColumns(x, rows, c)) : mats;
  const out = new Float32Array(rows * c);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < c; j++) {
      let acc = 0;
      for (let k = 0; k < m; k++) {
        const v = src[k]![i * c + j]!;
        acc += w[k]![j]! * (method === 'geometric' ? Math.log(Math.max(v, GEOMETRIC_FLOOR)) : v);
      }
      out[i * c + j] = method === 'geometric' ? Math.exp(acc) : acc;
    }
  return out;
}

/** Centred moving average over 2k+1 consecutive windows (fewer at the ends), per class. */
export function smoothNeighbours(s: Float32Array, rows: number, c: number, k: number): Float32Array {
  if (k <= 0) return s;
  const out = new Float32Array(rows * c);
  for (let i = 0; i < rows; i++) {
    const lo = Math.max(0, i - k);
    const hi = Math.min(rows - 1, i + k);
    for (let j = 0; j < c; j++) {
      let acc = 0;
      for (let q = lo; q <= hi; q++) acc += s[q * c + j]!;
      out[i * c + j] = acc / (hi - lo + 1);
    }
  }
  return out;
}

/** BirdCLEF's file-level boost: a class with any window above `conf` has all its window scores × factor (capped at 1). */
export function fileBoost(
  s: Float32Array,
  rows: number,
  c: number,
  factor: number,
  conf: number,
): Float32Array {
  const out = Float32Array.from(s);
  for (let j = 0; j < c; j++) {
    let hit = false;
    for (let i = 0; i < rows && !hit; i++) hit = s[i * c + j]! > conf;
    if (hit) for (let i = 0; i < rows; i++) out[i * c + j] = Math.min(1, s[i * c + j]! * factor);
  }
  return out;
}

export type ClipPooling = 'mean' | 'max' | 'attention';
export const CLIP_POOLINGS: readonly ClipPooling[] = ['mean', 'max', 'attention'];

/**
 * One score per class from a file's window scores. 'attention': Σ_w a_w·p_w with a = softmax_w(logit p_w)
 * per class — windows weigh by their own confidence, as a SED model's attention pools its frames.
 */
export function poolWindows(s: Float32Array, rows: number, c: number, how: ClipPooling): Float32Array {
  const out = new Float32Array(c);
  if (rows === 0) return out;
  for (let j = 0; j < c; j++) {
    if (how === 'mean') {
      let a = 0;
      for (let i = 0; i < rows; i++) a += s[i * c + j]!;
      out[j] = a / rows;
    } else if (how === 'max') {
      let a = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < rows; i++) a = Math.max(a, s[i * c + j]!);
      out[j] = a;
    } else {
      const logit = (p: number) => {
        const q = Math.min(Math.max(p, 1e-7), 1 - 1e-7);
        return Math.log(q / (1 - q));
      };
      let mx = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < rows; i++) mx = Math.max(mx, logit(s[i * c + j]!));
      let z = 0;
      let a = 0;
      for (let i = 0; i < rows; i++) {
        const e = Math.exp(logit(s[i * c + j]!) - mx);
        z += e;
        a += e * s[i * c + j]!;
      }
      out[j] = a / z;
    }
  }
  return out;
}

/** Indices of the k highest scores of a row, best first. */
export function topK(row: ArrayLike<number>, k: number): number[] {
  return Array.from({ length: row.length }, (_, j) => j)
    .sort((a, b) => row[b]! - row[a]! || a - b)
    .slice(0, Math.max(0, k));
}

/** For each class, the threshold in `grid` that maximises F1 on (scores, truth) [rows, C]; ties: the lower. */
export function tuneThresholds(
  scores: Float32Array,
  hot: Uint8Array,
  rows: number,
  c: number,
  grid: readonly number[] = Array.from({ length: 99 }, (_, i) => (i + 1) / 100),
): { thresholds: number[]; f1: number[] } {
  const thresholds: number[] = [];
  const f1: number[] = [];
  for (let j = 0; j < c; j++) {
    let best = -1;
    let bestT = 0.5;
    for (const t of grid) {
      let tp = 0;
      let fp = 0;
      let fn = 0;
      for (let i = 0; i < rows; i++) {
        const p = scores[i * c + j]! >= t;
        const y = hot[i * c + j] === 1;
        if (p && y) tp++;
        else if (p) fp++;
        else if (y) fn++;
      }
      const f = tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
      if (f > best) {
        best = f;
        bestT = t;
      }
    }
    thresholds.push(bestT);
    f1.push(best);
  }
  return { thresholds, f1 };
}

export interface Detection {
  start: number;
  end: number;
  label: string;
  confidence: number;
}

/**
 * Window detections merged into events: per class, consecutive windows (overlapping or touching) at or
 * above the class threshold — among the top-k classes of their window when topK is set — become one
 * event from the first start to the last end, with the highest score as its confidence; events shorter
 * than minDuration seconds are dropped. Sorted by start, then label.
 */
export function mergeEvents(
  windows: readonly { start: number; end: number }[],
  s: Float32Array,
  classes: readonly string[],
  o: { thresholds: readonly number[]; topK?: number; minDuration?: number; merge?: boolean },
): Detection[] {
  const c = classes.length;
  const out: Detection[] = [];
  const open = new Map<number, Detection>();
  const flush = (j: number) => {
    const e = open.get(j);
    if (e && e.end - e.start >= (o.minDuration ?? 0) - 1e-9) out.push(e);
    open.delete(j);
  };
  windows.forEach((w, i) => {
    const row = s.subarray(i * c, (i + 1) * c);
    const allowed = o.topK !== undefined ? new Set(topK(row, o.topK)) : null;
    for (let j = 0; j < c; j++) {
      const on = row[j]! >= o.thresholds[j]! && (allowed === null || allowed.has(j));
      const e = open.get(j);
      if (!on) {
        if (e) flush(j);
        continue;
      }
      if (e && o.merge !== false && w.start <= e.end + 1e-9) {
        e.end = Math.max(e.end, w.end);
        e.confidence = Math.max(e.confidence, row[j]!);
      } else {
        if (e) flush(j);
        open.set(j, { start: w.start, end: w.end, label: classes[j]!, confidence: row[j]! });
      }
    }
  });
  for (const j of [...open.keys()]) flush(j);
  return out.sort((a, b) => a.start - b.start || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
}
