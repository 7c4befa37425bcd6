// Audio features, browser-safe, agreeing with librosa 0.10's formulas to 1e-4 relative (mel power) and
// 0.01 dB (test/features/reference.test.ts): STFT, mel, dB, MFCC, deltas, PCEN, gammatone, the 3-channel
// formats, normalisation, and the FeatureConfig/preset pipeline. Node-only helpers (disk cache,
// worker-thread extraction) are in ./node/index.ts.
export {
  type BandSpectra,
  bandSpectra,
  computeFeatures,
  featuresFromBands,
  featuresFromSignal,
  gammatoneOptionsOf,
  melOptionsOf,
  needsPhase,
  prepareSignal,
  scaleToDb,
  stftOptionsOf,
  usesGammatone,
} from './compute.js';
export {
  canonicalConfig,
  FEATURE_FORMATS,
  FEATURES_VERSION,
  type FeatureConfig,
  FeatureConfigError,
  type FeatureConfigInput,
  type FeatureFormat,
  featureConfigSchema,
  formatChannels,
  LIBROSA_DEFAULTS,
  NORMALIZATIONS,
  PRESET_NAMES,
  PRESETS,
  type PresetName,
  resolveFeatureConfig,
} from './config.js';
export { amplitudeToDb, type DbOptions, dbToAmplitude, dbToPower, powerToDb } from './db.js';
export { DELTA_MODES, type DeltaMode, type DeltaOptions, delta, savgolWeights } from './delta.js';
export {
  type BackgroundOptions,
  backgroundSubtraction,
  EnvelopeAccumulator,
  type EnvelopeTransferOptions,
  frequencyEnvelope,
  percentile,
  transferEnvelope,
} from './experimental.js';
export { ComplexFFT, naiveDft, RealFFT } from './fft.js';
export {
  aaa,
  apd,
  apx,
  DatasetStats,
  type FeatureFormatSpec,
  FORMATS,
  type FormatInputs,
  formatSpec,
  isWaveformFormat,
  melDelta3,
  melSpectrogramWithPhase,
  minMax,
  type NormStats,
  normalizeClip,
  normalizeDataset,
  stackChannels,
} from './formats.js';
export {
  erb,
  erbRateToHz,
  type GammatoneOptions,
  gammatoneCenters,
  gammatoneFilterbank,
  gammatoneSpectrogram,
  gtcc,
  hzToErbRate,
} from './gammatone.js';
export {
  applyFilterbank,
  fftFrequencies,
  hzToMel,
  linspace,
  type MelNorm,
  type MelOptions,
  type MelScale,
  type MelSpectrogramOptions,
  melFilterbank,
  melFrequencies,
  melSpectrogram,
  melToHz,
  type SparseFilterbank,
  sparseMelFilterbank,
} from './mel.js';
export { dct, dctMatrix, type MfccOptions, mfcc } from './mfcc.js';
export { decodeNpy, decodeNpyFloat32, encodeNpy, type Npy } from './npy.js';
export { type PcenOptions, pcen, pcenSmoothing } from './pcen.js';
export {
  frameCount,
  PAD_MODES,
  type PadMode,
  padSignal,
  type StftOptions,
  StftPlan,
  spectrogram,
  stft,
  stftPlan,
} from './stft.js';
export { getWindow, padCenter, WINDOW_NAMES, type WindowName } from './window.js';
