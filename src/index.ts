// The public API of `import … from 'audiotag'`: every folder's exports, flat, and each folder as a namespace
// (`audio`, `features`, `engine`…) for the few names two folders share. This root entry loads the engine
// (libtorch through build/Release/audiotag_native.node). `audiotag/audio` and `audiotag/features` are
// browser-safe sub-paths that never load the addon.
export * from './audio/index.js';
export * as audio from './audio/index.js';
// Names two folders share: the flat name is the more common use; the other lives in its namespace.
/** The number of frames of an Audio (features.frameCount is the STFT frame count). */
export { frameCount } from './audio/index.js';
export * from './augment/index.js';
export * as augment from './augment/index.js';
export * from './data/index.js';
export * as data from './data/index.js';
export * from './engine/index.js';
export * as engine from './engine/index.js';
/** The engine's Tensor linspace (features.linspace returns a Float64Array). */
export { linspace } from './engine/index.js';
export * as onnx from './export/index.js';
export * from './features/index.js';
export * as features from './features/index.js';
export * from './infer/index.js';
export * as infer from './infer/index.js';
export * from './metrics/index.js';
export * as metrics from './metrics/index.js';
/** Names infer shares with models/train: the flat name keeps the older meaning (infer.ModelInfo for the other). */
export type { ModelInfo } from './models/index.js';
export * from './models/index.js';
export * as models from './models/index.js';
export * from './nn/index.js';
export * as nn from './nn/index.js';
/** Noisy labels (docs/noisy.md): as namespaces only (their helpers' names are generic). */
export * as noisy from './noisy/index.js';
export * as pipelines from './pipelines/index.js';
/** Reports (docs/report.md): as a namespace only. */
export * as report from './report/index.js';
export type { LoadOptions } from './train/index.js';
export * from './train/index.js';
export * as train from './train/index.js';
export { VERSION } from './version.js';
