// A gammatone front-end computed in the frequency domain: ERB-spaced 4th-order gammatone filters
// applied to the STFT power spectrum (like a mel filterbank, with auditory filter shapes), and GTCC
// (the DCT of their log energies; Valero & Alías 2012, "Gammatone cepstral coefficients").
//
// Filter formula (power response of an order-n gammatone near its centre, Patterson et al. 1992):
//   |H_c(f)|² = (1 + ((f − f_c)/b_c)²)^(−n),  n = 4,  b_c = 1.019·ERB(f_c),
//   ERB(f) = 24.7·(4.37·f/1000 + 1)  (Glasberg & Moore 1990)
// peak-normalised to 1 at f_c. Centre frequencies are equally spaced on the ERB-rate scale
// E(f) = 21.4·log10(1 + 0.00437·f) from fmin to fmax (both included). Weights below 1e-6 (60 dB down)
// are dropped so the projection stays sparse.
import type { NDArray } from '../core/ndarray.js';
import { applySparse, ColumnWriter, fftFrequencies, type SparseFilterbank, toSparse } from './mel.js';
import { dct } from './mfcc.js';
import { type StftOptions, stftPlan } from './stft.js';

/** Equivalent rectangular bandwidth (Hz) of the auditory filter at f (Glasberg & Moore 1990). */
export function erb(f: number): number {
  return 24.7 * ((4.37 * f) / 1000 + 1);
}

/** ERB-rate (number of ERBs below f). */
export function hzToErbRate(f: number): number {
  return 21.4 * Math.log10(1 + 0.00437 * f);
}

export function erbRateToHz(e: number): number {
  return (10 ** (e / 21.4) - 1) / 0.00437;
}

export interface GammatoneOptions {
  sampleRate: number;
  nFft: number;
  /** Number of filters; default 64. */
  nBands?: number;
  /** Default 50 Hz. */
  fmin?: number;
  /** Default sampleRate/2. */
  fmax?: number;
  /** Filter order n; default 4. */
  order?: number;
}

/** Centre frequencies (Hz), ERB-rate spaced. */
export function gammatoneCenters(nBands: number, fmin: number, fmax: number): Float64Array {
  const lo = hzToErbRate(fmin);
  const hi = hzToErbRate(fmax);
  const out = new Float64Array(nBands);
  for (let i = 0; i < nBands; i++)
    out[i] = erbRateToHz(nBands === 1 ? lo : lo + ((hi - lo) * i) / (nBands - 1));
  return out;
}

const cache = new Map<string, SparseFilterbank>();

/** Gammatone power-response filterbank, [nBands, 1 + ⌊nFft/2⌋] float32 (formula in the file header). */
export function gammatoneFilterbank(options: GammatoneOptions): NDArray {
  const nBands = options.nBands ?? 64;
  const fmin = options.fmin ?? 50;
  const fmax = options.fmax ?? options.sampleRate / 2;
  const order = options.order ?? 4;
  if (!Number.isInteger(nBands) || nBands < 1)
    throw new Error(`gammatoneFilterbank: nBands must be a positive integer, got ${nBands}`);
  if (!(fmin >= 0) || !(fmax > fmin))
    throw new Error(`gammatoneFilterbank: need 0 ≤ fmin < fmax, got fmin=${fmin}, fmax=${fmax}`);
  if (!(order >= 1)) throw new Error(`gammatoneFilterbank: order must be ≥ 1, got ${order}`);
  const freqs = fftFrequencies(options.sampleRate, options.nFft);
  const centers = gammatoneCenters(nBands, fmin, fmax);
  const bins = freqs.length;
  const w = new Float32Array(nBands * bins);
  for (let m = 0; m < nBands; m++) {
    const fc = centers[m]!;
    const bw = 1.019 * erb(fc);
    for (let k = 0; k < bins; k++) {
      const x = (freqs[k]! - fc) / bw;
      const g = (1 + x * x) ** -order;
      if (g >= 1e-6) w[m * bins + k] = g;
    }
  }
  return { data: w, shape: [nBands, bins] };
}

function sparseGammatone(o: GammatoneOptions): SparseFilterbank {
  const key = JSON.stringify([o.sampleRate, o.nFft, o.nBands, o.fmin, o.fmax, o.order]);
  let fb = cache.get(key);
  if (!fb) {
    fb = toSparse(gammatoneFilterbank(o));
    if (cache.size >= 8) cache.delete(cache.keys().next().value!);
    cache.set(key, fb);
  }
  return fb;
}

/**
 * Gammatone spectrogram: G = W_gt·|STFT(y)|^power, [nBands, frames].
 * @example gammatoneSpectrogram(y, { sampleRate: 32000, nFft: 2048, hopLength: 512, nBands: 64 })
 */
export function gammatoneSpectrogram(
  y: ArrayLike<number>,
  options: StftOptions & Omit<GammatoneOptions, 'nFft'> & { power?: number },
): NDArray {
  const power = options.power ?? 2;
  const plan = stftPlan(options);
  const fb = sparseGammatone({ ...options, nFft: plan.options.nFft });
  const { padded, frames } = plan.prepare(y);
  const out = new Float32Array(fb.rows * frames);
  const spec = new Float64Array(plan.bins);
  const writer = new ColumnWriter(out, fb.rows, frames);
  for (let t = 0; t < frames; t++) {
    plan.powerAt(padded, t, spec);
    if (power !== 2) for (let k = 0; k < spec.length; k++) spec[k] = spec[k]! ** (power / 2);
    applySparse(fb, spec, writer.column());
    writer.commit();
  }
  writer.flush();
  return { data: out, shape: [fb.rows, frames] };
}

/** GTCC: orthonormal DCT-II of a log (dB) gammatone spectrogram, first nCoeffs rows. */
export function gtcc(gammatoneDb: NDArray, nCoeffs = 20): NDArray {
  const rows = gammatoneDb.shape[0]!;
  if (!Number.isInteger(nCoeffs) || nCoeffs < 1 || nCoeffs > rows)
    throw new Error(`gtcc: nCoeffs must be an integer in [1, ${rows}], got ${nCoeffs}`);
  return dct(gammatoneDb, nCoeffs);
}
