// src/pipelines: multi-stage training recipes for learning from noisy labels (docs/noisy.md).
export * from './config.js';
export * from './recipes.js';
export * from './runner.js';
