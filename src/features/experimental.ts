// daisukelab's two experimental FAT2019 transforms, on [bands, frames] spectrograms:
// - background subtraction: what stays in a band the whole clip (hum, room tone, steady noise) is
//   the background; subtracting a per-band low percentile over time and clamping at 0 paints it to zero.
// - frequency-envelope domain transfer: the noisy set (different microphones, processing) has a
//   different average spectral tilt than the curated set; a per-band gain maps a clip's mean envelope
//   onto the curated set's.
import type { NDArray } from '../core/ndarray.js';

/** numpy.percentile(values, q) with linear interpolation; sorts `values` in place. */
export function percentile(values: Float64Array, q: number): number {
  if (values.length === 0) throw new Error('percentile: no values');
  if (!(q >= 0 && q <= 100)) throw new Error(`percentile: q must be in [0, 100], got ${q}`);
  values.sort();
  const pos = (q / 100) * (values.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, values.length - 1);
  return values[lo]! + (values[hi]! - values[lo]!) * (pos - lo);
}

function rowsOf(a: NDArray, name: string): [number, number] {
  if (a.shape.length !== 2)
    throw new Error(`${name}: expected a [bands, frames] array, got shape [${a.shape}]`);
  return a.shape as [number, number];
}

export interface BackgroundOptions {
  /** Percentile over time taken as each band's background level; default 50 (the median). */
  percentile?: number;
}

/**
 * Background subtraction: y[m, t] = max(0, x[m, t] − P_q(x[m, :])), P_q the q-th percentile of band m
 * over time. On a dB spectrogram the result is "dB above the band's background".
 * @example backgroundSubtraction(logMel, { percentile: 20 })
 */
export function backgroundSubtraction(spec: NDArray, options: BackgroundOptions = {}): NDArray {
  const q = options.percentile ?? 50;
  const [bands, frames] = rowsOf(spec, 'backgroundSubtraction');
  const out = new Float32Array(spec.data.length);
  const row = new Float64Array(frames);
  for (let m = 0; m < bands; m++) {
    for (let t = 0; t < frames; t++) row[t] = spec.data[m * frames + t]!;
    const bg = percentile(row, q);
    for (let t = 0; t < frames; t++) out[m * frames + t] = Math.max(0, spec.data[m * frames + t]! - bg);
  }
  return { data: out, shape: [bands, frames] };
}

/** Mean over time of each band: the clip's frequency envelope. */
export function frequencyEnvelope(spec: NDArray): Float64Array {
  const [bands, frames] = rowsOf(spec, 'frequencyEnvelope');
  const env = new Float64Array(bands);
  for (let m = 0; m < bands; m++) {
    let s = 0;
    for (let t = 0; t < frames; t++) s += spec.data[m * frames + t]!;
    env[m] = s / frames;
  }
  return env;
}

/** Mean frequency envelope over a set of clips (the curated set's target), clip-weighted. */
export class EnvelopeAccumulator {
  private sum: Float64Array | null = null;
  private n = 0;

  add(spec: NDArray): this {
    const env = frequencyEnvelope(spec);
    if (!this.sum) this.sum = new Float64Array(env.length);
    if (env.length !== this.sum.length)
      throw new Error(`EnvelopeAccumulator.add: ${env.length} bands, earlier clips had ${this.sum.length}`);
    for (let m = 0; m < env.length; m++) this.sum[m] = this.sum[m]! + env[m]!;
    this.n++;
    return this;
  }

  /** The mean envelope, one value per band. */
  finalize(): number[] {
    if (!this.sum) throw new Error('EnvelopeAccumulator.finalize: no clips were added');
    return Array.from(this.sum, (s) => s / this.n);
  }
}

export interface EnvelopeTransferOptions {
  /** 'db' (default): the spectrogram is in dB and the gain is added; 'power'/'amplitude': multiplied. */
  scale?: 'db' | 'power' | 'amplitude';
  /** Largest correction per band, in dB (applied both ways); default 12. */
  maxGainDb?: number;
}

/**
 * Frequency-envelope transfer: per band m, g_m = clamp(target_m − env_m, ±maxGainDb) in dB and
 * y[m, t] = x[m, t] + g_m; in the power/amplitude domain the same gain is applied as a ratio
 * (target_m/env_m, clamped to the same range). env is this clip's own envelope, as in daisukelab's
 * later "sample-wise" design.
 * @example transferEnvelope(noisyLogMel, curatedEnvelope)
 */
export function transferEnvelope(
  spec: NDArray,
  target: ArrayLike<number>,
  options: EnvelopeTransferOptions = {},
): NDArray {
  const scale = options.scale ?? 'db';
  const maxDb = options.maxGainDb ?? 12;
  const [bands, frames] = rowsOf(spec, 'transferEnvelope');
  if (target.length !== bands)
    throw new Error(`transferEnvelope: target has ${target.length} bands, the spectrogram has ${bands}`);
  const env = frequencyEnvelope(spec);
  const out = new Float32Array(spec.data.length);
  const dbPerUnit = scale === 'amplitude' ? 20 : 10;
  for (let m = 0; m < bands; m++) {
    let gain: number;
    if (scale === 'db') {
      gain = Math.max(-maxDb, Math.min(maxDb, target[m]! - env[m]!));
      for (let t = 0; t < frames; t++) out[m * frames + t] = spec.data[m * frames + t]! + gain;
    } else {
      const tiny = 1e-30; // a silent band (or target) gets the full clamp instead of a division by 0
      const db = dbPerUnit * Math.log10(Math.max(target[m]!, tiny) / Math.max(env[m]!, tiny));
      gain = 10 ** (Math.max(-maxDb, Math.min(maxDb, db)) / dbPerUnit);
      for (let t = 0; t < frames; t++) out[m * frames + t] = spec.data[m * frames + t]! * gain;
    }
  }
  return { data: out, shape: [bands, frames] };
}
