// Measures a resampler with a linear swept sine (chirp), the way resampler comparisons are usually made:
// the input sweeps from 0 Hz to the input Nyquist; the output is cut into short windows, and in each
// window the known chirp (sampled at the output rate) is fitted by least squares.
//   - pass band (the window's whole frequency range below passEdge x the lower Nyquist): the fitted
//     amplitude over the input amplitude is the gain; what the fit leaves over is spurious (imaging/noise).
//   - stop band (the window's whole range above the lower Nyquist): everything in the output is aliasing.
// Windows in the transition band, and the first and last 50 ms (the filter's start-up), are not scored.
// Used by test/audio/resample.test.ts and bench/resample.ts, so the figures in the docs are the tested ones.

export interface SweepOptions {
  fromRate?: number;
  toRate?: number;
  seconds?: number;
  amplitude?: number;
  windowMs?: number;
  /** Upper pass-band edge scored, as a fraction of min(fromRate, toRate) / 2. */
  passEdge?: number;
  /** Lowest frequency scored (a 20 ms window needs a few cycles for the fit). */
  lowHz?: number;
}

export interface SweepResult {
  fromRate: number;
  toRate: number;
  passEdgeHz: number;
  stopEdgeHz: number;
  /** Largest |gain| in dB over the scored pass band. */
  passbandMaxDeviationDb: number;
  passbandMinDb: number;
  passbandMaxDb: number;
  /** Worst stop-band (aliasing) or pass-band residual level, dB relative to the input tone. */
  aliasMaxDb: number;
  /** Input frequency (middle of the window) where aliasMaxDb was measured. */
  aliasMaxAtHz: number;
  windowsScored: number;
}

export function chirp(rate: number, seconds: number, amplitude: number, f1: number): Float32Array {
  const n = Math.round(rate * seconds);
  const x = new Float32Array(n);
  const k = f1 / seconds; // Hz per second
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    x[i] = amplitude * Math.sin(2 * Math.PI * (0.5 * k * t * t));
  }
  return x;
}

export function measureSweep(
  resampler: (x: Float32Array, fromRate: number, toRate: number) => Float32Array,
  opts: SweepOptions = {},
): SweepResult {
  const fromRate = opts.fromRate ?? 44100;
  const toRate = opts.toRate ?? 16000;
  const seconds = opts.seconds ?? 8;
  const amp = opts.amplitude ?? 0.5;
  const passEdge = opts.passEdge ?? 0.9;
  const lowHz = opts.lowHz ?? 100;
  const f1 = fromRate / 2;
  const k = f1 / seconds;
  const nyq = Math.min(fromRate, toRate) / 2;
  const passEdgeHz = passEdge * nyq;
  const x = chirp(fromRate, seconds, amp, f1);
  const y = resampler(x, fromRate, toRate);
  const w = Math.max(8, Math.round(((opts.windowMs ?? 20) * toRate) / 1000));
  const skip = Math.ceil(0.05 * toRate);
  const end = Math.min(y.length, Math.floor((seconds - 0.05) * toRate));
  const ref = amp / Math.SQRT2;
  let maxDev = 0;
  let minDb = Number.POSITIVE_INFINITY;
  let maxDb = Number.NEGATIVE_INFINITY;
  let aliasDb = Number.NEGATIVE_INFINITY;
  let aliasAt = 0;
  let scored = 0;
  for (let a = skip; a + w <= end; a += w) {
    const fa = (k * a) / toRate;
    const fb = (k * (a + w - 1)) / toRate;
    let spurious: number;
    if (fa >= lowHz && fb <= passEdgeHz) {
      // Least squares y ~ p sin(phi) + q cos(phi) over the window.
      let ss = 0;
      let sc = 0;
      let cc = 0;
      let sy = 0;
      let cy = 0;
      for (let i = a; i < a + w; i++) {
        const t = i / toRate;
        const phi = 2 * Math.PI * 0.5 * k * t * t;
        const s = Math.sin(phi);
        const c = Math.cos(phi);
        ss += s * s;
        sc += s * c;
        cc += c * c;
        sy += s * y[i]!;
        cy += c * y[i]!;
      }
      const det = ss * cc - sc * sc;
      const p = (sy * cc - cy * sc) / det;
      const q = (cy * ss - sy * sc) / det;
      const gainDb = 20 * Math.log10(Math.hypot(p, q) / amp);
      minDb = Math.min(minDb, gainDb);
      maxDb = Math.max(maxDb, gainDb);
      maxDev = Math.max(maxDev, Math.abs(gainDb));
      let rr = 0;
      for (let i = a; i < a + w; i++) {
        const t = i / toRate;
        const phi = 2 * Math.PI * 0.5 * k * t * t;
        const r = y[i]! - p * Math.sin(phi) - q * Math.cos(phi);
        rr += r * r;
      }
      spurious = Math.sqrt(rr / w);
    } else if (fa >= nyq) {
      let rr = 0;
      for (let i = a; i < a + w; i++) rr += y[i]! * y[i]!;
      spurious = Math.sqrt(rr / w);
    } else {
      continue;
    }
    scored++;
    const db = 20 * Math.log10(Math.max(spurious, 1e-30) / ref);
    if (db > aliasDb) {
      aliasDb = db;
      aliasAt = (fa + fb) / 2;
    }
  }
  return {
    fromRate,
    toRate,
    passEdgeHz,
    stopEdgeHz: nyq,
    passbandMaxDeviationDb: maxDev,
    passbandMinDb: minDb,
    passbandMaxDb: maxDb,
    aliasMaxDb: aliasDb,
    aliasMaxAtHz: aliasAt,
    windowsScored: scored,
  };
}
