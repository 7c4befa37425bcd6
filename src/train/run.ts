// The k-fold driver behind `audiotag train`: loads the data, makes the folds, trains each fold (or the
// folds asked for) into <out>/fold<i>/, and writes the run's record: config.yaml (the resolved config),
// log.jsonl (one line per epoch), oof.csv (out-of-fold clip scores) and metrics.json (mean, std and
// per-fold value of every metric). Running the same command again continues: finished folds are kept,
// an interrupted fold resumes from its last checkpoint.
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import YAML from 'yaml';
import { mixSeed } from '../core/random.js';
import { subset } from '../data/dataset.js';
import { createLoader, type Loader } from '../data/loader.js';
import type { Dataset } from '../data/types.js';
import * as E from '../engine/index.js';
import { formatChannels } from '../features/config.js';
import { computeMetrics, defaultMetrics } from '../metrics/index.js';
import { createModel, getModelDefinition, resolveModelConfig } from '../models/index.js';
import type { AudioModel } from '../models/types.js';
import { configToYaml, type ResolvedConfig } from './config.js';
import { type PreparedData, prepareData } from './data.js';
import { initFromCheckpoint } from './finetune.js';
import { truthOf } from './predict.js';
import { defaultReporter, type Reporter } from './progress.js';
import { type EpochRecord, readScoresCsv, scoresCsv, trainModel } from './trainer.js';

export interface RunOptions {
  config: ResolvedConfig;
  /** The run directory. */
  out: string;
  /** Fold indices to train (default: all). */
  folds?: number[];
  quiet?: boolean;
  /** Start over when the directory holds a run with another config (its files are removed). */
  force?: boolean;
  reporter?: Reporter;
  /** Called after every epoch of every fold (tests use it to simulate a crash). */
  onEpoch?: (fold: number, record: EpochRecord) => void;
}

export interface MetricSummary {
  mean: number;
  /** Population standard deviation over the folds (numpy's default). */
  std: number;
  per_fold: number[];
}

export interface FoldReport {
  fold: number;
  id: number;
  train: number;
  val: number;
  best_epoch: number;
  epochs: number;
  stopped_early: boolean;
  seconds: number;
  metrics: Record<string, number>;
  /** The groups (speakers, source recordings) of the validation items, when there are at most 10. */
  val_groups?: string[];
}

export interface RunMetrics {
  task: 'single-label' | 'multi-label';
  strategy: string;
  classes: string[];
  /** Folds in the plan; `folds` lists those trained so far. */
  planned: number;
  complete: boolean;
  folds: FoldReport[];
  metrics: Record<string, MetricSummary>;
  /** Metrics over all out-of-fold predictions at once (when every fold is trained). */
  oof: Record<string, number> | null;
  seconds: number;
}

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
    throw new Error((e as Error).message.replace(/^ {2}(\S+):/gm, '  model.config.$1:'));
  }
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

export function summarise(values: number[]): MetricSummary {
  const m = mean(values);
  return { mean: m, std: Math.sqrt(mean(values.map((v) => (v - m) ** 2))), per_fold: values };
}

/** Creates the loaders of one fold. */
export async function foldLoaders(
  config: ResolvedConfig,
  train: Dataset | null,
  val: Dataset | null,
  seed: number,
): Promise<{ train: Loader | null; val: Loader | null }> {
  const l = config.loader;
  const common = {
    features: config.features,
    cacheDir: l.cacheDir,
    workers: l.workers,
    prefetch: l.prefetch,
    crop: config.crop,
  };
  let trainLoader: Loader | null = null;
  try {
    if (train)
      trainLoader = await createLoader(train, {
        ...common,
        batchSize: l.batchSize,
        training: true,
        augment: config.augment,
        sampler: l.sampler,
        dropLast: l.dropLast && train.items.length > l.batchSize,
        seed,
      });
    const valLoader = val
      ? await createLoader(val, {
          ...common,
          batchSize: l.evalBatchSize ?? l.batchSize,
          training: false,
          seed,
        })
      : null;
    return { train: trainLoader, val: valLoader };
  } catch (e) {
    await trainLoader?.close();
    throw e;
  }
}

/** Files a run writes at its top level (what --force removes, besides fold directories). */
const RUN_FILES = ['config.yaml', 'log.jsonl', 'metrics.json', 'oof.csv'];

function prepareOut(out: string, yaml: string, force: boolean): void {
  const cfgPath = join(out, 'config.yaml');
  if (existsSync(cfgPath)) {
    const old = readFileSync(cfgPath, 'utf8');
    if (old === yaml) return;
    if (!force)
      throw new Error(
        `${out} already holds a run with a different config (${cfgPath}); use another --out, or --force to replace it`,
      );
    for (const f of RUN_FILES) rmSync(join(out, f), { force: true });
    for (const d of readdirSync(out))
      if (/^fold\d+$/.test(d)) rmSync(join(out, d), { recursive: true, force: true });
  }
  mkdirSync(out, { recursive: true });
  writeFileSync(cfgPath, yaml);
}

/** Reads the finished folds' results and writes metrics.json and oof.csv. */
export function aggregateRun(
  out: string,
  data: PreparedData,
  config: ResolvedConfig,
  classes: string[],
): RunMetrics {
  const reports: FoldReport[] = [];
  const oofScores = new Float32Array(data.dataset.items.length * classes.length);
  const covered = new Uint8Array(data.dataset.items.length);
  for (const s of data.splits) {
    const dir = join(out, `fold${s.fold}`);
    const resultPath = join(dir, 'result.json');
    if (!existsSync(resultPath)) continue;
    reports.push(JSON.parse(readFileSync(resultPath, 'utf8')) as FoldReport);
    const oofPath = join(dir, 'oof.csv');
    if (existsSync(oofPath)) {
      const sc = readScoresCsv(oofPath, classes.length);
      s.val.forEach((item, r) => {
        oofScores.set(sc.subarray(r * classes.length, (r + 1) * classes.length), item * classes.length);
        covered[item] = 1;
      });
    }
  }
  const names = [...new Set(reports.flatMap((r) => Object.keys(r.metrics)))];
  const metrics: Record<string, MetricSummary> = {};
  for (const n of names) {
    const vals = reports.map((r) => r.metrics[n]).filter((v): v is number => v !== undefined);
    if (vals.length === reports.length) metrics[n] = summarise(vals);
  }
  const rows = Array.from(covered.keys()).filter((i) => covered[i] === 1);
  let oof: Record<string, number> | null = null;
  const complete = reports.length === data.splits.length;
  if (rows.length > 0) {
    const ids = rows.map((i) => data.dataset.items[i]!.id);
    const sc = new Float32Array(rows.length * classes.length);
    rows.forEach((i, r) => {
      sc.set(oofScores.subarray(i * classes.length, (i + 1) * classes.length), r * classes.length);
    });
    writeFileSync(join(out, 'oof.csv'), scoresCsv(ids, classes, sc));
    if (complete) {
      const metricNames = config.train.metrics ?? defaultMetrics(data.dataset.multiLabel);
      oof = computeMetrics(metricNames, sc, truthOf(data.dataset, rows));
    }
  }
  const result: RunMetrics = {
    task: data.dataset.multiLabel ? 'multi-label' : 'single-label',
    strategy: data.strategy,
    classes,
    planned: data.splits.length,
    complete,
    folds: reports,
    metrics,
    oof,
    seconds: reports.reduce((a, r) => a + r.seconds, 0),
  };
  writeFileSync(join(out, 'metrics.json'), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

/** Trains the run; see the file comment. */
export async function runTraining(opts: RunOptions): Promise<RunMetrics> {
  const { config } = opts;
  const out = resolve(opts.out);
  const reporter = opts.reporter ?? defaultReporter(opts.quiet ?? false);
  if (config.train.threads) E.setNumThreads(config.train.threads);
  const data = await prepareData(config);
  for (const w of data.warnings) reporter.message(`warning: ${w}`);
  const { dataset } = data;
  const classes = dataset.classes;
  const model = resolveRunModel(config, classes);
  const resolvedConfig = { ...config, model: { name: model.name, config: model.config } };
  prepareOut(out, configToYaml(resolvedConfig), opts.force ?? false);

  const k = data.splits.length;
  const wanted = opts.folds ?? data.splits.map((s) => s.fold);
  for (const f of wanted)
    if (!Number.isInteger(f) || f < 0 || f >= k)
      throw new Error(`--folds: fold ${f} does not exist; this run has folds 0..${k - 1}`);
  const metricNames = config.train.metrics ?? defaultMetrics(dataset.multiLabel);
  const monitor = config.train.monitor ?? metricNames[0]!;
  reporter.message(
    `${dataset.items.length} clips, ${classes.length} classes (${dataset.multiLabel ? 'multi-label' : 'single-label'}); ` +
      `folds: ${data.strategy}, ${k} fold${k === 1 ? '' : 's'}; model ${model.name}`,
  );

  for (const split of data.splits) {
    if (!wanted.includes(split.fold)) continue;
    const dir = join(out, `fold${split.fold}`);
    const label = k === 1 ? 'train' : `fold ${split.fold}/${k}`;
    if (existsSync(join(dir, 'result.json'))) {
      reporter.message(`${label}: already trained (${join(dir, 'result.json')}), kept`);
      continue;
    }
    const seed = mixSeed(config.seed, split.fold);
    const trainSet = subset(dataset, split.train);
    const valSet = subset(dataset, split.val);
    const loaders = await foldLoaders(config, trainSet, valSet, seed);
    const skippedVal = new Set(loaders.val!.skipped.map((s) => s.index));
    let net: AudioModel | null = null;
    try {
      E.manualSeed(seed);
      net = createModel(model.name, model.config);
      let freeze: { headPrefix: string; epochs: number } | null = null;
      if (config.init) {
        const r = initFromCheckpoint(net, config.init, classes);
        reporter.message(
          `${label}: initialised from ${config.init.from} (${r.loaded} tensors${r.newHead ? `, new head "${r.headPrefix}"` : ''})`,
        );
        if (config.init.freezeEpochs > 0)
          freeze = { headPrefix: r.headPrefix, epochs: config.init.freezeEpochs };
      }
      if (config.train.device !== 'cpu') net.to(config.train.device);
      const result = await trainModel({
        model: net,
        makeCopy: () => {
          const m = createModel(model.name, model.config);
          if (config.train.device !== 'cpu') m.to(config.train.device);
          return m;
        },
        modelInfo: model,
        train: loaders.train!,
        val: loaders.val,
        valDataset: valSet,
        classes,
        multiLabel: dataset.multiLabel,
        epochs: config.train.epochs,
        optimizer: config.train.optimizer,
        schedule: config.train.schedule,
        loss: config.train.loss,
        clipGradNorm: config.train.clipGradNorm,
        ema: config.train.ema,
        metrics: metricNames,
        monitor,
        earlyStopping: config.train.earlyStopping,
        aggregate: config.train.aggregate,
        device: config.train.device,
        seed,
        dir,
        resume: true,
        checkpointInfo: {
          featureConfig: config.features,
          crop: config.crop,
          aggregate: config.train.aggregate,
          fold: split.fold,
        },
        freeze,
        label,
        reporter,
        onEpoch: (record) => {
          appendFileSync(
            join(out, 'log.jsonl'),
            `${JSON.stringify({ fold: split.fold, ...flatten(record) })}\n`,
          );
          opts.onEpoch?.(split.fold, record);
        },
      });
      if (skippedVal.size > 0)
        reporter.message(
          `${label}: ${skippedVal.size} validation clip(s) could not be loaded and are not scored`,
        );
      const report: FoldReport = {
        fold: split.fold,
        id: split.id,
        train: loaders.train!.size,
        val: loaders.val!.size,
        best_epoch: result.bestEpoch,
        epochs: result.history.length,
        stopped_early: result.stoppedEarly,
        seconds: result.history.reduce((a, h) => a + h.seconds, 0),
        metrics: result.best,
      };
      const groups = [...new Set(valSet.items.map((it) => it.group).filter((g): g is string => !!g))];
      if (groups.length > 0 && groups.length <= 10) report.val_groups = groups.sort();
      writeFileSync(join(dir, 'result.json'), `${JSON.stringify(report, null, 2)}\n`);
      // metrics.json and oof.csv after every fold, so a long run shows what it has so far.
      aggregateRun(out, data, config, classes);
      reporter.message(
        `${label}: best epoch ${result.bestEpoch}: ${Object.entries(result.best)
          .map(([n, v]) => `${n} ${v.toFixed(4)}`)
          .join(', ')}`,
      );
    } finally {
      net?.dispose();
      await loaders.train?.close();
      await loaders.val?.close();
    }
  }
  const summary = aggregateRun(out, data, config, classes);
  reporter.message(runSummaryText(summary));
  return summary;
}

function flatten(r: EpochRecord): Record<string, unknown> {
  const { metrics, ...rest } = r;
  return { ...rest, ...metrics };
}

/** `accuracy 0.9512 ± 0.0123 (5 folds)` lines. */
export function runSummaryText(m: RunMetrics): string {
  const lines = Object.entries(m.metrics).map(
    ([n, s]) =>
      `  ${n.padEnd(10)} ${s.mean.toFixed(4)} ± ${s.std.toFixed(4)}  [${s.per_fold.map((v) => v.toFixed(4)).join(', ')}]`,
  );
  const head = `${m.folds.length}/${m.planned} fold${m.planned === 1 ? '' : 's'} trained (${m.seconds.toFixed(0)} s of training):`;
  const oof = m.oof
    ? `\n  out-of-fold: ${Object.entries(m.oof)
        .map(([n, v]) => `${n} ${v.toFixed(4)}`)
        .join(', ')}`
    : '';
  return `${head}\n${lines.join('\n')}${oof}`;
}

/** Reads a run's resolved config.yaml back. */
export function readRunConfig(runDir: string): ResolvedConfig {
  const p = join(runDir, 'config.yaml');
  if (!existsSync(p)) throw new Error(`${runDir} is not a run directory (no config.yaml)`);
  return YAML.parse(readFileSync(p, 'utf8')) as ResolvedConfig;
}
