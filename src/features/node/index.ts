// Node-only feature helpers: the on-disk cache and bulk extraction (worker threads or the engine).
// The engine backend itself (./engine.ts) is not re-exported: importing it loads the native addon.

export { type BatchInput, type BatchResult, extractToDir, listBatchInputs } from './batch.js';
export { configHash, FeatureCache, hashFile } from './cache.js';
export {
  AUTO_ENGINE_MIN_CLIPS,
  type ExtractOptions,
  extractMany,
  extractSamples,
  FEATURE_BACKENDS,
  type FeatureBackend,
  FeatureWorkerPool,
  resolveBackend,
} from './extract.js';
export {
  type PrepareOptions,
  type PrepareProgress,
  type PrepareResult,
  prepareCache,
} from './prepare.js';
