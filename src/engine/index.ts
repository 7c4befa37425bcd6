// The engine: tensors over libtorch (native/), creation, random numbers, memory scopes, autograd
// and devices. nn functional ops are in functional.ts, optimisers in optim.ts. See docs/engine.md.
export * from './creation.js';
export { type Device, DTYPES, type DType, MEMORY_FORMATS, type MemoryFormat, type Shape } from './dtype.js';
export { EngineError } from './errors.js';
export {
  type AutocastDType,
  type AutocastOptions,
  autocast,
  type ConvAlgorithm,
  type CpuCacheStats,
  convAlgorithm,
  cpuCacheStats,
  emptyCpuCache,
  isAutocastEnabled,
  type MallocStats,
  mallocStats,
  mallocTrim,
  type OpProfile,
  profileOps,
  setConvAlgorithm,
  setCpuCacheLimit,
  setMemoryFormat_,
  withConvAlgorithm,
} from './perf.js';
export { dispose, keep, liveTensors, scopeDepth, tidy } from './scope.js';
export { Tensor } from './tensor.js';
