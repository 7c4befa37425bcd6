// Signal helpers the waveform transforms share: power, RBJ-cookbook biquads, Butterworth section Qs,
// band-limited fractional resampling, quantiles. Formulas from R. Bristow-Johnson's "Audio EQ Cookbook"
// and standard Butterworth pole placement; the implementation is ours.

/** Mean of x² (in float64, so long clips do not lose precision). */
export function meanSquare(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  return x.length ? s / x.length : 0;
}

export function dbToAmplitude(db: number): number {
  return 10 ** (db / 20);
}

export type BiquadType = 'lowpass' | 'highpass' | 'bandpass';

/** Normalised biquad coefficients (a0 = 1). */
export interface Biquad {
  b0: number;
  b1: number;
  b2: number;
  a1: number;
  a2: number;
}

/**
 * RBJ cookbook biquad. For band-pass, the "constant 0 dB peak gain" form with Q = f0 / bandwidth.
 * The cutoff must lie strictly between 0 and Nyquist.
 */
export function biquad(type: BiquadType, f0: number, sampleRate: number, q: number): Biquad {
  if (!(f0 > 0 && f0 < sampleRate / 2))
    throw new Error(`biquad: cutoff ${f0} Hz must lie in (0, ${sampleRate / 2}) Hz`);
  const w0 = (2 * Math.PI * f0) / sampleRate;
  const cw = Math.cos(w0);
  const alpha = Math.sin(w0) / (2 * q);
  let b0: number;
  let b1: number;
  let b2: number;
  if (type === 'lowpass') {
    b0 = (1 - cw) / 2;
    b1 = 1 - cw;
    b2 = b0;
  } else if (type === 'highpass') {
    b0 = (1 + cw) / 2;
    b1 = -(1 + cw);
    b2 = b0;
  } else {
    b0 = alpha;
    b1 = 0;
    b2 = -alpha;
  }
  const a0 = 1 + alpha;
  return { b0: b0 / a0, b1: b1 / a0, b2: b2 / a0, a1: (-2 * cw) / a0, a2: (1 - alpha) / a0 };
}

/** Runs a cascade of biquads (transposed direct form II, float64 state) over x. */
export function filterCascade(x: Float32Array, sections: readonly Biquad[]): Float32Array {
  const y = new Float64Array(x);
  for (const { b0, b1, b2, a1, a2 } of sections) {
    let z1 = 0;
    let z2 = 0;
    for (let i = 0; i < y.length; i++) {
      const v = y[i]!;
      const out = b0 * v + z1;
      z1 = b1 * v - a1 * out + z2;
      z2 = b2 * v - a2 * out;
      y[i] = out;
    }
  }
  const out = new Float32Array(y.length);
  out.set(y);
  return out;
}

/** Magnitude response of a cascade at frequency f (for docs and tests). */
export function cascadeGain(sections: readonly Biquad[], f: number, sampleRate: number): number {
  const w = (2 * Math.PI * f) / sampleRate;
  let g = 1;
  for (const { b0, b1, b2, a1, a2 } of sections) {
    // H(e^jw) = (b0 + b1 e^-jw + b2 e^-2jw) / (1 + a1 e^-jw + a2 e^-2jw)
    const nr = b0 + b1 * Math.cos(w) + b2 * Math.cos(2 * w);
    const ni = -(b1 * Math.sin(w) + b2 * Math.sin(2 * w));
    const dr = 1 + a1 * Math.cos(w) + a2 * Math.cos(2 * w);
    const di = -(a1 * Math.sin(w) + a2 * Math.sin(2 * w));
    g *= Math.hypot(nr, ni) / Math.hypot(dr, di);
  }
  return g;
}

/**
 * Qs of the second-order sections of an even-order Butterworth filter: pole pair k sits at angle
 * π(2k+1)/(2N) from the negative real axis, and Q = 1 / (2 cos angle). Order 2 gives 1/√2.
 */
export function butterworthQs(order: number): number[] {
  if (!(order >= 2 && order % 2 === 0))
    throw new Error(`butterworthQs: order must be even ≥ 2, got ${order}`);
  return Array.from(
    { length: order / 2 },
    (_, k) => 1 / (2 * Math.cos((Math.PI * (2 * k + 1)) / (2 * order))),
  );
}

/**
 * Reads x at positions start + k·step (k = 0..outLength-1) with a Blackman-windowed sinc, low-passed at
 * min(1, 1/step) of Nyquist so reading faster than 1 sample per step does not alias. Outside x is zero.
 * Any real step, which is what pitch shifting by a fraction of a semitone needs.
 */
export function readFractional(x: Float32Array, step: number, outLength: number, start = 0): Float32Array {
  const out = new Float32Array(outLength);
  const fc = Math.min(1, 1 / step);
  const zeros = 10;
  const half = Math.ceil(zeros / fc);
  // The kernel is tabulated every 1/RES sample and read with linear interpolation: evaluating sin and
  // the window per tap made pitch shifting several times slower.
  const RES = 512;
  const span = half + 1;
  const table = new Float64Array(2 * span * RES + 2);
  for (let q = 0; q < table.length; q++) {
    const d = q / RES - span;
    const u = d / span;
    // Blackman window over (-1, 1)
    const w = Math.abs(u) >= 1 ? 0 : 0.42 + 0.5 * Math.cos(Math.PI * u) + 0.08 * Math.cos(2 * Math.PI * u);
    const a = Math.PI * fc * d;
    table[q] = (Math.abs(a) < 1e-9 ? fc : (fc * Math.sin(a)) / a) * w;
  }
  const n = x.length;
  for (let k = 0; k < outLength; k++) {
    const pos = start + k * step;
    const centre = Math.floor(pos);
    let acc = 0;
    let wsum = 0;
    for (let i = centre - half + 1; i <= centre + half; i++) {
      const f = (pos - i + span) * RES;
      const q = Math.floor(f);
      const h = table[q]! + (f - q) * (table[q + 1]! - table[q]!);
      wsum += h;
      if (i >= 0 && i < n) acc += x[i]! * h;
    }
    // Normalising by the kernel's sum keeps DC gain exactly 1 whatever the fractional position.
    out[k] = wsum !== 0 ? acc / wsum : 0;
  }
  return out;
}

/** The value below which a fraction q of |x| lies (nearest-rank on the sorted magnitudes). */
export function absQuantile(x: Float32Array, q: number): number {
  if (x.length === 0) return 0;
  const a = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) a[i] = Math.abs(x[i]!);
  a.sort();
  const i = Math.min(a.length - 1, Math.max(0, Math.ceil(q * a.length) - 1));
  return a[i]!;
}
