// Analysis windows, as scipy.signal.get_window(name, n, fftbins=True) builds them for librosa: periodic
// (the length-n+1 symmetric window without its last sample), so overlapping frames add up evenly.

/** Window names librosa users pass most; 'ones' (rectangular, scipy's 'boxcar') is for tests and debugging. */
export const WINDOW_NAMES = ['hann', 'hamming', 'blackman', 'ones'] as const;
export type WindowName = (typeof WINDOW_NAMES)[number];

/**
 * A window of `length` samples.
 * - hann: w[n] = 0.5 − 0.5·cos(2πn/N)
 * - hamming: w[n] = 0.54 − 0.46·cos(2πn/N)
 * - blackman: w[n] = 0.42 − 0.5·cos(2πn/N) + 0.08·cos(4πn/N)
 * with N = length when periodic (librosa's default), N = length − 1 when symmetric.
 */
export function getWindow(name: WindowName, length: number, periodic = true): Float64Array {
  if (!Number.isInteger(length) || length < 1)
    throw new Error(`getWindow: length must be a positive integer, got ${length}`);
  const w = new Float64Array(length);
  const denom = periodic ? length : length - 1;
  if (length === 1) {
    w[0] = 1;
    return w;
  }
  for (let n = 0; n < length; n++) {
    const x = (2 * Math.PI * n) / denom;
    switch (name) {
      case 'hann':
        w[n] = 0.5 - 0.5 * Math.cos(x);
        break;
      case 'hamming':
        w[n] = 0.54 - 0.46 * Math.cos(x);
        break;
      case 'blackman':
        w[n] = 0.42 - 0.5 * Math.cos(x) + 0.08 * Math.cos(2 * x);
        break;
      case 'ones':
        w[n] = 1;
        break;
      default:
        throw new Error(
          `getWindow: unknown window "${name as string}", expected one of ${WINDOW_NAMES.join(', ')}`,
        );
    }
  }
  return w;
}

/**
 * Centres `w` in a zero array of `size` (librosa.util.pad_center): ⌊(size − len)/2⌋ zeros on the left.
 * This is how librosa and torch.stft use a win_length shorter than n_fft.
 */
export function padCenter(w: Float64Array, size: number): Float64Array {
  if (w.length > size) throw new Error(`padCenter: window of ${w.length} does not fit in ${size}`);
  const out = new Float64Array(size);
  out.set(w, Math.floor((size - w.length) / 2));
  return out;
}
