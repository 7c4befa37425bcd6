// src/report: charts (Vega-Lite → SVG/PNG), self-contained HTML pages, the training (with the UMAP map of
// validation embeddings), evaluation, dataset and prediction reports, and spectrogram images (docs/report.md).
export { type Chart, chart, renderSvg, type VegaLiteSpec } from './charts.js';
export { type DatasetInspection, inspectDataset, writeDatasetReport } from './dataset.js';
export { embeddingMapChart, foldMaps, MAP_SEED, type MapPoint, umap2d } from './embedding-map.js';
export {
  type EvaluationInput,
  evaluationSections,
  perClassTable,
  writeEvaluationReport,
} from './evaluation.js';
export { type Block, type PageOptions, pageHtml, type Section, writeReport } from './html.js';
export { longSpectrogram, type PredictionReportOptions, writePredictionReport } from './prediction.js';
export { svgToPng } from './raster.js';
export {
  renderSpectrogramFigurePng,
  type SpectrogramFigureOptions,
  spectrogramFigureSvg,
} from './spectrogram-figure.js';
export { type Colormap, renderSpectrogramPng, type SpectrogramPngOptions } from './spectrogram-png.js';
export { liveTrainingReport, type TrainingReportInfo, writeTrainingReport } from './training.js';
