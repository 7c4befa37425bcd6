// src/noisy: known-noise benchmarks (corrupt, mix), soft labels, distillation targets, sample weights and
// the warm-up selection (docs/noisy.md).
export * from './apply.js';
export * from './labels.js';
export * from './manifest.js';
export * from './mix.js';
export * from './schema.js';
