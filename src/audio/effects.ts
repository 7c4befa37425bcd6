// Waveform clean-up used before feature extraction: mono downmix, silence trimming, pre-emphasis, level
// normalisation, crop-or-pad. Browser-safe. Every function returns a new array and leaves its input alone.
import type { Random } from '../core/random.js';
import type { Audio } from './types.js';

/** Mean of the channels (a copy when there is one channel). */
export function toMono(audio: Audio): Float32Array {
  const chans = audio.channels;
  if (chans.length === 0) throw new RangeError('toMono: audio has no channels');
  if (chans.length === 1) return chans[0]!.slice();
  const n = chans[0]!.length;
  const out = new Float32Array(n);
  // Sum in float64 (JS numbers) per sample, so the mean does not depend on channel order rounding.
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < chans.length; c++) s += chans[c]![i]!;
    out[i] = s / chans.length;
  }
  return out;
}

export interface TrimOptions {
  /** Frames quieter than this many dB below the reference are silence (librosa top_db, default 60). */
  topDb?: number;
  /** RMS frame length in samples (default 2048). */
  frameLength?: number;
  /** Hop between frames in samples (default 512). */
  hopLength?: number;
  /** Reference amplitude: 'max' (default, the loudest frame's RMS) or a fixed RMS value. */
  ref?: 'max' | number;
}

/**
 * Per-frame RMS in dB as librosa.effects.trim computes it: frames centred on multiples of `hop`
 * (the signal zero-padded by frameLength/2 on each side, librosa >= 0.10's pad_mode "constant"),
 * 20 log10(max(1e-5, rms)) - 20 log10(max(1e-5, ref)).
 */
export function frameRmsDb(
  x: Float32Array,
  frameLength = 2048,
  hopLength = 512,
  ref: 'max' | number = 'max',
): Float64Array {
  if (!Number.isInteger(frameLength) || frameLength <= 0)
    throw new RangeError(`trim: frameLength must be a positive integer, got ${frameLength}`);
  if (!Number.isInteger(hopLength) || hopLength <= 0)
    throw new RangeError(`trim: hopLength must be a positive integer, got ${hopLength}`);
  const pad = Math.floor(frameLength / 2);
  const padded = x.length + 2 * pad;
  const frames = padded >= frameLength ? 1 + Math.floor((padded - frameLength) / hopLength) : 0;
  const rms = new Float64Array(frames);
  // Direct sums rather than a running prefix sum: a prefix sum loses quiet frames to cancellation after a
  // loud passage, and the direct cost is only frameLength / hopLength (4 by default) operations per sample.
  for (let f = 0; f < frames; f++) {
    const lo = Math.max(0, f * hopLength - pad);
    const hi = Math.min(x.length, f * hopLength - pad + frameLength);
    let energy = 0;
    for (let i = lo; i < hi; i++) energy += x[i]! * x[i]!;
    rms[f] = Math.sqrt(energy / frameLength);
  }
  let refValue: number;
  if (ref === 'max') {
    refValue = 0;
    for (let f = 0; f < frames; f++) refValue = Math.max(refValue, rms[f]!);
  } else {
    if (!Number.isFinite(ref) || ref < 0)
      throw new RangeError(`trim: ref must be 'max' or a number >= 0, got ${ref}`);
    refValue = ref;
  }
  const amin = 1e-5;
  const refDb = 20 * Math.log10(Math.max(amin, refValue));
  const db = new Float64Array(frames);
  for (let f = 0; f < frames; f++) db[f] = 20 * Math.log10(Math.max(amin, rms[f]!)) - refDb;
  return db;
}

/**
 * Trims leading and trailing silence with librosa.effects.trim's rule: the kept range runs from the first
 * to the last frame whose RMS is more than `topDb` below the reference, in samples
 * [first * hop, min(n, (last + 1) * hop)). Nothing above the threshold gives start = end = 0.
 */
export function trim(
  x: Float32Array,
  opts: TrimOptions = {},
): { samples: Float32Array; start: number; end: number } {
  const topDb = opts.topDb ?? 60;
  const hop = opts.hopLength ?? 512;
  if (!(topDb >= 0)) throw new RangeError(`trim: topDb must be >= 0, got ${topDb}`);
  const db = frameRmsDb(x, opts.frameLength ?? 2048, hop, opts.ref ?? 'max');
  let first = -1;
  let last = -1;
  for (let f = 0; f < db.length; f++) {
    if (db[f]! > -topDb) {
      if (first < 0) first = f;
      last = f;
    }
  }
  if (first < 0) return { samples: new Float32Array(0), start: 0, end: 0 };
  const start = Math.min(x.length, first * hop);
  const end = Math.min(x.length, (last + 1) * hop);
  return { samples: x.slice(start, end), start, end };
}

/** Pre-emphasis y[n] = x[n] - coef * x[n-1], with y[0] = x[0] (nothing before the clip). */
export function preEmphasis(x: Float32Array, coef = 0.97): Float32Array {
  if (!Number.isFinite(coef)) throw new RangeError(`preEmphasis: coef must be finite, got ${coef}`);
  const y = new Float32Array(x.length);
  if (x.length === 0) return y;
  y[0] = x[0]!;
  for (let i = 1; i < x.length; i++) y[i] = x[i]! - coef * x[i - 1]!;
  return y;
}

/** Scales so that the largest |sample| equals `peak` (default 1). A silent clip is returned unchanged. */
export function normalizePeak(x: Float32Array, peak = 1): Float32Array {
  if (!(peak >= 0) || !Number.isFinite(peak))
    throw new RangeError(`normalizePeak: peak must be >= 0, got ${peak}`);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]!));
  if (m === 0) return x.slice();
  const g = peak / m;
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = x[i]! * g;
  return y;
}

/**
 * Scales so that the RMS level is `targetDb` dB relative to full scale (RMS 1; default -20 dB, i.e. RMS 0.1).
 * Loud targets can push peaks past 1: nothing is clipped. A silent clip is returned unchanged.
 */
export function normalizeRms(x: Float32Array, targetDb = -20): Float32Array {
  if (!Number.isFinite(targetDb))
    throw new RangeError(`normalizeRms: targetDb must be finite, got ${targetDb}`);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  if (s === 0) return x.slice();
  const g = 10 ** (targetDb / 20) / Math.sqrt(s / x.length);
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = x[i]! * g;
  return y;
}

export interface CropOrPadOptions {
  /** Where the kept window (longer input) or the input (shorter input) goes: 'random' (training; needs `rng`),
   *  'start' (default) or 'center' (evaluation). */
  mode?: 'random' | 'start' | 'center';
  rng?: Random;
  /** 'constant' (default) pads with zeros; 'wrap' repeats the clip around it, like numpy.pad(mode="wrap"). */
  padMode?: 'constant' | 'wrap';
}

/**
 * Returns exactly `length` samples. A longer clip is cropped (window at offset 0, the centre, or a uniform
 * random offset); a shorter one is placed at the start, the centre or a uniform random offset and padded.
 */
export function cropOrPad(x: Float32Array, length: number, opts: CropOrPadOptions = {}): Float32Array {
  const mode = opts.mode ?? 'start';
  const padMode = opts.padMode ?? 'constant';
  if (!Number.isInteger(length) || length < 0)
    throw new RangeError(`cropOrPad: length must be an integer >= 0, got ${length}`);
  if (mode !== 'random' && mode !== 'start' && mode !== 'center')
    throw new RangeError(`cropOrPad: mode must be 'random', 'start' or 'center', got ${String(mode)}`);
  if (padMode !== 'constant' && padMode !== 'wrap')
    throw new RangeError(`cropOrPad: padMode must be 'constant' or 'wrap', got ${String(padMode)}`);
  if (mode === 'random' && opts.rng === undefined)
    throw new RangeError("cropOrPad: mode 'random' needs opts.rng (a Random from src/core/random.ts)");
  const n = x.length;
  const slack = Math.abs(n - length);
  const offset =
    mode === 'start' ? 0 : mode === 'center' ? Math.floor(slack / 2) : opts.rng!.int(0, slack + 1);
  if (n >= length) return x.slice(offset, offset + length);
  const y = new Float32Array(length);
  if (padMode === 'constant' || n === 0) {
    if (padMode === 'wrap') throw new RangeError('cropOrPad: cannot wrap-pad an empty clip');
    y.set(x, offset);
    return y;
  }
  // Wrap: y[i] = x[(i - offset) mod n], so the clip itself sits at `offset` and repeats on both sides.
  for (let i = 0; i < length; i++) y[i] = x[(((i - offset) % n) + n) % n]!;
  return y;
}
