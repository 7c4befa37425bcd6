// The audio API for Node: everything in browser.ts plus file reading/writing (WAV natively; FLAC, Ogg and
// MP3 through the libsndfile addon when it is built; other formats through ffmpeg) and libsoxr resampling.
export * from './browser.js';
export {
  type AudioDecoder,
  type AudioInfo,
  audioInfo,
  type LoadAudioOptions,
  loadAudio,
  type Resampler,
  resampleAudio,
  writeWav,
} from './io.js';
export { audioAddon, audioAddonProblem } from './native.js';
