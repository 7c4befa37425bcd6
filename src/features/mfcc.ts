// MFCC: an orthonormal DCT-II of a log-power mel spectrogram along the mel axis (librosa.feature.mfcc
// with dct_type=2, norm='ortho'), keeping the first n_mfcc coefficients, with optional liftering.
import type { NDArray } from '../core/ndarray.js';

const dctCache = new Map<string, Float64Array>();

/**
 * The first `k` rows of the orthonormal DCT-II matrix of size n (scipy.fft.dct(norm='ortho')):
 * D[k, j] = √(2/n)·cos(πk(2j+1)/(2n)), with row 0 scaled by 1/√2.
 */
export function dctMatrix(n: number, k = n): Float64Array {
  const key = `${n}/${k}`;
  let d = dctCache.get(key);
  if (d) return d;
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(k) || k < 1 || k > n)
    throw new Error(`dctMatrix: need integers 1 ≤ k ≤ n, got n=${n}, k=${k}`);
  d = new Float64Array(k * n);
  for (let i = 0; i < k; i++) {
    const s = i === 0 ? Math.sqrt(1 / n) : Math.sqrt(2 / n);
    for (let j = 0; j < n; j++) d[i * n + j] = s * Math.cos((Math.PI * i * (2 * j + 1)) / (2 * n));
  }
  if (dctCache.size >= 16) dctCache.delete(dctCache.keys().next().value!);
  dctCache.set(key, d);
  return d;
}

/** Orthonormal DCT-II along axis 0 of a [rows, frames] array, keeping the first `keep` coefficients. */
export function dct(x: NDArray, keep = x.shape[0]!): NDArray {
  if (x.shape.length !== 2) throw new Error(`dct: expected a [rows, frames] array, got shape [${x.shape}]`);
  const [n, frames] = x.shape as [number, number];
  const d = dctMatrix(n, keep);
  const out = new Float32Array(keep * frames);
  const col = new Float64Array(n);
  for (let t = 0; t < frames; t++) {
    for (let j = 0; j < n; j++) col[j] = x.data[j * frames + t]!;
    for (let i = 0; i < keep; i++) {
      let acc = 0;
      const row = i * n;
      for (let j = 0; j < n; j++) acc += d[row + j]! * col[j]!;
      out[i * frames + t] = acc;
    }
  }
  return { data: out, shape: [keep, frames] };
}

export interface MfccOptions {
  /** Coefficients kept; default 20. */
  nMfcc?: number;
  /** Sinusoidal liftering L: c_k ·= 1 + (L/2)·sin(π(k+1)/L); 0 (default) disables. */
  lifter?: number;
}

/**
 * MFCC from a log-power (dB) mel spectrogram [nMels, frames] (librosa.feature.mfcc(S=…)):
 * M = DCT-II_ortho(S)[:nMfcc], then liftered when lifter > 0.
 * @example mfcc(powerToDb(melSpectrogram(y, opts)), { nMfcc: 20 })
 */
export function mfcc(Sdb: NDArray, options: MfccOptions = {}): NDArray {
  const nMfcc = options.nMfcc ?? 20;
  const lifter = options.lifter ?? 0;
  const rows = Sdb.shape[0]!;
  if (!Number.isInteger(nMfcc) || nMfcc < 1 || nMfcc > rows)
    throw new Error(`mfcc: nMfcc must be an integer in [1, ${rows}] (the number of mel bands), got ${nMfcc}`);
  if (!(lifter >= 0)) throw new Error(`mfcc: lifter must be ≥ 0, got ${lifter}`);
  const out = dct(Sdb, nMfcc);
  if (lifter > 0) {
    const frames = out.shape[1]!;
    for (let k = 0; k < nMfcc; k++) {
      const g = 1 + (lifter / 2) * Math.sin((Math.PI * (k + 1)) / lifter);
      for (let t = 0; t < frames; t++) out.data[k * frames + t] = out.data[k * frames + t]! * g;
    }
  }
  return out;
}
