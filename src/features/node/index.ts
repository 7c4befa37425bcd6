// Node-only feature helpers: the on-disk cache and worker-thread bulk extraction.
export { configHash, FeatureCache, hashFile } from './cache.js';
export { type ExtractOptions, extractMany, extractSamples, FeatureWorkerPool } from './extract.js';
