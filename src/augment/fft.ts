// Split-array complex FFT and FFT convolution for noise shaping, impulse responses and the phase
// vocoder, on top of the features' mixed-radix FFT (one FFT implementation in the project).
// Float64 throughout: the augmentations then round once to Float32.

import { ComplexFFT } from '../features/fft.js';

const plans = new Map<number, { fft: ComplexFFT; buf: Float64Array }>();

function plan(n: number): { fft: ComplexFFT; buf: Float64Array } {
  let p = plans.get(n);
  if (!p) {
    if (plans.size > 32) plans.clear();
    p = { fft: new ComplexFFT(n), buf: new Float64Array(2 * n) };
    plans.set(n, p);
  }
  return p;
}

export function isPow2(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

export function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/**
 * In-place complex DFT of any length (powers of two are fastest); `inverse` computes the inverse
 * transform, including the division by n, as conj(FFT(conj(x)))/n.
 */
export function fft(re: Float64Array, im: Float64Array, inverse = false): void {
  const n = re.length;
  if (im.length !== n) throw new Error(`fft: re has ${n} values but im has ${im.length}`);
  if (n === 0) return;
  const { fft: f, buf } = plan(n);
  const s = inverse ? -1 : 1;
  for (let i = 0; i < n; i++) {
    buf[2 * i] = re[i]!;
    buf[2 * i + 1] = s * im[i]!;
  }
  f.forward(buf);
  const scale = inverse ? 1 / n : 1;
  for (let i = 0; i < n; i++) {
    re[i] = buf[2 * i]! * scale;
    im[i] = s * buf[2 * i + 1]! * scale;
  }
}

/** Full linear convolution (length x + h - 1) through one zero-padded FFT product. */
export function fftConvolve(x: ArrayLike<number>, h: ArrayLike<number>): Float64Array {
  const outLen = x.length + h.length - 1;
  if (x.length === 0 || h.length === 0) return new Float64Array(0);
  const n = nextPow2(outLen);
  const ar = new Float64Array(n);
  const ai = new Float64Array(n);
  const br = new Float64Array(n);
  const bi = new Float64Array(n);
  for (let i = 0; i < x.length; i++) ar[i] = x[i]!;
  for (let i = 0; i < h.length; i++) br[i] = h[i]!;
  fft(ar, ai);
  fft(br, bi);
  for (let k = 0; k < n; k++) {
    const r = ar[k]! * br[k]! - ai[k]! * bi[k]!;
    ai[k] = ar[k]! * bi[k]! + ai[k]! * br[k]!;
    ar[k] = r;
  }
  fft(ar, ai, true);
  return ar.slice(0, outLen);
}
