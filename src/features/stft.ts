// Short-time Fourier transform with librosa.stft's framing: centred frames (the signal padded by
// ⌊n_fft/2⌋ on each side with numpy.pad's modes), a periodic window zero-padded to n_fft, and
// 1 + ⌊(len_padded − n_fft)/hop⌋ frames. Output is [1 + ⌊n_fft/2⌋ bins, frames], like librosa.
import type { NDArray } from '../core/ndarray.js';
import { RealFFT } from './fft.js';
import { getWindow, padCenter, WINDOW_NAMES, type WindowName } from './window.js';

/** numpy.pad modes librosa accepts for centring (librosa 0.10 default: constant; before: reflect). */
export const PAD_MODES = ['constant', 'reflect', 'edge', 'symmetric', 'wrap'] as const;
export type PadMode = (typeof PAD_MODES)[number];

export interface StftOptions {
  /** FFT size, any positive integer (librosa n_fft). */
  nFft: number;
  /** Samples between frames; default ⌊winLength/4⌋ (librosa hop_length). */
  hopLength?: number;
  /** Window length ≤ nFft, centred in the frame with zeros; default nFft (librosa win_length). */
  winLength?: number;
  /** Default 'hann' (periodic). */
  window?: WindowName;
  /** Centre frames on t·hop by padding ⌊nFft/2⌋ each side; default true. */
  center?: boolean;
  /** How centring pads; default 'constant' (librosa ≥ 0.10). */
  padMode?: PadMode;
}

interface ResolvedStft {
  nFft: number;
  hopLength: number;
  winLength: number;
  window: WindowName;
  center: boolean;
  padMode: PadMode;
}

export function resolveStftOptions(o: StftOptions): ResolvedStft {
  const nFft = o.nFft;
  if (!Number.isInteger(nFft) || nFft < 1)
    throw new Error(`stft: nFft must be a positive integer, got ${nFft}`);
  const winLength = o.winLength ?? nFft;
  if (!Number.isInteger(winLength) || winLength < 1 || winLength > nFft)
    throw new Error(`stft: winLength must be an integer in [1, nFft=${nFft}], got ${winLength}`);
  const hopLength = o.hopLength ?? Math.floor(winLength / 4);
  if (!Number.isInteger(hopLength) || hopLength < 1)
    throw new Error(`stft: hopLength must be a positive integer, got ${hopLength}`);
  const window = o.window ?? 'hann';
  if (!WINDOW_NAMES.includes(window))
    throw new Error(`stft: unknown window "${window}", expected one of ${WINDOW_NAMES.join(', ')}`);
  const padMode = o.padMode ?? 'constant';
  if (!PAD_MODES.includes(padMode))
    throw new Error(`stft: unknown padMode "${padMode}", expected one of ${PAD_MODES.join(', ')}`);
  return { nFft, hopLength, winLength, window, center: o.center ?? true, padMode };
}

/**
 * Index of the sample numpy.pad(x, …, mode) puts at position i (i may lie outside [0, n)),
 * or -1 for a constant (zero) sample. Reflect/symmetric are periodic extensions, so pads longer
 * than the signal repeat the way numpy's do.
 */
export function padIndex(i: number, n: number, mode: PadMode): number {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case 'constant':
      return -1;
    case 'edge':
      return i < 0 ? 0 : n - 1;
    case 'wrap':
      return ((i % n) + n) % n;
    case 'reflect': {
      if (n === 1) return 0;
      const period = 2 * (n - 1);
      const m = ((i % period) + period) % period;
      return m < n ? m : period - m;
    }
    case 'symmetric': {
      const period = 2 * n;
      const m = ((i % period) + period) % period;
      return m < n ? m : period - 1 - m;
    }
  }
}

/** numpy.pad(y, (left, right), mode) for 1-D signals, as float64. */
export function padSignal(y: ArrayLike<number>, left: number, right: number, mode: PadMode): Float64Array {
  const out = new Float64Array(left + y.length + right);
  padInto(out, y, left, right, mode);
  return out;
}

/** padSignal into an existing array of length left + y.length + right (every element is written). */
function padInto(out: Float64Array, y: ArrayLike<number>, left: number, right: number, mode: PadMode): void {
  const n = y.length;
  if (n === 0 && mode !== 'constant')
    throw new Error(`padSignal: cannot pad an empty signal with mode "${mode}"`);
  for (let i = 0; i < n; i++) out[left + i] = y[i]!;
  for (let i = -left; i < 0; i++) {
    const j = padIndex(i, n, mode);
    out[left + i] = j >= 0 ? y[j]! : 0;
  }
  for (let i = n; i < n + right; i++) {
    const j = padIndex(i, n, mode);
    out[left + i] = j >= 0 ? y[j]! : 0;
  }
}

/** Number of STFT frames for a signal of `length` samples: 1 + ⌊(len_padded − n_fft)/hop⌋. */
export function frameCount(length: number, options: StftOptions): number {
  const o = resolveStftOptions(options);
  const padded = o.center ? length + 2 * Math.floor(o.nFft / 2) : length;
  if (padded < o.nFft) return 0;
  return 1 + Math.floor((padded - o.nFft) / o.hopLength);
}

/**
 * A reusable STFT: window and FFT plan for one set of options. Frames are transformed one at a time,
 * so callers (mel, phase) consume them without storing the [bins, frames] matrix.
 */
export class StftPlan {
  readonly options: ResolvedStft;
  readonly bins: number;
  readonly window: Float64Array;
  private readonly fft: RealFFT;

  constructor(options: StftOptions) {
    this.options = resolveStftOptions(options);
    const { nFft, winLength, window } = this.options;
    this.window = padCenter(getWindow(window, winLength, true), nFft);
    this.fft = new RealFFT(nFft);
    this.bins = this.fft.bins;
  }

  // Reused between calls: a fresh 1.7 MB array per 5 s clip at 44.1 kHz kept the GC busy (~12% of the time).
  private buffer: Float64Array | null = null;

  /**
   * The signal as the frames see it (centre-padded, float64) and the number of frames. The returned
   * array is this plan's buffer: the next prepare() overwrites it.
   */
  prepare(y: ArrayLike<number>): { padded: Float64Array; frames: number } {
    const { nFft, hopLength, center, padMode } = this.options;
    if (y.length === 0) throw new Error('stft: the signal is empty (0 samples)');
    const half = center ? Math.floor(nFft / 2) : 0;
    const len = y.length + 2 * half;
    if (len < nFft) {
      throw new Error(
        `stft: nFft=${nFft} is too large for a signal of ${y.length} samples with center=false (use center=true or a smaller nFft)`,
      );
    }
    if (!this.buffer || this.buffer.length < len) this.buffer = new Float64Array(len);
    const padded = this.buffer.subarray(0, len);
    padInto(padded, y, half, half, padMode);
    return { padded, frames: 1 + Math.floor((len - nFft) / hopLength) };
  }

  /** |X_t[k]|² of frame t of a prepared (padded) signal, into out (length ≥ bins). */
  powerAt(padded: Float64Array, t: number, out: Float64Array): void {
    this.fft.power(padded, out, t * this.options.hopLength, this.window);
  }

  /** The complex spectrum of frame t of a prepared (padded) signal. */
  spectrumAt(padded: Float64Array, t: number, re: Float64Array, im: Float64Array): void {
    this.fft.forward(padded, re, im, t * this.options.hopLength, this.window);
  }
}

// Plans are cheap to build but not free (twiddles, Bluestein chirps); clips of a dataset share one.
const planCache = new Map<string, StftPlan>();

/** A cached StftPlan for these options (at most 16 kept). */
export function stftPlan(options: StftOptions): StftPlan {
  const o = resolveStftOptions(options);
  const key = `${o.nFft}/${o.hopLength}/${o.winLength}/${o.window}/${o.center}/${o.padMode}`;
  let plan = planCache.get(key);
  if (!plan) {
    plan = new StftPlan(o);
    if (planCache.size >= 16) planCache.delete(planCache.keys().next().value!);
    planCache.set(key, plan);
  }
  return plan;
}

/**
 * Complex STFT (librosa.stft): X[k, t] = Σ_n w[n]·y_pad[t·hop + n]·e^{−2πi·kn/n_fft}.
 * Returns real and imaginary parts, each [1 + ⌊nFft/2⌋, frames], float32.
 */
export function stft(y: ArrayLike<number>, options: StftOptions): { real: NDArray; imag: NDArray } {
  const plan = stftPlan(options);
  const { padded, frames } = plan.prepare(y);
  const bins = plan.bins;
  const real = new Float32Array(bins * frames);
  const imag = new Float32Array(bins * frames);
  const re = new Float64Array(bins);
  const im = new Float64Array(bins);
  for (let t = 0; t < frames; t++) {
    plan.spectrumAt(padded, t, re, im);
    for (let k = 0; k < bins; k++) {
      real[k * frames + t] = re[k]!;
      imag[k * frames + t] = im[k]!;
    }
  }
  return { real: { data: real, shape: [bins, frames] }, imag: { data: imag, shape: [bins, frames] } };
}

/**
 * Magnitude spectrogram raised to `power` (librosa's _spectrogram): |X|^power, [bins, frames].
 * power 2 gives the power spectrum, 1 the magnitude.
 */
export function spectrogram(y: ArrayLike<number>, options: StftOptions & { power?: number }): NDArray {
  const power = options.power ?? 2;
  if (!(power > 0)) throw new Error(`spectrogram: power must be > 0, got ${power}`);
  const plan = stftPlan(options);
  const { padded, frames } = plan.prepare(y);
  const bins = plan.bins;
  const out = new Float32Array(bins * frames);
  const p = new Float64Array(bins);
  for (let t = 0; t < frames; t++) {
    plan.powerAt(padded, t, p);
    for (let k = 0; k < bins; k++) out[k * frames + t] = powerTo(p[k]!, power);
  }
  return { data: out, shape: [bins, frames] };
}

/** |X|^power from |X|², without a pow call for the common cases. */
export function powerTo(p2: number, power: number): number {
  if (power === 2) return p2;
  if (power === 1) return Math.sqrt(p2);
  return p2 ** (power / 2);
}
