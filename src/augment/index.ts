// Waveform, spectrogram and batch-mixing augmentations, Compose/OneOf/SomeOf, and JSON/YAML specs.
// Browser-safe; file loading for BackgroundNoise/ImpulseResponse and config files lives in ./node.
export * from './base.js';
export * from './compose.js';
export { biquad, butterworthQs, cascadeGain, meanSquare, readFractional } from './dsp.js';
export { fft, fftConvolve } from './fft.js';
export * from './mixing.js';
export * from './perturb.js';
export * from './registry.js';
export * from './spectrogram.js';
export { autoFftSize, timeStretch } from './vocoder.js';
export * from './waveform.js';
