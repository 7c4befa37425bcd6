// Delta features (librosa.feature.delta): a Savitzky-Golay derivative along time, i.e.
// scipy.signal.savgol_filter(x, width, polyorder=order, deriv=order, mode=…) on each row.
import type { NDArray } from '../core/ndarray.js';
import { type PadMode, padIndex } from './stft.js';

/** savgol_filter's edge modes; 'interp' (librosa's default) fits the polynomial to the edge window. */
export const DELTA_MODES = ['interp', 'mirror', 'nearest', 'constant', 'wrap'] as const;
export type DeltaMode = (typeof DELTA_MODES)[number];

export interface DeltaOptions {
  /** Odd window length ≥ 3; default 9. */
  width?: number;
  /** Derivative order (1 delta, 2 delta-delta); the fitted polynomial has this degree too. Default 1. */
  order?: number;
  /** Default 'interp'. */
  mode?: DeltaMode;
}

/** Solves the small dense system A·x = b in place (Gaussian elimination with partial pivoting). */
function solve(a: Float64Array, b: Float64Array, n: number): Float64Array {
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r * n + c]!) > Math.abs(a[piv * n + c]!)) piv = r;
    if (piv !== c) {
      for (let j = 0; j < n; j++) {
        const t = a[c * n + j]!;
        a[c * n + j] = a[piv * n + j]!;
        a[piv * n + j] = t;
      }
      const t = b[c]!;
      b[c] = b[piv]!;
      b[piv] = t;
    }
    for (let r = c + 1; r < n; r++) {
      const f = a[r * n + c]! / a[c * n + c]!;
      for (let j = c; j < n; j++) a[r * n + j] = a[r * n + j]! - f * a[c * n + j]!;
      b[r] = b[r]! - f * b[c]!;
    }
  }
  const x = new Float64Array(n);
  for (let r = n - 1; r >= 0; r--) {
    let s = b[r]!;
    for (let j = r + 1; j < n; j++) s -= a[r * n + j]! * x[j]!;
    x[r] = s / a[r * n + r]!;
  }
  return x;
}

/**
 * Weights h_j (j = 0..width−1) such that Σ_j h_j·x_j is the deriv-th derivative, at sample `pos`,
 * of the least-squares polynomial of degree polyorder through (j, x_j): h = d!·[(AᵀA)⁻¹Aᵀ]_d with
 * A[j, i] = (j − pos)^i. pos = ⌊width/2⌋ gives scipy.signal.savgol_coeffs(width, polyorder, deriv).
 */
export function savgolWeights(width: number, polyorder: number, deriv: number, pos: number): Float64Array {
  const p = polyorder + 1;
  const h = new Float64Array(width);
  if (deriv > polyorder) return h;
  let fact = 1;
  for (let i = 2; i <= deriv; i++) fact *= i;
  // Solve (AᵀA)·z = e_d; then h_j = d!·Σ_i z_i·A[j, i] (the d-th row of the pseudo-inverse).
  const ata = new Float64Array(p * p);
  for (let j = 0; j < width; j++) {
    const x = j - pos;
    for (let r = 0; r < p; r++)
      for (let c = 0; c < p; c++) ata[r * p + c] = ata[r * p + c]! + x ** r * x ** c;
  }
  const e = new Float64Array(p);
  e[deriv] = 1;
  const z = solve(ata, e, p);
  for (let j = 0; j < width; j++) {
    const x = j - pos;
    let s = 0;
    for (let i = 0; i < p; i++) s += z[i]! * x ** i;
    h[j] = fact * s;
  }
  return h;
}

const EDGE_PAD: Record<Exclude<DeltaMode, 'interp'>, PadMode> = {
  mirror: 'reflect', // scipy.ndimage 'mirror' is numpy 'reflect' (edge sample not repeated)
  nearest: 'edge',
  constant: 'constant',
  wrap: 'wrap',
};

/**
 * Delta of order 1 or 2 along the last axis (frames) of a [..., frames] array (librosa.feature.delta):
 * the Savitzky-Golay estimate of d^order x/dt^order over a `width`-frame window. In 'interp' mode the
 * first and last ⌊width/2⌋ frames take the derivative of the polynomial fitted to the first/last window.
 * @example delta(logMel, { order: 2 }) // delta-delta
 */
export function delta(data: NDArray, options: DeltaOptions = {}): NDArray {
  const width = options.width ?? 9;
  const order = options.order ?? 1;
  const mode = options.mode ?? 'interp';
  const frames = data.shape[data.shape.length - 1] ?? 0;
  if (!Number.isInteger(width) || width < 3 || width % 2 !== 1)
    throw new Error(`delta: width must be an odd integer ≥ 3, got ${width}`);
  if (!Number.isInteger(order) || order < 1)
    throw new Error(`delta: order must be a positive integer, got ${order}`);
  if (!DELTA_MODES.includes(mode))
    throw new Error(`delta: unknown mode "${mode}", expected one of ${DELTA_MODES.join(', ')}`);
  if (mode === 'interp' && width > frames)
    throw new Error(`delta: width=${width} cannot exceed the number of frames (${frames}) in mode "interp"`);
  const half = (width - 1) / 2;
  const center = savgolWeights(width, order, order, half);
  const rows = frames === 0 ? 0 : data.data.length / frames;
  const out = new Float32Array(data.data.length);
  const x = new Float64Array(frames);
  const edges: Float64Array[] = [];
  if (mode === 'interp')
    for (let pos = 0; pos < width; pos++) edges.push(savgolWeights(width, order, order, pos));
  for (let r = 0; r < rows; r++) {
    const base = r * frames;
    for (let t = 0; t < frames; t++) x[t] = data.data[base + t]!;
    if (mode === 'interp') {
      for (let t = 0; t < frames; t++) {
        let start = t - half;
        let w = center;
        if (t < half) {
          start = 0;
          w = edges[t]!;
        } else if (t >= frames - half) {
          start = frames - width;
          w = edges[t - start]!;
        }
        let acc = 0;
        for (let j = 0; j < width; j++) acc += w[j]! * x[start + j]!;
        out[base + t] = acc;
      }
    } else {
      const pm = EDGE_PAD[mode];
      for (let t = 0; t < frames; t++) {
        let acc = 0;
        for (let j = 0; j < width; j++) {
          const idx = padIndex(t - half + j, frames, pm);
          if (idx >= 0) acc += center[j]! * x[idx]!;
        }
        out[base + t] = acc;
      }
    }
  }
  return { data: out, shape: [...data.shape] };
}
