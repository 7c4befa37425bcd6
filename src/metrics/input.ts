// Turns the accepted score and truth shapes into one internal form, checking sizes and values once so
// every metric can assume a dense [n, c] matrix of finite numbers.
import type { NDArray } from '../core/ndarray.js';

/** Scores [n, classes]: rows of numbers, a row-major flat array (classes = length / n), or a 2-D NDArray. */
export type Scores = readonly ArrayLike<number>[] | Float32Array | Float64Array | NDArray;

/** Truth: class indices (one per row: number[], Int32Array...) for single-label data, or multi-hot
 * rows / a 2-D NDArray [n, classes] of 0/1 for multi-label data. */
export type Truth = ArrayLike<number> | readonly ArrayLike<number>[] | NDArray;

export interface Matrix {
  rows: number;
  cols: number;
  data: Float64Array;
}

export interface TruthMatrix {
  rows: number;
  cols: number;
  /** Multi-hot, row-major. */
  hot: Uint8Array;
  /** Class index per row when the truth was given as indices (or is one-hot everywhere), else null. */
  index: Int32Array | null;
}

function isNDArray(x: unknown): x is NDArray {
  return typeof x === 'object' && x !== null && 'shape' in x && 'data' in x && !ArrayBuffer.isView(x);
}

function isRows(x: unknown): x is readonly ArrayLike<number>[] {
  return Array.isArray(x) && x.length > 0 && typeof x[0] === 'object';
}

/** Reads the truth; `cols` is needed when it is given as class indices and the scores do not say. */
export function toTruth(truth: Truth, cols?: number): TruthMatrix {
  if (isNDArray(truth)) {
    if (truth.shape.length === 1) return fromIndices(truth.data, cols);
    if (truth.shape.length !== 2)
      throw new Error(`metrics: truth must be 1-D or 2-D, got shape [${truth.shape}]`);
    return fromHot(truth.shape[0]!, truth.shape[1]!, (i, j) => truth.data[i * truth.shape[1]! + j]!);
  }
  if (isRows(truth)) {
    const c = truth[0]!.length;
    truth.forEach((r, i) => {
      if (r.length !== c) throw new Error(`metrics: truth row ${i} has ${r.length} values, row 0 has ${c}`);
    });
    return fromHot(truth.length, c, (i, j) => truth[i]![j]!);
  }
  return fromIndices(truth as ArrayLike<number>, cols);
}

function fromIndices(idx: ArrayLike<number>, cols?: number): TruthMatrix {
  const n = idx.length;
  let c = cols ?? 0;
  if (cols === undefined) for (let i = 0; i < n; i++) c = Math.max(c, idx[i]! + 1);
  const index = new Int32Array(n);
  const hot = new Uint8Array(n * c);
  for (let i = 0; i < n; i++) {
    const v = idx[i]!;
    if (!Number.isInteger(v) || v < 0 || v >= c)
      throw new Error(`metrics: truth[${i}] = ${v} is not a class index in 0..${c - 1}`);
    index[i] = v;
    hot[i * c + v] = 1;
  }
  return { rows: n, cols: c, hot, index };
}

function fromHot(n: number, c: number, at: (i: number, j: number) => number): TruthMatrix {
  const hot = new Uint8Array(n * c);
  let single = true;
  const index = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let count = 0;
    for (let j = 0; j < c; j++) {
      const v = at(i, j);
      if (v !== 0 && v !== 1) throw new Error(`metrics: truth[${i}][${j}] = ${v}, expected 0 or 1`);
      if (v === 1) {
        hot[i * c + j] = 1;
        index[i] = j;
        count++;
      }
    }
    if (count !== 1) single = false;
  }
  return { rows: n, cols: c, hot, index: single ? index : null };
}

/** Reads the scores; `rows` is the truth's row count (it sizes a flat array). */
export function toMatrix(scores: Scores, rows: number): Matrix {
  let m: Matrix;
  if (isNDArray(scores)) {
    if (scores.shape.length !== 2)
      throw new Error(`metrics: scores must be 2-D, got shape [${scores.shape}]`);
    m = { rows: scores.shape[0]!, cols: scores.shape[1]!, data: Float64Array.from(scores.data) };
  } else if (ArrayBuffer.isView(scores)) {
    const flat = scores as Float32Array | Float64Array;
    if (rows === 0 || flat.length % rows !== 0)
      throw new Error(`metrics: ${flat.length} flat scores do not split into ${rows} rows`);
    m = { rows, cols: flat.length / rows, data: Float64Array.from(flat) };
  } else {
    const list = scores as readonly ArrayLike<number>[];
    const c = list.length > 0 ? list[0]!.length : 0;
    const data = new Float64Array(list.length * c);
    list.forEach((r, i) => {
      if (r.length !== c) throw new Error(`metrics: scores row ${i} has ${r.length} values, row 0 has ${c}`);
      for (let j = 0; j < c; j++) data[i * c + j] = r[j]!;
    });
    m = { rows: list.length, cols: c, data };
  }
  for (let i = 0; i < m.data.length; i++) {
    if (!Number.isFinite(m.data[i]!))
      throw new Error(
        `metrics: scores[${Math.floor(i / m.cols)}][${i % m.cols}] is ${m.data[i]}, not a finite number`,
      );
  }
  return m;
}

/** Both inputs, checked against each other. */
export function prepare(scores: Scores, truth: Truth): { s: Matrix; t: TruthMatrix } {
  // Class indices do not say how many classes there are; the scores do.
  const flatIndices = !isNDArray(truth) && !isRows(truth);
  const rows = isNDArray(truth) ? truth.shape[0]! : (truth as ArrayLike<unknown>).length;
  const s = toMatrix(scores, rows);
  const t = toTruth(
    truth,
    flatIndices || (isNDArray(truth) && truth.shape.length === 1) ? s.cols : undefined,
  );
  if (s.rows !== t.rows) throw new Error(`metrics: ${s.rows} score rows but ${t.rows} truth rows`);
  if (s.cols !== t.cols) throw new Error(`metrics: ${s.cols} score columns but ${t.cols} truth classes`);
  if (s.rows === 0) throw new Error('metrics: no rows to score');
  return { s, t };
}

/** The class index of each row, or an error naming a row that is not single-label. */
export function singleLabel(t: TruthMatrix, metric: string): Int32Array {
  if (t.index) return t.index;
  for (let i = 0; i < t.rows; i++) {
    let count = 0;
    for (let j = 0; j < t.cols; j++) count += t.hot[i * t.cols + j]!;
    if (count !== 1)
      throw new Error(`metrics: ${metric} needs one true class per row; row ${i} has ${count}`);
  }
  throw new Error(`metrics: ${metric} needs single-label truth`);
}
