// Mel scales, triangular mel filterbanks and the mel spectrogram, following librosa.filters.mel and
// librosa.feature.melspectrogram (0.10). Filters are stored sparsely: each triangle covers a few
// consecutive FFT bins, so the projection costs ~2 multiply-adds per bin instead of n_mels.

import { warnOnce } from '../core/log.js';
import type { NDArray } from '../core/ndarray.js';
import { type StftOptions, stftPlan } from './stft.js';

export type MelScale = 'slaney' | 'htk';
export type MelNorm = 'slaney' | null;

// Slaney's Auditory Toolbox scale: linear below 1 kHz (3 mels per 200 Hz), logarithmic above.
const F_SP = 200 / 3;
const MIN_LOG_HZ = 1000;
const MIN_LOG_MEL = MIN_LOG_HZ / F_SP;
const LOGSTEP = Math.log(6.4) / 27;

/**
 * Hz → mel (librosa.hz_to_mel). htk: m = 2595·log10(1 + f/700).
 * slaney: m = 3f/200 below 1 kHz, 15 + ln(f/1000)/(ln 6.4/27) above.
 */
export function hzToMel(f: number, scale: MelScale = 'slaney'): number {
  if (scale === 'htk') return 2595 * Math.log10(1 + f / 700);
  if (f >= MIN_LOG_HZ) return MIN_LOG_MEL + Math.log(f / MIN_LOG_HZ) / LOGSTEP;
  return f / F_SP;
}

/** Mel → Hz (librosa.mel_to_hz), the inverse of hzToMel. */
export function melToHz(m: number, scale: MelScale = 'slaney'): number {
  if (scale === 'htk') return 700 * (10 ** (m / 2595) - 1);
  if (m >= MIN_LOG_MEL) return MIN_LOG_HZ * Math.exp(LOGSTEP * (m - MIN_LOG_MEL));
  return F_SP * m;
}

/** numpy.linspace(start, stop, num): start + i·step, with the last value exactly stop. */
export function linspace(start: number, stop: number, num: number): Float64Array {
  const out = new Float64Array(num);
  if (num === 1) {
    out[0] = start;
    return out;
  }
  const step = (stop - start) / (num - 1);
  for (let i = 0; i < num; i++) out[i] = start + i * step;
  out[num - 1] = stop;
  return out;
}

/** n frequencies (Hz) equally spaced on the mel scale from fmin to fmax (librosa.mel_frequencies). */
export function melFrequencies(
  n: number,
  fmin: number,
  fmax: number,
  scale: MelScale = 'slaney',
): Float64Array {
  const mels = linspace(hzToMel(fmin, scale), hzToMel(fmax, scale), n);
  return mels.map((m) => melToHz(m, scale));
}

/** Centre frequency of each rfft bin: k·sr/n_fft, k = 0..⌊n_fft/2⌋ (librosa 0.10 fft_frequencies). */
export function fftFrequencies(sampleRate: number, nFft: number): Float64Array {
  const out = new Float64Array(Math.floor(nFft / 2) + 1);
  for (let k = 0; k < out.length; k++) out[k] = (k * sampleRate) / nFft;
  return out;
}

export interface MelOptions {
  sampleRate: number;
  nFft: number;
  /** Default 128. */
  nMels?: number;
  /** Default 0 Hz. */
  fmin?: number;
  /** Default sampleRate/2. */
  fmax?: number;
  /** Default 'slaney' (librosa's htk=False). */
  melScale?: MelScale;
  /** 'slaney' (default) scales each triangle to unit area in Hz (2/(f[i+2]−f[i])); null keeps peak 1. */
  melNorm?: MelNorm;
}

/** A filterbank in sparse row form: row m has weights for bins start[m] .. start[m]+len(m)-1. */
export interface SparseFilterbank {
  rows: number;
  bins: number;
  start: Int32Array;
  end: Int32Array;
  /** Concatenated row weights, row m from offset[m]. Float32-rounded like librosa's float32 basis. */
  weights: Float64Array;
  offset: Int32Array;
}

function resolveMel(o: MelOptions): Required<Omit<MelOptions, 'melNorm'>> & { melNorm: MelNorm } {
  const fmax = o.fmax ?? o.sampleRate / 2;
  const r = {
    sampleRate: o.sampleRate,
    nFft: o.nFft,
    nMels: o.nMels ?? 128,
    fmin: o.fmin ?? 0,
    fmax,
    melScale: o.melScale ?? 'slaney',
    melNorm: o.melNorm === undefined ? 'slaney' : o.melNorm,
  } as const;
  if (!(r.sampleRate > 0)) throw new Error(`melFilterbank: sampleRate must be > 0, got ${r.sampleRate}`);
  if (!Number.isInteger(r.nMels) || r.nMels < 1)
    throw new Error(`melFilterbank: nMels must be a positive integer, got ${r.nMels}`);
  if (!(r.fmin >= 0) || !(r.fmax > r.fmin))
    throw new Error(`melFilterbank: need 0 ≤ fmin < fmax, got fmin=${r.fmin}, fmax=${r.fmax}`);
  if (r.melScale !== 'slaney' && r.melScale !== 'htk')
    throw new Error(`melFilterbank: melScale must be "slaney" or "htk", got "${r.melScale}"`);
  if (r.melNorm !== 'slaney' && r.melNorm !== null)
    throw new Error(`melFilterbank: melNorm must be "slaney" or null, got "${r.melNorm}"`);
  return r;
}

/** The dense weights (float64, before float32 rounding), as librosa.filters.mel computes them. */
function denseWeights(o: ReturnType<typeof resolveMel>): Float64Array {
  const { sampleRate, nFft, nMels, fmin, fmax, melScale, melNorm } = o;
  const freqs = fftFrequencies(sampleRate, nFft);
  const bins = freqs.length;
  const melF = melFrequencies(nMels + 2, fmin, fmax, melScale);
  const w = new Float64Array(nMels * bins);
  for (let i = 0; i < nMels; i++) {
    const lo = melF[i]!;
    const mid = melF[i + 1]!;
    const hi = melF[i + 2]!;
    const d0 = mid - lo;
    const d1 = hi - mid;
    const enorm = melNorm === 'slaney' ? 2 / (hi - lo) : 1;
    for (let k = 0; k < bins; k++) {
      // max(0, min(rising slope, falling slope)), librosa's ramps.
      const lower = (freqs[k]! - lo) / d0;
      const upper = (hi - freqs[k]!) / d1;
      const v = Math.min(lower, upper);
      w[i * bins + k] = v > 0 ? v * enorm : 0;
    }
  }
  return w;
}

const fbCache = new Map<string, { dense: NDArray; sparse: SparseFilterbank }>();

/**
 * Warns (through the installed logger, once per configuration) when a mel filter has no weight at all, as
 * librosa does: the band then always reads 0 (−∞ dB), usually too many bands for the FFT size.
 */
function warnEmptyFilters(fb: NDArray, o: { nMels: number; nFft: number; sampleRate: number }, key: string) {
  const [rows, bins] = fb.shape as [number, number];
  const empty: number[] = [];
  for (let m = 0; m < rows; m++) {
    let peak = 0;
    for (let k = 0; k < bins; k++) peak = Math.max(peak, fb.data[m * bins + k]!);
    if (!(peak > 0)) empty.push(m);
  }
  if (empty.length === 0) return;
  const list = empty.length > 8 ? `${empty.slice(0, 8).join(', ')}, …` : empty.join(', ');
  warnOnce(
    `mel-empty:${key}`,
    `mel filterbank: ${empty.length} of ${rows} filters are empty (band ${list}), so those bands are always 0: ` +
      `too many mel bands (${o.nMels}) for an FFT of ${o.nFft} at ${o.sampleRate} Hz; use fewer bands or a larger FFT`,
  );
}

function cachedFilterbank(options: MelOptions): { dense: NDArray; sparse: SparseFilterbank } {
  const o = resolveMel(options);
  const key = JSON.stringify(o);
  let hit = fbCache.get(key);
  if (hit) return hit;
  const w = denseWeights(o);
  const rows = o.nMels;
  const bins = Math.floor(o.nFft / 2) + 1;
  const denseNd: NDArray = { data: new Float32Array(w), shape: [rows, bins] }; // librosa returns float32
  warnEmptyFilters(denseNd, o, key);
  hit = { dense: denseNd, sparse: toSparse(denseNd) };
  if (fbCache.size >= 16) fbCache.delete(fbCache.keys().next().value!);
  fbCache.set(key, hit);
  return hit;
}

/**
 * Mel filterbank (librosa.filters.mel), [nMels, 1 + ⌊nFft/2⌋] float32.
 * With mel-spaced edges f_0 < … < f_{n+1} and bin frequencies f_k:
 *   W[m, k] = max(0, min((f_k − f_m)/(f_{m+1} − f_m), (f_{m+2} − f_k)/(f_{m+2} − f_{m+1})))
 * times 2/(f_{m+2} − f_m) when melNorm is 'slaney'.
 * @example melFilterbank({ sampleRate: 44100, nFft: 2560, nMels: 128, fmin: 20 })
 */
export function melFilterbank(options: MelOptions): NDArray {
  const { dense } = cachedFilterbank(options);
  return { data: dense.data.slice(), shape: [...dense.shape] };
}

/** The same filterbank in sparse form (shared, do not modify). */
export function sparseMelFilterbank(options: MelOptions): SparseFilterbank {
  return cachedFilterbank(options).sparse;
}

/** out[m] = Σ_k W[m,k]·x[k] for one spectrum frame x (length bins). */
export function applySparse(fb: SparseFilterbank, x: ArrayLike<number>, out: Float64Array): void {
  const { rows, start, end, offset, weights } = fb;
  for (let m = 0; m < rows; m++) {
    let acc = 0;
    const e = end[m]!;
    for (let k = start[m]!, j = offset[m]!; k < e; k++, j++) acc += weights[j]! * x[k]!;
    out[m] = acc;
  }
}

/**
 * Fills a row-major [rows, frames] array one column (frame) at a time. Columns are staged in blocks of
 * 16 and written as 16-float runs (one cache line per row): writing each column straight into the
 * [rows, frames] array touches `rows` far-apart lines and pages per frame, which measured ~15% of a
 * fat2019 mel spectrogram.
 */
export class ColumnWriter {
  private readonly block: Float64Array;
  private readonly cols = 16;
  private t0 = 0;
  private n = 0;
  private readonly view: Float64Array[];

  constructor(
    private readonly out: Float32Array,
    private readonly rows: number,
    private readonly frames: number,
  ) {
    this.block = new Float64Array(rows * this.cols);
    this.view = Array.from({ length: this.cols }, (_, c) => this.block.subarray(c * rows, (c + 1) * rows));
  }

  /** The buffer for the next column (rows values). */
  column(): Float64Array {
    return this.view[this.n]!;
  }

  /** Marks the column returned by column() as done. */
  commit(): void {
    if (++this.n === this.cols) this.flush();
  }

  /** Writes the staged columns (call once after the last commit). */
  flush(): void {
    const { out, rows, frames, block, n, t0 } = this;
    for (let m = 0; m < rows; m++) {
      const base = m * frames + t0;
      for (let c = 0; c < n; c++) out[base + c] = block[c * rows + m]!;
    }
    this.t0 += n;
    this.n = 0;
  }
}

/**
 * Projects a spectrogram S [bins, frames] onto a filterbank [rows, bins]: W·S, [rows, frames].
 * (librosa.feature.melspectrogram with S given.)
 */
export function applyFilterbank(fb: NDArray | SparseFilterbank, S: NDArray): NDArray {
  const sparse = 'weights' in fb ? fb : toSparse(fb);
  const [bins, frames] = S.shape as [number, number];
  if (S.shape.length !== 2 || bins !== sparse.bins)
    throw new Error(
      `applyFilterbank: spectrogram shape [${S.shape}] does not match ${sparse.bins} filter bins`,
    );
  const out = new Float32Array(sparse.rows * frames);
  const col = new Float64Array(bins);
  const res = new Float64Array(sparse.rows);
  for (let t = 0; t < frames; t++) {
    for (let k = 0; k < bins; k++) col[k] = S.data[k * frames + t]!;
    applySparse(sparse, col, res);
    for (let m = 0; m < sparse.rows; m++) out[m * frames + t] = res[m]!;
  }
  return { data: out, shape: [sparse.rows, frames] };
}

/** Sparse form of any dense [rows, bins] filterbank. */
export function toSparse(fb: NDArray): SparseFilterbank {
  const [rows, bins] = fb.shape as [number, number];
  const start = new Int32Array(rows);
  const end = new Int32Array(rows);
  const offset = new Int32Array(rows);
  const vals: number[] = [];
  for (let m = 0; m < rows; m++) {
    let s = 0;
    while (s < bins && fb.data[m * bins + s] === 0) s++;
    let e = bins;
    while (e > s && fb.data[m * bins + e - 1] === 0) e--;
    start[m] = s;
    end[m] = e;
    offset[m] = vals.length;
    for (let k = s; k < e; k++) vals.push(fb.data[m * bins + k]!);
  }
  return { rows, bins, start, end, offset, weights: Float64Array.from(vals) };
}

export type MelSpectrogramOptions = StftOptions &
  Omit<MelOptions, 'nFft'> & {
    /** Exponent of the magnitude: 2 power (default), 1 magnitude. */
    power?: number;
  };

/**
 * Mel spectrogram (librosa.feature.melspectrogram): M = W·|STFT(y)|^power, [nMels, frames] float32.
 * The STFT is taken frame by frame and projected at once, so the [bins, frames] matrix never exists.
 * @example melSpectrogram(y, { sampleRate: 16000, nFft: 512, hopLength: 160, nMels: 64 })
 */
export function melSpectrogram(y: ArrayLike<number>, options: MelSpectrogramOptions): NDArray {
  const power = options.power ?? 2;
  if (!(power > 0)) throw new Error(`melSpectrogram: power must be > 0, got ${power}`);
  const plan = stftPlan(options);
  const fb = sparseMelFilterbank({ ...options, nFft: plan.options.nFft });
  const { padded, frames } = plan.prepare(y);
  const rows = fb.rows;
  const out = new Float32Array(rows * frames);
  const spec = new Float64Array(plan.bins);
  const writer = new ColumnWriter(out, rows, frames);
  for (let t = 0; t < frames; t++) {
    plan.powerAt(padded, t, spec);
    if (power === 1) for (let k = 0; k < spec.length; k++) spec[k] = Math.sqrt(spec[k]!);
    else if (power !== 2) for (let k = 0; k < spec.length; k++) spec[k] = spec[k]! ** (power / 2);
    applySparse(fb, spec, writer.column());
    writer.commit();
  }
  writer.flush();
  return { data: out, shape: [rows, frames] };
}
