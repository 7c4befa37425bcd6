// Public metrics API (browser-safe; file-based scoring lives in ./node/submission.ts).
export {
  accuracy,
  argmax,
  confusionMatrix,
  mapAtK,
  mapAtKFromLists,
  type Prf,
  type PrfOptions,
  type PrfPerClass,
  precisionRecallF1,
  precisionRecallF1PerClass,
  topKAccuracy,
} from './classification.js';
export {
  type ComputeOptions,
  computeMetrics,
  defaultMetrics,
  isMetricName,
  METRIC_NAMES,
} from './compute.js';
export type { Scores, Truth } from './input.js';
export {
  type Average,
  averagePrecision,
  averagePrecisionPerClass,
  binaryAveragePrecision,
  binaryRocAuc,
  type LwlrapResult,
  labelRankingAveragePrecision,
  lwlrap,
  lwlrapPerClass,
  paddedCmap,
  type RocAucOptions,
  rocAuc,
  rocAucPerClass,
} from './ranking.js';
