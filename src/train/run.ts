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
import { writeFileAtomic } from '../core/atomic-file.js';
import { mixSeed } from '../core/random.js';
import type { FoldSplit } from '../data/index.js';
import type { Dataset } from '../data/types.js';
import * as E from '../engine/index.js';
import { computeMetrics, defaultMetrics } from '../metrics/index.js';
import { createModel } from '../models/index.js';
import type { AudioModel } from '../models/types.js';
import { liveTrainingReport } from '../report/training.js';
import { configToYaml, type ResolvedConfig } from './config.js';
import type { PreparedData } from './data.js';
import { initFromCheckpoint } from './finetune.js';
import { openFoldLoaders, optimisationOptions, planTraining, splitSets, type TrainingPlan } from './plan.js';
import { truthOf } from './predict.js';
import { type Reporter, silentReporter } from './progress.js';
import {
  type EpochRecord,
  readScoresCsv,
  scoresCsv,
  type TrainOptions,
  type TrainResult,
  trainModel,
} from './trainer.js';

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
  /** Data-parallel training over a c10d process group (docs/distributed.md). */
  dist?: TrainOptions['dist'];
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

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

export function summarise(values: number[]): MetricSummary {
  const m = mean(values);
  return { mean: m, std: Math.sqrt(mean(values.map((v) => (v - m) ** 2))), per_fold: values };
}

/** Files a run writes at its top level (what --force removes, besides fold directories). */
const RUN_FILES = ['config.yaml', 'log.jsonl', 'metrics.json', 'oof.csv', 'report.html', 'charts'];

/** The run directory holds a run with another config that has trained something (the CLI says --force). */
export class RunExistsError extends Error {
  override name = 'RunExistsError';
  constructor(
    readonly dir: string,
    readonly configPath: string,
  ) {
    super(`${dir} already holds a run with a different config (${configPath})`);
  }
}

/** Whether a run directory holds anything trained: an epoch line in log.jsonl or a file in a fold folder. */
function hasProgress(out: string): boolean {
  const log = join(out, 'log.jsonl');
  if (existsSync(log) && readFileSync(log, 'utf8').trim() !== '') return true;
  return readdirSync(out).some((d) => /^fold\d+$/.test(d) && readdirSync(join(out, d)).length > 0);
}

// A directory whose run failed before its first epoch holds only config.yaml: it is replaced without
// `force`, so a corrected rerun into the same directory just works.
function prepareOut(out: string, yaml: string, force: boolean): void {
  const cfgPath = join(out, 'config.yaml');
  if (existsSync(cfgPath)) {
    const old = readFileSync(cfgPath, 'utf8');
    if (old === yaml) return;
    if (!force && hasProgress(out)) throw new RunExistsError(out, cfgPath);
    for (const f of RUN_FILES) rmSync(join(out, f), { force: true, recursive: true });
    for (const d of readdirSync(out))
      if (/^fold\d+$/.test(d)) rmSync(join(out, d), { recursive: true, force: true });
  }
  mkdirSync(out, { recursive: true });
  writeFileAtomic(cfgPath, yaml);
}

/** The finished folds' result.json files, and their oof.csv scores placed at their dataset rows. */
function readFoldResults(
  out: string,
  data: PreparedData,
  nClasses: number,
): { reports: FoldReport[]; scores: Float32Array; covered: Uint8Array } {
  const reports: FoldReport[] = [];
  const scores = new Float32Array(data.dataset.items.length * nClasses);
  const covered = new Uint8Array(data.dataset.items.length);
  for (const s of data.splits) {
    const dir = join(out, `fold${s.fold}`);
    const resultPath = join(dir, 'result.json');
    if (!existsSync(resultPath)) continue;
    reports.push(JSON.parse(readFileSync(resultPath, 'utf8')) as FoldReport);
    const oofPath = join(dir, 'oof.csv');
    if (!existsSync(oofPath)) continue;
    const sc = readScoresCsv(oofPath, nClasses);
    s.val.forEach((item, r) => {
      scores.set(sc.subarray(r * nClasses, (r + 1) * nClasses), item * nClasses);
      covered[item] = 1;
    });
  }
  return { reports, scores, covered };
}

/** Mean, std and per-fold values of every metric all the folds report. */
function summariseFolds(reports: readonly FoldReport[]): Record<string, MetricSummary> {
  const names = [...new Set(reports.flatMap((r) => Object.keys(r.metrics)))];
  const metrics: Record<string, MetricSummary> = {};
  for (const n of names) {
    const vals = reports.map((r) => r.metrics[n]).filter((v): v is number => v !== undefined);
    if (vals.length === reports.length) metrics[n] = summarise(vals);
  }
  return metrics;
}

/** Writes the run's oof.csv (the covered rows, in dataset order); its metrics once every fold is in. */
function writeOof(
  out: string,
  data: PreparedData,
  config: ResolvedConfig,
  classes: string[],
  oof: { scores: Float32Array; covered: Uint8Array },
  complete: boolean,
): Record<string, number> | null {
  const c = classes.length;
  const rows = Array.from(oof.covered.keys()).filter((i) => oof.covered[i] === 1);
  if (rows.length === 0) return null;
  const ids = rows.map((i) => data.dataset.items[i]!.id);
  const sc = new Float32Array(rows.length * c);
  rows.forEach((i, r) => {
    sc.set(oof.scores.subarray(i * c, (i + 1) * c), r * c);
  });
  writeFileSync(join(out, 'oof.csv'), scoresCsv(ids, classes, sc));
  if (!complete) return null;
  const metricNames = config.train.metrics ?? defaultMetrics(data.dataset.multiLabel);
  return computeMetrics(metricNames, sc, truthOf(data.dataset, rows));
}

/** Reads the finished folds' results and writes metrics.json and oof.csv. */
export function aggregateRun(
  out: string,
  data: PreparedData,
  config: ResolvedConfig,
  classes: string[],
): RunMetrics {
  const folds = readFoldResults(out, data, classes.length);
  const complete = folds.reports.length === data.splits.length;
  const result: RunMetrics = {
    task: data.dataset.multiLabel ? 'multi-label' : 'single-label',
    strategy: data.strategy,
    classes,
    planned: data.splits.length,
    complete,
    folds: folds.reports,
    metrics: summariseFolds(folds.reports),
    oof: writeOof(out, data, config, classes, folds, complete),
    seconds: folds.reports.reduce((a, r) => a + r.seconds, 0),
  };
  writeFileSync(join(out, 'metrics.json'), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

/** The fold indices to train: all, or those asked for (each must exist). */
function wantedFolds(plan: TrainingPlan, folds: number[] | undefined): number[] {
  const k = plan.data.splits.length;
  const wanted = folds ?? plan.data.splits.map((s) => s.fold);
  for (const f of wanted)
    if (!Number.isInteger(f) || f < 0 || f >= k)
      throw new RangeError(`folds: fold ${f} does not exist; this run has folds 0..${k - 1}`);
  return wanted;
}

function describeRun(plan: TrainingPlan): string {
  const { dataset, strategy, splits } = plan.data;
  const k = splits.length;
  return (
    `${dataset.items.length} clips, ${plan.classes.length} classes (${dataset.multiLabel ? 'multi-label' : 'single-label'}); ` +
    `folds: ${strategy}, ${k} fold${k === 1 ? '' : 's'}; model ${plan.model.name}`
  );
}

/** What one fold's training needs besides its plan. */
interface FoldContext {
  out: string;
  reporter: Reporter;
  onEpoch?: RunOptions['onEpoch'];
  dist?: RunOptions['dist'];
  /** The run's report.html, rewritten after every epoch (src/report/training.ts). */
  report?: { update(): void };
}

/** A fresh model for a fold (seeded by the fold), initialised from a checkpoint when configured. */
function buildFoldModel(
  plan: TrainingPlan,
  seed: number,
  label: string,
  reporter: Reporter,
): { net: AudioModel; freeze: TrainOptions['freeze'] } {
  const { config, model, classes } = plan;
  E.manualSeed(seed);
  const net = createModel(model.name, model.config);
  let freeze: TrainOptions['freeze'] = null;
  try {
    if (config.init) {
      const r = initFromCheckpoint(net, config.init, classes);
      reporter.message(
        `${label}: initialised from ${config.init.from} (${r.loaded} tensors${r.newHead ? `, new head "${r.headPrefix}"` : ''})`,
      );
      if (config.init.freezeEpochs > 0)
        freeze = { headPrefix: r.headPrefix, epochs: config.init.freezeEpochs };
    }
    if (config.train.device !== 'cpu') net.to(config.train.device);
  } catch (e) {
    net.dispose();
    throw e;
  }
  return { net, freeze };
}

/** The trainer's options for one fold, from the plan (everything but the model and the loaders). */
function foldTrainOptions(
  plan: TrainingPlan,
  split: FoldSplit,
  seed: number,
  ctx: FoldContext & { label: string; dir: string },
): Omit<TrainOptions, 'model' | 'train' | 'val' | 'valDataset' | 'freeze'> {
  const { config, model } = plan;
  const t = config.train;
  return {
    makeCopy: () => {
      const m = createModel(model.name, model.config);
      if (t.device !== 'cpu') m.to(t.device);
      return m;
    },
    modelInfo: model,
    classes: plan.classes,
    multiLabel: plan.data.dataset.multiLabel,
    ...optimisationOptions(t),
    metrics: plan.metrics,
    monitor: plan.monitor,
    seed,
    dir: ctx.dir,
    resume: true,
    checkpointInfo: {
      featureConfig: config.features,
      crop: config.crop,
      aggregate: t.aggregate,
      fold: split.fold,
    },
    label: ctx.label,
    reporter: ctx.reporter,
    dist: ctx.dist,
    onEpoch: (record) => {
      appendFileSync(
        join(ctx.out, 'log.jsonl'),
        `${JSON.stringify({ fold: split.fold, ...flatten(record) })}\n`,
      );
      ctx.report?.update();
      ctx.onEpoch?.(split.fold, record);
    },
  };
}

/** fold<i>/result.json: what the fold's metrics.json entry is made of. */
function foldReport(
  split: FoldSplit,
  sizes: { train: number; val: number },
  valSet: Dataset,
  result: TrainResult,
): FoldReport {
  const report: FoldReport = {
    fold: split.fold,
    id: split.id,
    train: sizes.train,
    val: sizes.val,
    best_epoch: result.bestEpoch,
    epochs: result.history.length,
    stopped_early: result.stoppedEarly,
    seconds: result.history.reduce((a, h) => a + h.seconds, 0),
    metrics: result.best,
  };
  const groups = [...new Set(valSet.items.map((it) => it.group).filter((g): g is string => !!g))];
  if (groups.length > 0 && groups.length <= 10) report.val_groups = groups.sort();
  return report;
}

/** Trains one fold into <out>/fold<i> (resuming it when interrupted; kept when finished). */
async function trainFold(plan: TrainingPlan, split: FoldSplit, ctx: FoldContext): Promise<void> {
  const k = plan.data.splits.length;
  const dir = join(ctx.out, `fold${split.fold}`);
  const label = k === 1 ? 'train' : `fold ${split.fold}/${k}`;
  const { reporter } = ctx;
  if (existsSync(join(dir, 'result.json'))) {
    reporter.message(`${label}: already trained (${join(dir, 'result.json')}), kept`);
    return;
  }
  const seed = mixSeed(plan.config.seed, split.fold);
  const sets = splitSets(plan, split);
  const loaders = await openFoldLoaders(plan.loaders, sets.train, sets.val, seed, (done, total) =>
    reporter.progress?.('features', done, total),
  );
  let net: AudioModel | null = null;
  try {
    const built = buildFoldModel(plan, seed, label, reporter);
    net = built.net;
    const result = await trainModel({
      ...foldTrainOptions(plan, split, seed, { ...ctx, label, dir }),
      model: net,
      freeze: built.freeze,
      train: loaders.train!,
      val: loaders.val,
      valDataset: sets.val,
    });
    const skippedVal = loaders.val!.skipped.length;
    if (skippedVal > 0)
      reporter.message(`${label}: ${skippedVal} validation clip(s) could not be loaded and are not scored`);
    const report = foldReport(
      split,
      { train: loaders.train!.size, val: loaders.val!.size },
      sets.val,
      result,
    );
    writeFileSync(join(dir, 'result.json'), `${JSON.stringify(report, null, 2)}\n`);
    // metrics.json and oof.csv after every fold, so a long run shows what it has so far.
    aggregateRun(ctx.out, plan.data, plan.config, plan.classes);
    ctx.report?.update();
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

/** Trains the run; see the file comment. */
export async function runTraining(opts: RunOptions): Promise<RunMetrics> {
  const out = resolve(opts.out);
  const reporter = opts.reporter ?? silentReporter;
  if (opts.config.train.threads) E.setNumThreads(opts.config.train.threads);
  const plan = await planTraining(opts.config);
  for (const w of plan.data.warnings) reporter.message(`warning: ${w}`);
  const wanted = wantedFolds(plan, opts.folds);
  prepareOut(out, configToYaml(plan.resolvedConfig), opts.force ?? false);
  reporter.message(describeRun(plan));
  // The report is written by rank 0 alone in data-parallel runs.
  const report = opts.dist && opts.dist.rank !== 0 ? undefined : liveTrainingReport(out, reportInfo(plan));
  try {
    for (const split of plan.data.splits)
      if (wanted.includes(split.fold))
        await trainFold(plan, split, { out, reporter, onEpoch: opts.onEpoch, dist: opts.dist, report });
  } finally {
    await report?.flush();
  }
  const summary = aggregateRun(out, plan.data, plan.config, plan.classes);
  if (report) {
    report.update();
    await report.flush();
  }
  reporter.message(runSummaryText(summary));
  return summary;
}

/** What the run's report.html needs of the dataset: classes, true labels and audio files by clip. */
function reportInfo(plan: TrainingPlan): Parameters<typeof liveTrainingReport>[1] {
  const { dataset } = plan.data;
  const index = new Map(dataset.classes.map((c, j) => [c, j]));
  return {
    classes: plan.classes,
    multiLabel: dataset.multiLabel,
    labelsById: new Map(
      dataset.items.map((it) => [
        it.id,
        it.labels.map((l) => index.get(l)).filter((j): j is number => j !== undefined),
      ]),
    ),
    pathById: new Map(dataset.items.map((it) => [it.id, it.path])),
  };
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
