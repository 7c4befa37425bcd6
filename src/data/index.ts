// Public data API: manifest readers, dataset helpers, folds and the audio check.
export { type BuildOptions, ManifestBuilder, missingFiles, type RowInput } from './builder.js';
export { type CsvRow, type CsvTable, columnIndex, parseCsv, readCsv } from './csv.js';
export {
  classCounts,
  classIndices,
  labelIndexLists,
  mergeDatasets,
  subset,
  targetMatrix,
  withClasses,
} from './dataset.js';
export {
  applyFolds,
  FOLD_STRATEGIES,
  type FoldOptions,
  type FoldPlan,
  type FoldSplit,
  type FoldStrategy,
  foldSplits,
  groupKFold,
  iterativeStratification,
  kFold,
  makeFolds,
  predefinedFolds,
  type Seed,
  stratifiedGroupKFold,
  stratifiedKFold,
} from './folds.js';
export {
  AUDIO_EXTENSIONS,
  type CsvManifestConfig,
  detectFormat,
  guessAudioDir,
  loadManifest,
  MANIFEST_FORMATS,
  type ManifestFormat,
  type ManifestSpec,
  parsePythonList,
  type ReaderOptions,
  readBirdclef,
  readClassList,
  readCsvManifest,
  readEsc50,
  readFolder,
  readFsd2018,
  readFsd2019,
  readManifest,
  readSampleSubmission,
  type SubmissionTemplate,
} from './manifests.js';
export { isSpeechCommandsFolder, readSpeechCommands, SPEECH_LISTS, speakerOf } from './speech-commands.js';
export {
  assertNoErrors,
  type Dataset,
  formatProblem,
  type Item,
  ManifestError,
  type ManifestResult,
  type Problem,
  type ProblemKind,
  type Severity,
} from './types.js';
export { type AudioCheckOptions, type AudioCheckResult, checkAudio } from './validate.js';
