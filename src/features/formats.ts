// The feature-format registry (what each `features.format` is: channels, filterbank, phase, how it is
// built), the image-like formats built from one log-mel (the 2019 Freesound solutions), and the
// normalisations applied before a CNN: per-clip and per-dataset standardisation, and min-max to [0, 1].
import type { NDArray } from '../core/ndarray.js';
import type { FeatureConfig } from './config.js';
import { delta } from './delta.js';
import { gtcc } from './gammatone.js';
import { applySparse, type MelSpectrogramOptions, sparseMelFilterbank } from './mel.js';
import { mfcc } from './mfcc.js';
import { pcen } from './pcen.js';
import { stftPlan } from './stft.js';

// ---- the registry ---------------------------------------------------------------------------------

/** What a format's builder is given; the spectra are computed only for formats with a filterbank. */
export interface FormatInputs {
  config: FeatureConfig;
  /** The prepared signal (resampled, trimmed, cropped): what waveform formats return. */
  signal: ArrayLike<number> | null;
  /** W·|X|^power with the format's filterbank, [bands, frames] (null for waveform formats). */
  bands: NDArray | null;
  /** W_mel·∠X when the format needs the phase, else null. */
  phase: NDArray | null;
  /** `bands` scaled as config.scale says (dB or linear), then background/envelope. */
  scaled(): NDArray;
  /** `bands` in dB whatever config.scale says, then background/envelope (cepstra). */
  db(): NDArray;
  /** Background/envelope on an array on a linear scale (PCEN). */
  experimentalLinear(x: NDArray): NDArray;
}

export interface FeatureFormatSpec {
  /** One line for docs and `--help`. */
  doc: string;
  /** Output channels: [channels, bands, frames] when > 1; 2-D [bands, frames] (or [1, samples]) when 1. */
  channels: number;
  /** 'waveform' items are [1, samples]; the others [bands, frames] or [channels, bands, frames]. */
  kind: 'spectrogram' | 'waveform';
  /** The filterbank the bands come from; null: no spectrogram at all. */
  filterbank: 'mel' | 'gammatone' | null;
  /** Whether the builder needs the mel phase (one more projection of the STFT angles). */
  needsPhase: boolean;
  build(x: FormatInputs): NDArray;
}

function need<T>(v: T | null, what: string, format: string): T {
  if (v === null) throw new Error(`features: format "${format}" needs ${what}`);
  return v;
}

/** The format names, in registry order (a literal list, so FeatureConfig's type does not depend on FORMATS). */
export const FEATURE_FORMATS = [
  'mel',
  'mfcc',
  'mel-delta3',
  'aaa',
  'apd',
  'apx',
  'pcen',
  'gammatone',
  'gtcc',
  'waveform',
] as const;
export type FeatureFormat = (typeof FEATURE_FORMATS)[number];

/** Every `features.format`, by name. A name added to FEATURE_FORMATS needs its entry here (the type says
 * so); it is then valid in configs, the CLI and the loader. */
export const FORMATS: Readonly<Record<FeatureFormat, FeatureFormatSpec>> = {
  mel: {
    doc: 'log-mel (or linear mel with scale "power") spectrogram [nMels, frames]',
    channels: 1,
    kind: 'spectrogram',
    filterbank: 'mel',
    needsPhase: false,
    build: (x) => x.scaled(),
  },
  mfcc: {
    doc: 'MFCCs from the dB mel spectrogram (librosa.feature.mfcc) [nMfcc, frames]',
    channels: 1,
    kind: 'spectrogram',
    filterbank: 'mel',
    needsPhase: false,
    build: (x) => mfcc(x.db(), { nMfcc: x.config.nMfcc, lifter: x.config.lifter }),
  },
  'mel-delta3': {
    doc: '(log-mel, Δ, ΔΔ) [3, nMels, frames]',
    channels: 3,
    kind: 'spectrogram',
    filterbank: 'mel',
    needsPhase: false,
    build: (x) => melDelta3(x.scaled(), x.config.deltaWidth),
  },
  aaa: {
    doc: 'the log-mel in three channels (ImageNet CNNs unchanged) [3, nMels, frames]',
    channels: 3,
    kind: 'spectrogram',
    filterbank: 'mel',
    needsPhase: false,
    build: (x) => aaa(x.scaled()),
  },
  apd: {
    doc: '(log-mel, mel phase, Δ log-mel) [3, nMels, frames]',
    channels: 3,
    kind: 'spectrogram',
    filterbank: 'mel',
    needsPhase: true,
    build: (x) => apd(x.scaled(), need(x.phase, 'the mel phase', 'apd'), x.config.deltaWidth),
  },
  apx: {
    doc: '(log-mel, mel phase, log-mel × phase) [3, nMels, frames]',
    channels: 3,
    kind: 'spectrogram',
    filterbank: 'mel',
    needsPhase: true,
    build: (x) => apx(x.scaled(), need(x.phase, 'the mel phase', 'apx')),
  },
  pcen: {
    doc: 'per-channel energy normalisation of the mel spectrogram (librosa.pcen) [nMels, frames]',
    channels: 1,
    kind: 'spectrogram',
    filterbank: 'mel',
    needsPhase: false,
    build: (x) => {
      const c = x.config;
      const bands = need(x.bands, 'the mel spectrogram', 'pcen');
      const k = c.pcen.inputScale;
      const s = k === 1 ? bands : { data: bands.data.map((v) => v * k), shape: bands.shape };
      return x.experimentalLinear(pcen(s, { ...c.pcen, sampleRate: c.sampleRate, hopLength: c.hopLength }));
    },
  },
  gammatone: {
    doc: 'gammatone-filterbank spectrogram (nMels bands) [nMels, frames]',
    channels: 1,
    kind: 'spectrogram',
    filterbank: 'gammatone',
    needsPhase: false,
    build: (x) => x.scaled(),
  },
  gtcc: {
    doc: 'gammatone cepstral coefficients [nMfcc, frames]',
    channels: 1,
    kind: 'spectrogram',
    filterbank: 'gammatone',
    needsPhase: false,
    build: (x) => gtcc(x.db(), x.config.nMfcc),
  },
  waveform: {
    doc: 'the prepared waveform itself (resampled, trimmed, cropped) [1, samples], for conv1d-raw',
    channels: 1,
    kind: 'waveform',
    filterbank: null,
    needsPhase: false,
    build: (x) => {
      const y = need(x.signal, 'the signal', 'waveform');
      return { data: Float32Array.from(y), shape: [1, y.length] };
    },
  },
};

/** The registry entry of a format; the error lists the valid names. */
export function formatSpec(format: string): FeatureFormatSpec {
  const spec = (FORMATS as Record<string, FeatureFormatSpec>)[format];
  if (!spec)
    throw new Error(`features: unknown format "${format}" (expected one of ${FEATURE_FORMATS.join(', ')})`);
  return spec;
}

/** Number of output channels of a format (1 for 2-D outputs and waveforms). */
export function formatChannels(format: FeatureFormat): number {
  return formatSpec(format).channels;
}

/** Whether a format's items are waveforms [1, samples] rather than spectrograms. */
export function isWaveformFormat(format: FeatureFormat): boolean {
  return formatSpec(format).kind === 'waveform';
}

// ---- the image-like formats -----------------------------------------------------------------------

/**
 * Mel spectrogram and "mel phase" in one STFT pass (daisukelab's melspectrogram_phase for FAT2019):
 * mel = W·|X|^power and phase = W·∠X (the filterbank applied to the bin angles, in radians).
 */
export function melSpectrogramWithPhase(
  y: ArrayLike<number>,
  options: MelSpectrogramOptions,
): { mel: NDArray; phase: NDArray } {
  const power = options.power ?? 2;
  const plan = stftPlan(options);
  const fb = sparseMelFilterbank({ ...options, nFft: plan.options.nFft });
  const { padded, frames } = plan.prepare(y);
  const rows = fb.rows;
  const mel = new Float32Array(rows * frames);
  const phase = new Float32Array(rows * frames);
  const re = new Float64Array(plan.bins);
  const im = new Float64Array(plan.bins);
  const mag = new Float64Array(plan.bins);
  const ang = new Float64Array(plan.bins);
  const res = new Float64Array(rows);
  for (let t = 0; t < frames; t++) {
    plan.spectrumAt(padded, t, re, im);
    for (let k = 0; k < plan.bins; k++) {
      const p2 = re[k]! * re[k]! + im[k]! * im[k]!;
      mag[k] = power === 2 ? p2 : p2 ** (power / 2);
      ang[k] = Math.atan2(im[k]!, re[k]!);
    }
    applySparse(fb, mag, res);
    for (let m = 0; m < rows; m++) mel[m * frames + t] = res[m]!;
    applySparse(fb, ang, res);
    for (let m = 0; m < rows; m++) phase[m * frames + t] = res[m]!;
  }
  return { mel: { data: mel, shape: [rows, frames] }, phase: { data: phase, shape: [rows, frames] } };
}

function check2d(a: NDArray, name: string): [number, number] {
  if (a.shape.length !== 2)
    throw new Error(`${name}: expected a [bands, frames] array, got shape [${a.shape}]`);
  return a.shape as [number, number];
}

/** Stacks same-shaped [bands, frames] arrays into [channels, bands, frames]. */
export function stackChannels(channels: NDArray[], name = 'stackChannels'): NDArray {
  const [b, f] = check2d(channels[0]!, name);
  const n = b * f;
  const out = new Float32Array(n * channels.length);
  channels.forEach((c, i) => {
    const [cb, cf] = check2d(c, name);
    if (cb !== b || cf !== f)
      throw new Error(`${name}: channel ${i} is [${cb}, ${cf}], expected [${b}, ${f}]`);
    out.set(c.data, i * n);
  });
  return { data: out, shape: [channels.length, b, f] };
}

/** (log-mel, Δ, ΔΔ): [3, bands, frames], deltas by librosa.feature.delta (width 9 by default). */
export function melDelta3(logMel: NDArray, width = 9): NDArray {
  return stackChannels(
    [logMel, delta(logMel, { width, order: 1 }), delta(logMel, { width, order: 2 })],
    'melDelta3',
  );
}

/** daisukelab's AAA: the log-mel in all three channels (feeds ImageNet CNNs unchanged). */
export function aaa(logMel: NDArray): NDArray {
  return stackChannels([logMel, logMel, logMel], 'aaa');
}

/** daisukelab's APD: (amplitude = log-mel, phase = mel phase, Δ of the amplitude). */
export function apd(logMel: NDArray, melPhase: NDArray, width = 9): NDArray {
  return stackChannels([logMel, melPhase, delta(logMel, { width, order: 1 })], 'apd');
}

/** daisukelab's APX: (amplitude, phase, amplitude × phase). */
export function apx(logMel: NDArray, melPhase: NDArray): NDArray {
  const [b, f] = check2d(logMel, 'apx');
  const x = new Float32Array(b * f);
  for (let i = 0; i < x.length; i++) x[i] = logMel.data[i]! * melPhase.data[i]!;
  return stackChannels([logMel, melPhase, { data: x, shape: [b, f] }], 'apx');
}

/** Channels of a [bands, frames] or [channels, bands, frames] array: [count, values per channel]. */
function channelLayout(a: NDArray): [number, number, number] {
  if (a.shape.length === 2) return [1, a.shape[0]!, a.shape[1]!];
  if (a.shape.length === 3) return [a.shape[0]!, a.shape[1]!, a.shape[2]!];
  throw new Error(`expected [bands, frames] or [channels, bands, frames], got shape [${a.shape}]`);
}

/**
 * Per-clip standardisation, each channel separately: (x − mean)/(std + eps), population std
 * (daisukelab's mono_to_color before its [0, 255] scaling).
 */
export function normalizeClip(a: NDArray, eps = 1e-12): NDArray {
  const [c, b, f] = channelLayout(a);
  const n = b * f;
  const out = new Float32Array(a.data.length);
  for (let ch = 0; ch < c; ch++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += a.data[ch * n + i]!;
    const mean = s / n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (a.data[ch * n + i]! - mean) ** 2;
    const std = Math.sqrt(v / n);
    for (let i = 0; i < n; i++) out[ch * n + i] = (a.data[ch * n + i]! - mean) / (std + eps);
  }
  return { data: out, shape: [...a.shape] };
}

/** Min-max to [0, 1] per channel; a constant channel becomes 0. */
export function minMax(a: NDArray, eps = 1e-12): NDArray {
  const [c, b, f] = channelLayout(a);
  const n = b * f;
  const out = new Float32Array(a.data.length);
  for (let ch = 0; ch < c; ch++) {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      const v = a.data[ch * n + i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const span = hi - lo;
    if (span > eps) for (let i = 0; i < n; i++) out[ch * n + i] = (a.data[ch * n + i]! - lo) / span;
  }
  return { data: out, shape: [...a.shape] };
}

/** Dataset statistics: one mean/std per channel ('channel') or per channel and band ('band'). */
export interface NormStats {
  per: 'channel' | 'band';
  mean: number[];
  std: number[];
}

/**
 * Accumulates dataset statistics over clips of any length (Chan et al.'s parallel mean/variance, in
 * float64), so workers can each accumulate and `merge`.
 * @example const acc = new DatasetStats('channel'); for (const x of feats) acc.add(x); acc.finalize()
 */
export class DatasetStats {
  readonly per: 'channel' | 'band';
  private count: Float64Array = new Float64Array(0);
  private mean: Float64Array = new Float64Array(0);
  private m2: Float64Array = new Float64Array(0);

  constructor(per: 'channel' | 'band' = 'channel') {
    this.per = per;
  }

  add(a: NDArray): this {
    const [c, b, f] = channelLayout(a);
    const groups = this.per === 'channel' ? c : c * b;
    const len = this.per === 'channel' ? b * f : f;
    if (this.count.length === 0) {
      this.count = new Float64Array(groups);
      this.mean = new Float64Array(groups);
      this.m2 = new Float64Array(groups);
    } else if (this.count.length !== groups) {
      throw new Error(
        `DatasetStats.add: got ${groups} ${this.per} groups, earlier clips had ${this.count.length}`,
      );
    }
    for (let g = 0; g < groups; g++) {
      let s = 0;
      for (let i = 0; i < len; i++) s += a.data[g * len + i]!;
      const m = s / len;
      let v = 0;
      for (let i = 0; i < len; i++) v += (a.data[g * len + i]! - m) ** 2;
      this.combine(g, len, m, v);
    }
    return this;
  }

  merge(other: DatasetStats): this {
    if (other.count.length === 0) return this;
    if (this.count.length === 0) {
      this.count = other.count.slice();
      this.mean = other.mean.slice();
      this.m2 = other.m2.slice();
      return this;
    }
    if (other.count.length !== this.count.length || other.per !== this.per)
      throw new Error('DatasetStats.merge: the two accumulators have different layouts');
    for (let g = 0; g < this.count.length; g++)
      this.combine(g, other.count[g]!, other.mean[g]!, other.m2[g]!);
    return this;
  }

  private combine(g: number, nb: number, mb: number, m2b: number): void {
    const na = this.count[g]!;
    const n = na + nb;
    const d = mb - this.mean[g]!;
    this.mean[g] = this.mean[g]! + (d * nb) / n;
    this.m2[g] = this.m2[g]! + m2b + (d * d * na * nb) / n;
    this.count[g] = n;
  }

  /** Population mean and std of everything added. */
  finalize(): NormStats {
    if (this.count.length === 0) throw new Error('DatasetStats.finalize: no clips were added');
    return {
      per: this.per,
      mean: Array.from(this.mean),
      std: Array.from(this.m2, (m2, g) => Math.sqrt(m2 / this.count[g]!)),
    };
  }
}

/** (x − mean)/(std + eps) with dataset statistics from DatasetStats. */
export function normalizeDataset(a: NDArray, stats: NormStats, eps = 1e-12): NDArray {
  const [c, b, f] = channelLayout(a);
  const groups = stats.per === 'channel' ? c : c * b;
  const len = stats.per === 'channel' ? b * f : f;
  if (stats.mean.length !== groups || stats.std.length !== groups)
    throw new Error(
      `normalizeDataset: stats have ${stats.mean.length} ${stats.per} entries, this array needs ${groups}`,
    );
  const out = new Float32Array(a.data.length);
  for (let g = 0; g < groups; g++) {
    const m = stats.mean[g]!;
    const s = stats.std[g]! + eps;
    for (let i = 0; i < len; i++) out[g * len + i] = (a.data[g * len + i]! - m) / s;
  }
  return { data: out, shape: [...a.shape] };
}
