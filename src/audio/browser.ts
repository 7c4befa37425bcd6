// Browser-safe audio API (no Node imports): WAV decoding/encoding, resampling and waveform effects.
// Node code imports src/audio/index.ts, which adds file and ffmpeg I/O.
export {
  type CropOrPadOptions,
  cropOrPad,
  frameRmsDb,
  normalizePeak,
  normalizeRms,
  preEmphasis,
  type TrimOptions,
  toMono,
  trim,
} from './effects.js';
export {
  type ResampleOptions,
  type ResampleQuality,
  resample,
  resampledLength,
  resampleFilterTaps,
} from './resample.js';
export { type Audio, AudioDecodeError, frameCount } from './types.js';
export { assertFiniteSamples } from './validate.js';
export {
  type ByteSource,
  bytesSource,
  decodeWav,
  decodeWavFrames,
  type EncodeWavOptions,
  encodeWav,
  looksLikeWav,
  parseWavHeader,
  type WavEncoding,
  type WavHeader,
} from './wav.js';
