// src/infer: using trained models — Tagger (library), the predict job behind `audiotag predict`, the
// ensemble and post-processing functions, the output formats and the streamed window reader.
export {
  type BatchScores,
  type LoadOptions,
  type ModelInfo,
  type ModelSource,
  resolveModelSources,
  type ScoringBackend,
} from './backend.js';
export * from './ensemble.js';
export {
  type FileOutput,
  type KaggleTemplate,
  OUTPUT_FILES,
  OUTPUT_FORMATS,
  type OutputFormat,
  RAVEN_COLUMNS,
} from './formats.js';
export { listAudio, resolveInputs } from './inputs.js';
export { type PredictJobOptions, type PredictSummary, predict, type Skipped } from './job.js';
export type { RawResult, TagInput } from './pipeline.js';
export * from './tagger.js';
export {
  CHUNK_SECONDS,
  cutWindows,
  modelWindowSamples,
  streamFile,
  streamSamples,
  type Window,
  type WindowOptions,
  type WindowPlan,
  windowPlan,
} from './windows.js';
