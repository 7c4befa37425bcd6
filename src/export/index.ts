// src/export: ONNX export of registry models and trained runs (with an optional feature front-end and
// int8 weights), and OnnxModel, which runs the exported files without libtorch. docs/export.md.
export {
  ExportError,
  type ExportInfo,
  type ExportOptions,
  type ExportResult,
  type ExportRunOptions,
  exportModels,
  exportRun,
  runFolds,
} from './export.js';
export { frontendProblem } from './frontend.js';
export type { ExportMeta, WindowSpec } from './meta.js';
export { EXPORTABLE } from './models.js';
export {
  activate,
  type OnnxBackend,
  type OnnxLoadOptions,
  OnnxModel,
  type OnnxOutputs,
  readExportMeta,
} from './onnx-runtime.js';
