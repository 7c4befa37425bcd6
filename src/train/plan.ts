// A training config resolved once, into the objects the run is made of: the dataset and its folds, the
// model config filled in from the data, the metrics and monitor, and the loader plans (feature config
// resolved, augmentation files read, feature cache opened). The driver (run.ts) and `evaluate` work from
// a plan; the loader is handed only what it loads.
import { SchemaError } from '../core/errors.js';
import { subset } from '../data/dataset.js';
import type { Dataset, FoldSplit } from '../data/index.js';
import { type Loader, type LoaderPlan, openLoader, resolveLoaderOptions } from '../data/loader.js';
import { formatChannels } from '../features/config.js';
import { defaultMetrics } from '../metrics/index.js';
import { getModelDefinition, resolveModelConfig } from '../models/index.js';
import type { ResolvedConfig } from './config.js';
import { type PreparedData, prepareData } from './data.js';
import type { TrainOptions } from './trainer.js';

/** The model config with numClasses/inChannels filled in from the data, validated by the registry. */
export function resolveRunModel(
  config: ResolvedConfig,
  classes: readonly string[],
): { name: string; config: unknown } {
  const name = config.model.name;
  const def = getModelDefinition(name);
  const given = { ...config.model.config };
  // Fill only keys the architecture has (zod defaults show which).
  const defaults = def.configSchema.safeParse({});
  const keys =
    defaults.success && defaults.data && typeof defaults.data === 'object' ? Object.keys(defaults.data) : [];
  if (keys.includes('numClasses')) {
    if (given.numClasses !== undefined && given.numClasses !== classes.length)
      throw new Error(
        `model.config.numClasses: the data has ${classes.length} classes, got ${String(given.numClasses)}; leave it out`,
      );
    given.numClasses = classes.length;
  }
  if (keys.includes('inChannels') && given.inChannels === undefined)
    given.inChannels = formatChannels(config.features.format);
  try {
    return { name, config: resolveModelConfig(name, given) };
  } catch (e) {
    // The registry names keys relative to the model config; name them from the top of the file.
    if (e instanceof SchemaError)
      throw new SchemaError(
        e.what,
        e.problems.map((p) => `model.config.${p}`),
      );
    throw e;
  }
}

/** The loader plans of a run: training (augmentation read, only when `training`) and evaluation. Folds
 * differ only by seed (and dropLast, by their size). */
export interface LoaderPlans {
  train: LoaderPlan | null;
  eval: LoaderPlan;
}

/** Resolves the loader section once: features, augmentation files, the feature cache. */
export async function planLoaders(config: ResolvedConfig, training = true): Promise<LoaderPlans> {
  const l = config.loader;
  const common = {
    features: config.features,
    cacheDir: l.cacheDir,
    workers: l.workers,
    prefetch: l.prefetch,
    crop: config.crop,
  };
  const evalPlan = await resolveLoaderOptions({
    ...common,
    batchSize: l.evalBatchSize ?? l.batchSize,
    training: false,
  });
  if (!training) return { train: null, eval: evalPlan };
  const train = await resolveLoaderOptions({
    ...common,
    batchSize: l.batchSize,
    training: true,
    augment: config.augment,
    sampler: l.sampler,
    dropLast: l.dropLast,
  });
  // One cache for both: the same feature config.
  return { train: { ...train, cache: evalPlan.cache }, eval: evalPlan };
}

/** Opens the loaders of one fold (either set may be null); closes what it opened when one fails. */
export async function openFoldLoaders(
  plans: LoaderPlans,
  train: Dataset | null,
  val: Dataset | null,
  seed: number,
  onProgress?: (done: number, total: number) => void,
): Promise<{ train: Loader | null; val: Loader | null }> {
  let trainLoader: Loader | null = null;
  try {
    if (train) {
      if (!plans.train) throw new Error('openFoldLoaders: the plan was made without training loaders');
      const p = plans.train;
      trainLoader = await openLoader(train, {
        ...p,
        seed,
        dropLast: p.dropLast && train.items.length > p.batchSize,
        onProgress,
      });
    }
    const valLoader = val ? await openLoader(val, { ...plans.eval, seed, onProgress }) : null;
    return { train: trainLoader, val: valLoader };
  } catch (e) {
    await trainLoader?.close();
    throw e;
  }
}

/** The trainer options a config's `train` section gives as they are (optimiser, schedule, loss, EMA,
 * clipping, early stopping, window aggregation, device): for every driver of trainModel. */
export function optimisationOptions(
  t: ResolvedConfig['train'],
): Pick<
  TrainOptions,
  | 'epochs'
  | 'optimizer'
  | 'schedule'
  | 'loss'
  | 'clipGradNorm'
  | 'memoryFormat'
  | 'convAlgorithm'
  | 'precision'
  | 'ema'
  | 'earlyStopping'
  | 'aggregate'
  | 'device'
> {
  return {
    epochs: t.epochs,
    optimizer: t.optimizer,
    schedule: t.schedule,
    loss: t.loss,
    clipGradNorm: t.clipGradNorm,
    memoryFormat: t.memoryFormat,
    convAlgorithm: t.convAlgorithm,
    precision: t.precision,
    ema: t.ema,
    earlyStopping: t.earlyStopping,
    aggregate: t.aggregate,
    device: t.device,
  };
}

/** A training config resolved into what the run is made of. */
export interface TrainingPlan {
  config: ResolvedConfig;
  /** The config with the model section resolved (what config.yaml records). */
  resolvedConfig: ResolvedConfig;
  data: PreparedData;
  classes: string[];
  model: { name: string; config: unknown };
  /** Validation metrics, and the one that picks the best epoch ('last': none). */
  metrics: string[];
  monitor: string;
  loaders: LoaderPlans;
}

/** Loads the data, makes the folds, resolves the model and the loaders. Reads every file the run needs. */
export async function planTraining(config: ResolvedConfig): Promise<TrainingPlan> {
  const data = await prepareData(config);
  const classes = data.dataset.classes;
  const model = resolveRunModel(config, classes);
  const metrics = config.train.metrics ?? defaultMetrics(data.dataset.multiLabel);
  return {
    config,
    resolvedConfig: {
      ...config,
      model: { name: model.name, config: model.config as Record<string, unknown> },
    },
    data,
    classes,
    model,
    metrics,
    monitor: config.train.monitor ?? metrics[0]!,
    loaders: await planLoaders(config),
  };
}

/** The train and validation sets of one split. */
export function splitSets(plan: TrainingPlan, split: FoldSplit): { train: Dataset; val: Dataset } {
  return { train: subset(plan.data.dataset, split.train), val: subset(plan.data.dataset, split.val) };
}
