// Band-limited resampling: a Kaiser-windowed sinc evaluated as a polyphase filter bank. Browser-safe.
//
// Hand-written because no npm resampler of soxr-HQ quality runs in both Node and the browser (the good ones
// are native addons or WebAssembly builds of libsoxr/libsamplerate, the pure-JS ones are linear or short-sinc).
//
// The ratio to/from is reduced to L/M. Output sample k sits at input time t = k * M / L (zero phase: no delay,
// as soxr and torchaudio), i.e. at integer position floor(t) plus fraction (k * M mod L) / L; each of the L
// fractions has its own precomputed row of taps. When L is large (odd rates such as 44100 -> 44101) the rows
// are tabulated at a fixed number of fractions and interpolated linearly, which is still far below the
// filter's own stop band.

export type ResampleQuality = 'hq' | 'fast';

export interface ResampleOptions {
  /** 'hq' (default): pass band flat to 0.9 of the lower Nyquist, stop band from the lower Nyquist, 120 dB
   *  design attenuation. 'fast': pass band to 0.8 of Nyquist, 70 dB, about 3x fewer taps. */
  quality?: ResampleQuality;
}

interface FilterSpec {
  /** Pass-band edge as a fraction of the lower of the two Nyquist frequencies. */
  passEdge: number;
  /** Stop-band edge, same units; 1 means nothing above the lower Nyquist survives (no aliasing at all). */
  stopEdge: number;
  /** Kaiser design attenuation in dB. */
  attenuation: number;
}

const SPECS: Record<ResampleQuality, FilterSpec> = {
  hq: { passEdge: 0.9, stopEdge: 1.0, attenuation: 120 },
  fast: { passEdge: 0.8, stopEdge: 1.0, attenuation: 70 },
};

/** Above this many phases the rows are interpolated instead of one row per phase. */
const MAX_EXACT_PHASES = 2048;
const INTERPOLATED_PHASES = 2048;

interface Bank {
  /** Rows of `taps` coefficients; `rows` = phases (+1 when interpolated, so row r+1 always exists). */
  coefs: Float64Array;
  taps: number;
  /** Taps before the output's integer position: the first input used is floor(t) - (half - 1). */
  half: number;
  phases: number;
  interpolated: boolean;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

// Modified Bessel function of the first kind, order 0, by its power series (converges fast for x < 50).
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 500; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

function kaiserBeta(attenuation: number): number {
  if (attenuation > 50) return 0.1102 * (attenuation - 8.7);
  if (attenuation >= 21) return 0.5842 * (attenuation - 21) ** 0.4 + 0.07886 * (attenuation - 21);
  return 0;
}

const cache = new Map<string, Bank>();

function buildBank(fromRate: number, toRate: number, L: number, spec: FilterSpec): Bank {
  const nyquist = Math.min(fromRate, toRate) / 2;
  // Cut-off halfway through the transition band, in cycles per input sample.
  const fc = ((spec.passEdge + spec.stopEdge) / 2) * (nyquist / fromRate);
  const dw = (2 * Math.PI * (spec.stopEdge - spec.passEdge) * nyquist) / fromRate;
  // Kaiser's length estimate (in input samples) for this attenuation and transition width.
  const length = (spec.attenuation - 7.95) / (2.285 * dw) + 1;
  const radius = length / 2;
  const half = Math.ceil(radius);
  const taps = 2 * half;
  const beta = kaiserBeta(spec.attenuation);
  const i0Beta = besselI0(beta);
  const interpolated = L > MAX_EXACT_PHASES;
  const phases = interpolated ? INTERPOLATED_PHASES : L;
  const rows = interpolated ? phases + 1 : phases;
  const coefs = new Float64Array(rows * taps);
  for (let r = 0; r < rows; r++) {
    const frac = r / phases;
    let sum = 0;
    for (let m = 0; m < taps; m++) {
      const tau = frac + half - 1 - m; // distance from the output instant to this input sample
      let v = 0;
      if (Math.abs(tau) < radius) {
        const x = 2 * fc * tau;
        const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
        const u = tau / radius;
        v = 2 * fc * sinc * (besselI0(beta * Math.sqrt(1 - u * u)) / i0Beta);
      }
      coefs[r * taps + m] = v;
      sum += v;
    }
    // Unit DC gain for every phase, so a constant stays exactly constant whatever the fraction.
    for (let m = 0; m < taps; m++) coefs[r * taps + m]! /= sum;
  }
  return { coefs, taps, half, phases, interpolated };
}

function bankFor(fromRate: number, toRate: number, L: number, quality: ResampleQuality): Bank {
  const key = `${fromRate}:${toRate}:${quality}`;
  let bank = cache.get(key);
  if (bank === undefined) {
    bank = buildBank(fromRate, toRate, L, SPECS[quality]);
    if (cache.size >= 16) cache.delete(cache.keys().next().value!);
    cache.set(key, bank);
  }
  return bank;
}

function checkRate(rate: number, what: string): void {
  if (!Number.isInteger(rate) || rate <= 0)
    throw new RangeError(`resample: ${what} must be a positive integer (Hz), got ${rate}`);
}

/** Length of `resample`'s output: ceil(n * toRate / fromRate), as soxr, librosa and torchaudio. */
export function resampledLength(n: number, fromRate: number, toRate: number): number {
  checkRate(fromRate, 'fromRate');
  checkRate(toRate, 'toRate');
  const g = gcd(fromRate, toRate);
  const L = toRate / g;
  const M = fromRate / g;
  return Math.ceil((n * L) / M);
}

/**
 * Resamples one channel from `fromRate` to `toRate` (positive integers, Hz). Samples outside the input are
 * taken as zero. Returns a new array (a copy when the rates are equal).
 */
export function resample(
  x: Float32Array,
  fromRate: number,
  toRate: number,
  opts: ResampleOptions = {},
): Float32Array {
  const quality = opts.quality ?? 'hq';
  if (!(quality in SPECS))
    throw new RangeError(`resample: quality must be 'hq' or 'fast', got ${String(quality)}`);
  const outLen = resampledLength(x.length, fromRate, toRate);
  if (fromRate === toRate) return x.slice();
  const g = gcd(fromRate, toRate);
  const L = toRate / g;
  const M = fromRate / g;
  const y = new Float32Array(outLen);
  if (x.length === 0) return y;
  const { coefs, taps, half, phases, interpolated } = bankFor(fromRate, toRate, L, quality);
  const n = x.length;
  const step = Math.floor(M / L);
  const stepFrac = M % L;
  let base = 0; // floor(k * M / L)
  let num = 0; // (k * M) mod L
  for (let k = 0; k < outLen; k++) {
    const start = base - half + 1;
    let acc: number;
    if (!interpolated) {
      const row = num * taps;
      acc = 0;
      if (start >= 0 && start + taps <= n) {
        // Four independent sums: one chain of dependent adds is latency-bound, four run about twice as fast.
        // taps is always even (2 * half); the pair left over when taps % 4 == 2 is added after the loop.
        let a0 = 0;
        let a1 = 0;
        let a2 = 0;
        let a3 = 0;
        let m = 0;
        for (; m < taps - 3; m += 4) {
          a0 += coefs[row + m]! * x[start + m]!;
          a1 += coefs[row + m + 1]! * x[start + m + 1]!;
          a2 += coefs[row + m + 2]! * x[start + m + 2]!;
          a3 += coefs[row + m + 3]! * x[start + m + 3]!;
        }
        for (; m < taps; m++) a0 += coefs[row + m]! * x[start + m]!;
        acc = a0 + a1 + (a2 + a3);
      } else {
        const lo = Math.max(0, -start);
        const hi = Math.min(taps, n - start);
        for (let m = lo; m < hi; m++) acc += coefs[row + m]! * x[start + m]!;
      }
    } else {
      const pos = (num * phases) / L;
      const r = Math.floor(pos);
      const a = pos - r;
      const row0 = r * taps;
      const row1 = row0 + taps;
      let acc0 = 0;
      let acc1 = 0;
      const lo = Math.max(0, -start);
      const hi = Math.min(taps, n - start);
      for (let m = lo; m < hi; m++) {
        const v = x[start + m]!;
        acc0 += coefs[row0 + m]! * v;
        acc1 += coefs[row1 + m]! * v;
      }
      acc = acc0 + a * (acc1 - acc0);
    }
    y[k] = acc;
    base += step;
    num += stepFrac;
    if (num >= L) {
      num -= L;
      base += 1;
    }
  }
  return y;
}

/** Taps per output sample of the filter `resample` would use (for benchmarks and docs). */
export function resampleFilterTaps(
  fromRate: number,
  toRate: number,
  quality: ResampleQuality = 'hq',
): number {
  resampledLength(0, fromRate, toRate);
  const g = gcd(fromRate, toRate);
  return bankFor(fromRate, toRate, toRate / g, quality).taps;
}
