// Decibel conversions with librosa's semantics (power_to_db, amplitude_to_db and their inverses).
import type { NDArray } from '../core/ndarray.js';

export interface DbOptions {
  /** Reference: a value, or 'max' for the array's maximum (librosa ref=np.max). Default 1. */
  ref?: number | 'max';
  /** Floor applied before the log. Default 1e-10 for power, 1e-5 for amplitude. */
  amin?: number;
  /** Clamp to (max − topDb); null disables. Default 80. */
  topDb?: number | null;
}

const DB_PER_NEPER = 10 / Math.LN10;

function maxOf(a: Float32Array): number {
  let m = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < a.length; i++) if (a[i]! > m) m = a[i]!;
  return m;
}

/**
 * librosa.power_to_db: 10·log10(max(amin, S)) − 10·log10(max(amin, |ref|)), then
 * max(·, max(·) − top_db). Negative inputs are floored by amin like librosa (which requires S ≥ 0).
 * @example powerToDb(mel, { ref: 'max', topDb: 80 })
 */
export function powerToDb(S: NDArray, options: DbOptions = {}): NDArray {
  const amin = options.amin ?? 1e-10;
  const topDb = options.topDb === undefined ? 80 : options.topDb;
  if (!(amin > 0)) throw new Error(`powerToDb: amin must be > 0, got ${amin}`);
  if (topDb !== null && !(topDb >= 0)) throw new Error(`powerToDb: topDb must be ≥ 0 or null, got ${topDb}`);
  const refValue = options.ref === 'max' ? maxOf(S.data) : Math.abs(options.ref ?? 1);
  const offset = 10 * Math.log10(Math.max(amin, refValue));
  const out = new Float32Array(S.data.length);
  let peak = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < out.length; i++) {
    // (10/ln 10)·ln x: the same value to ~1e-15, and Math.log is about twice as fast as Math.log10 in V8.
    const v = DB_PER_NEPER * Math.log(Math.max(amin, S.data[i]!)) - offset;
    out[i] = v;
    if (v > peak) peak = v;
  }
  if (topDb !== null) {
    // The clamp compares against the float32 results, as librosa's does on its float32 array.
    const floor = Math.fround(peak) - topDb;
    for (let i = 0; i < out.length; i++) if (out[i]! < floor) out[i] = floor;
  }
  return { data: out, shape: [...S.shape] };
}

/**
 * librosa.amplitude_to_db: power_to_db(|S|², ref=|ref|², amin=amin², top_db). amin defaults to 1e-5.
 */
export function amplitudeToDb(S: NDArray, options: DbOptions = {}): NDArray {
  const amin = options.amin ?? 1e-5;
  const refValue = options.ref === 'max' ? maxAbs(S.data) : Math.abs(options.ref ?? 1);
  const sq = new Float32Array(S.data.length);
  // Square in float64 and round once, as numpy squares the float32 magnitude (rounding there too).
  for (let i = 0; i < sq.length; i++) sq[i] = S.data[i]! * S.data[i]!;
  return powerToDb(
    { data: sq, shape: S.shape },
    { ref: refValue * refValue, amin: amin * amin, topDb: options.topDb },
  );
}

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/** librosa.db_to_power: ref·10^(S/10). */
export function dbToPower(S: NDArray, ref = 1): NDArray {
  return { data: S.data.map((v) => ref * 10 ** (v / 10)), shape: [...S.shape] };
}

/** librosa.db_to_amplitude: ref·10^(S/20). */
export function dbToAmplitude(S: NDArray, ref = 1): NDArray {
  return { data: S.data.map((v) => ref * 10 ** (v / 20)), shape: [...S.shape] };
}
