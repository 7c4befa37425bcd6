// The audio API for Node: everything in browser.ts plus file reading/writing (WAV natively, other formats
// through ffmpeg).
export * from './browser.js';
export { type AudioInfo, audioInfo, type LoadAudioOptions, loadAudio, writeWav } from './io.js';
