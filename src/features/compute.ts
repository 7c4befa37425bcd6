// The whole pipeline for one clip: resample → trim → crop/pad → spectrogram → scale → experimental
// transforms → format → normalisation. Browser-safe (the audio helpers come from src/audio/browser.ts).
import { cropOrPad, resample, trim } from '../audio/browser.js';
import type { NDArray } from '../core/ndarray.js';
import { type FeatureConfig, type FeatureConfigInput, resolveFeatureConfig } from './config.js';
import { powerToDb } from './db.js';
import { backgroundSubtraction, transferEnvelope } from './experimental.js';
import { formatSpec, melSpectrogramWithPhase, minMax, normalizeClip, normalizeDataset } from './formats.js';
import { gammatoneSpectrogram } from './gammatone.js';
import { melSpectrogram } from './mel.js';

/**
 * The waveform the spectrogram sees: resampled to config.sampleRate, silence-trimmed when config.trim
 * is set (librosa.effects.trim, top_db = config.trim), then cropped/padded to config.duration seconds.
 */
export function prepareSignal(
  samples: Float32Array,
  sampleRate: number,
  config: FeatureConfig,
): Float32Array {
  if (!(sampleRate > 0) || !Number.isInteger(sampleRate))
    throw new Error(`computeFeatures: sampleRate must be a positive integer (Hz), got ${sampleRate}`);
  let y = sampleRate === config.sampleRate ? samples : resample(samples, sampleRate, config.sampleRate);
  if (config.trim !== null && y.length > 0) {
    const t = trim(y, { topDb: config.trim });
    // An all-quiet clip trims to nothing; keep it whole rather than fail (it still has a spectrogram).
    if (t.samples.length > 0) y = t.samples;
  }
  if (config.duration !== null)
    y = cropOrPad(y, Math.round(config.duration * config.sampleRate), { mode: config.durationAlign });
  if (y.length === 0) throw new Error('computeFeatures: the clip has no samples');
  return y;
}

/** A |X|^power spectrogram in dB, with the config's ref, amin (a power floor) and topDb. */
export function scaleToDb(x: NDArray, power: number, config: FeatureConfig): NDArray {
  if (power === 2) return powerToDb(x, { ref: config.ref, amin: config.amin, topDb: config.topDb });
  // |X|^p → |X|² first, so amin stays a power floor (for p = 1 this is librosa.amplitude_to_db with
  // amin = √amin, i.e. its 1e-5 default).
  const e = 2 / power;
  const p2 = { data: x.data.map((v) => v ** e), shape: x.shape };
  const ref = config.ref === 'max' ? 'max' : config.ref ** e;
  return powerToDb(p2, { ref, amin: config.amin, topDb: config.topDb });
}

/** The STFT options of a config. */
export function stftOptionsOf(c: FeatureConfig) {
  return {
    nFft: c.nFft,
    hopLength: c.hopLength,
    winLength: c.winLength,
    window: c.window,
    center: c.center,
    padMode: c.padMode,
  };
}

/** The melSpectrogram options of a config. */
export function melOptionsOf(c: FeatureConfig) {
  return {
    ...stftOptionsOf(c),
    sampleRate: c.sampleRate,
    nMels: c.nMels,
    fmin: c.fmin,
    fmax: c.fmax,
    melScale: c.melScale,
    melNorm: c.melNorm,
    power: c.power,
  };
}

/** Background subtraction and envelope transfer, when configured, on a 2-D (scaled) spectrogram. */
function experimental(x: NDArray, c: FeatureConfig, inDb: boolean): NDArray {
  let y = x;
  if (c.background) y = backgroundSubtraction(y, c.background);
  if (c.envelope) {
    const scale = inDb ? 'db' : c.power === 1 ? 'amplitude' : 'power';
    y = transferEnvelope(y, c.envelope.target, { scale, maxGainDb: c.envelope.maxGainDb });
  }
  return y;
}

/**
 * What a format is built from: `bands` = W·|X|^power with the mel filterbank (the gammatone one for
 * gammatone/gtcc), [bands, frames]; `phase` = W_mel·∠X for apd/apx, else null. Split from the rest of
 * the pipeline so another backend (src/features/node/engine.ts, libtorch) can supply these two and
 * reuse everything after them.
 */
export interface BandSpectra {
  bands: NDArray;
  phase: NDArray | null;
}

/** Whether a format needs the mel phase (apd, apx). */
export function needsPhase(c: FeatureConfig): boolean {
  return formatSpec(c.format).needsPhase;
}

/** Whether a format uses the gammatone filterbank instead of the mel one. */
export function usesGammatone(c: FeatureConfig): boolean {
  return formatSpec(c.format).filterbank === 'gammatone';
}

/** The gammatoneSpectrogram/gammatoneFilterbank options of a config. */
export function gammatoneOptionsOf(c: FeatureConfig) {
  return {
    ...stftOptionsOf(c),
    sampleRate: c.sampleRate,
    nBands: c.nMels,
    fmin: c.fmin,
    fmax: c.fmax,
    power: c.power,
  };
}

/** The band spectrogram(s) of a prepared signal, in plain TypeScript. */
export function bandSpectra(y: ArrayLike<number>, c: FeatureConfig): BandSpectra {
  if (usesGammatone(c)) return { bands: gammatoneSpectrogram(y, gammatoneOptionsOf(c)), phase: null };
  if (needsPhase(c)) {
    const { mel, phase } = melSpectrogramWithPhase(y, melOptionsOf(c));
    return { bands: mel, phase };
  }
  return { bands: melSpectrogram(y, melOptionsOf(c)), phase: null };
}

/** The format from band spectra (scaling, experimental transforms, format, normalisation). */
export function featuresFromBands(spectra: BandSpectra, config: FeatureConfig): NDArray {
  return buildFormat(spectra, null, config);
}

/** The registry's builder (formats.ts), then the normalisation. */
function buildFormat(
  spectra: BandSpectra | null,
  signal: ArrayLike<number> | null,
  config: FeatureConfig,
): NDArray {
  const c = config;
  const inDb = c.scale === 'db';
  const bands = spectra?.bands ?? null;
  const needBands = () => {
    if (!bands) throw new Error(`features: format "${c.format}" needs band spectra`);
    return bands;
  };
  const out = formatSpec(c.format).build({
    config: c,
    signal,
    bands,
    phase: spectra?.phase ?? null,
    scaled: () => experimental(inDb ? scaleToDb(needBands(), c.power, c) : needBands(), c, inDb),
    // MFCCs (and GTCCs) always come from the dB spectrogram (librosa.feature.mfcc), whatever `scale` says.
    db: () => experimental(scaleToDb(needBands(), c.power, c), c, true),
    experimentalLinear: (x) => experimental(x, c, false),
  });
  switch (c.normalize) {
    case 'none':
      return out;
    case 'clip':
      return normalizeClip(out);
    case 'minmax':
      return minMax(out);
    case 'clip-minmax':
      return minMax(normalizeClip(out));
    case 'dataset':
      return normalizeDataset(out, c.normStats!);
  }
}

/** The format from an already prepared signal (no resampling, trimming or cropping). */
export function featuresFromSignal(y: ArrayLike<number>, config: FeatureConfig): NDArray {
  if (formatSpec(config.format).filterbank === null) return buildFormat(null, y, config);
  return featuresFromBands(bandSpectra(y, config), config);
}

/**
 * Features of one clip: [bands, frames] (mel, mfcc, pcen, gammatone, gtcc), [3, bands, frames]
 * (mel-delta3, aaa, apd, apx) or [1, samples] (waveform); see FORMATS in formats.ts. `samples` is mono at `sampleRate`; it is resampled when that differs
 * from config.sampleRate, and trimmed/cropped as configured.
 * @example computeFeatures(samples, 16000, 'fat2019'); computeFeatures(x, 44100, { preset: 'fat2019', format: 'mfcc' })
 */
export function computeFeatures(
  samples: Float32Array,
  sampleRate: number,
  config: FeatureConfigInput | FeatureConfig,
): NDArray {
  const c = resolveFeatureConfig(config);
  return featuresFromSignal(prepareSignal(samples, sampleRate, c), c);
}
