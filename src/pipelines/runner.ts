// The stage runner behind every `audiotag pipeline` recipe. A recipe is a list of stages; each stage
// trains one model per fold (k-fold over the curated set, and the noisy set split into the same k folds)
// into <out>/<stage>/fold<f>/ with the trainer (best/, last/, resume), then scores the noisy clips of
// fold f — which that fold's models never trained on — per clip (label-ranking precision, "lwlrap per
// clip") and the held-out test set. A fold is finished when its done.json exists; running the same
// command again skips finished folds, and the trainer resumes an interrupted one from its last epoch, so
// a crashed pipeline continues at the stage and fold it stopped in with the same result.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { extname, join, relative, resolve } from 'node:path';
import { MixWithNoisy } from '../augment/mixing.js';
import { writeFileAtomic } from '../core/atomic-file.js';
import { mixSeed, Random } from '../core/random.js';
import { parseCsv } from '../data/csv.js';
import {
  AUDIO_EXTENSIONS,
  type Dataset,
  type Item,
  labelIndexLists,
  loadManifest,
  makeFolds,
  subset,
  withClasses,
} from '../data/index.js';
import type { Batch, BatchSource, Loader } from '../data/loader.js';
import * as E from '../engine/index.js';
import { computeMetrics } from '../metrics/index.js';
import { createModel } from '../models/index.js';
import type { AudioModel } from '../models/types.js';
import { loadSafetensors } from '../nn/safetensors.js';
import { applyLabelOptions, clipLrap, type LabelOptions, type Selection } from '../noisy/labels.js';
import { csvField } from '../noisy/manifest.js';
import { configToYaml, type ResolvedConfig } from '../train/config.js';
import { filterDataset, manifestSpec } from '../train/data.js';
import { initFromCheckpoint } from '../train/finetune.js';
import { createLoss } from '../train/loss.js';
import { type LoaderPlans, openFoldLoaders, planLoaders, resolveRunModel } from '../train/plan.js';
import { predictClips } from '../train/predict.js';
import { type Reporter, silentReporter } from '../train/progress.js';
import { type MetricSummary, summarise } from '../train/run.js';
import { type EpochRecord, readScoresCsv, scoresCsv, trainModel } from '../train/trainer.js';
import { type ManifestRef, type PipelineConfig, stageTrainConfig } from './config.js';

/** The data every stage draws from: one class list, one task type, the folds of both sets. */
export interface PipelineData {
  classes: string[];
  multiLabel: boolean;
  curated: Dataset;
  noisy: Dataset | null;
  test: Dataset | null;
  /** Fold (0..k-1) of each curated / noisy item. */
  curatedFolds: Int32Array;
  noisyFolds: Int32Array;
  k: number;
  warnings: string[];
}

/** What a stage trains on in fold f, how it starts, and what it scores. */
export interface StageSpec {
  name: string;
  /** The training items of fold f (curated items of the other folds, noisy ones, pseudo-labelled ones...). */
  trainSet(f: number): Dataset;
  /** A stage whose fold-f best checkpoint initialises this stage's fold-f model; null: from scratch. */
  initFrom: string | null;
  /** Mix curated batches with noisy ones (the pipeline's mixNoisy) in this stage. */
  mixNoisy?: boolean;
  /** Another model than the train config's (distillation students). */
  model?: { name: string; config: Record<string, unknown> };
  /** Teacher targets of the training items (distillation); the stage config's labels section adds soft
   * labels and weights. */
  distill?: LabelOptions['distill'];
}

export interface FoldDone {
  fold: number;
  train: number;
  epochs: number;
  seconds: number;
  /** Test metrics of this fold's model (null without a test set). */
  test: Record<string, number> | null;
}

export interface StageSummary {
  stage: string;
  folds: FoldDone[];
  test: Record<string, MetricSummary> | null;
}

export interface RunnerOptions {
  config: PipelineConfig;
  out: string;
  reporter?: Reporter;
  /** After every epoch (tests throw here to simulate a crash). */
  onEpoch?: (stage: string, fold: number, record: EpochRecord) => void;
}

function readRef(
  base: ResolvedConfig,
  ref: ManifestRef,
): Promise<{ dataset: Dataset; warnings: { message: string }[] }> {
  const r = typeof ref === 'string' ? { manifest: ref } : ref;
  const data = {
    ...base.data,
    manifest: r.manifest,
    format: r.format,
    audioDir: r.audioDir,
    csv: r.csv as ResolvedConfig['data']['csv'],
  };
  return loadManifest(manifestSpec(data, r.manifest, r.audioDir));
}

/** Items re-encoded for `classes`: labels outside them dropped, items left without labels dropped. */
function onto(d: Dataset, classes: string[], set: string, warnings: string[], what: string): Dataset {
  const re = withClasses(d, classes, true);
  const items = re.items
    .filter((it) => it.labels.length > 0)
    .map((it): Item => ({ ...it, meta: { ...it.meta, set } }));
  if (items.length < re.items.length)
    warnings.push(
      `${what}: ${re.items.length - items.length} clip(s) have no label among the curated classes and are left out`,
    );
  return { ...re, items };
}

/** Loads the curated, noisy and test sets and splits curated and noisy into k folds. */
export async function loadPipelineData(p: PipelineConfig, base: ResolvedConfig): Promise<PipelineData> {
  const warnings: string[] = [];
  const c = await loadManifest(manifestSpec(base.data));
  const curated0 = filterDataset(c.dataset, base.data.filter, base.data.classes !== undefined);
  const classes = curated0.classes;
  const curated = onto(curated0, classes, 'curated', warnings, 'curated');
  const noisy = p.noisy
    ? onto((await readRef(base, p.noisy)).dataset, classes, 'noisy', warnings, 'noisy')
    : null;
  const test = p.test ? onto((await readRef(base, p.test)).dataset, classes, 'test', warnings, 'test') : null;
  const multiLabel = curated.multiLabel || !!noisy?.multiLabel || !!test?.multiLabel;
  const seed = p.seed ?? base.seed;
  const folds = (d: Dataset) =>
    makeFolds(d, { k: p.folds, seed, strategy: d.multiLabel ? 'iterative' : 'stratified' }).assignment;
  const curatedPaths = new Set(curated.items.map((it) => resolve(it.path)));
  if (test) {
    const both = test.items.filter(
      (it) => curatedPaths.has(resolve(it.path)) || noisy?.items.some((n) => n.path === it.path),
    );
    if (both.length > 0)
      throw new Error(
        `test: ${both.length} test clip(s) are also in the training sets (first: ${both[0]!.id}); the test set must be held out`,
      );
  }
  const set = (d: Dataset | null) => (d ? { ...d, multiLabel } : null);
  return {
    classes,
    multiLabel,
    curated: set(curated)!,
    noisy: set(noisy),
    test: set(test),
    curatedFolds: folds(curated),
    noisyFolds: noisy ? folds(noisy) : new Int32Array(0),
    k: p.folds,
    warnings,
  };
}

/** Epochs of a stage: the config's, or more when that gives fewer than `minSteps` optimiser steps. */
export function stageEpochs(
  epochs: number,
  minSteps: number | null,
  items: number,
  loader: { batchSize: number; dropLast: boolean },
): number {
  if (!minSteps) return epochs;
  const bs = loader.batchSize;
  const perEpoch = Math.max(
    1,
    loader.dropLast && items > bs ? Math.floor(items / bs) : Math.ceil(items / bs),
  );
  return Math.max(epochs, Math.ceil(minSteps / perEpoch));
}

/** Indices of the items in (or out of) fold f. */
export function foldIndices(folds: Int32Array, f: number, inFold: boolean): number[] {
  const out: number[] = [];
  folds.forEach((g, i) => {
    if ((g === f) === inFold) out.push(i);
  });
  return out;
}

/** Datasets of the same classes, concatenated. */
export function concat(classes: string[], multiLabel: boolean, ...parts: Dataset[]): Dataset {
  return { items: parts.flatMap((d) => d.items), classes, multiLabel };
}

/** MixWithNoisy over a training loader: every curated batch is mixed with the next batch of a noisy loader. */
export function mixWithNoisySource(
  curated: BatchSource,
  noisy: BatchSource,
  options: { p: number; alpha: number; weight?: number },
  seed: number,
): BatchSource {
  const mix = new MixWithNoisy(options);
  return {
    size: curated.size,
    batchesPerEpoch: curated.batchesPerEpoch,
    async *epoch(index: number): AsyncIterable<Batch> {
      const rng = new Random(mixSeed(seed, 0x4d49, index));
      let n = 0;
      let it = noisy.epoch(mixSeed(index, n))[Symbol.asyncIterator]();
      for await (const b of curated.epoch(index)) {
        let next = await it.next();
        if (next.done) {
          it = noisy.epoch(mixSeed(index, ++n))[Symbol.asyncIterator]();
          next = await it.next();
        }
        const nb = next.value as Batch;
        const r = mix.apply(b.inputs, b.targets, rng, { noisy: { batch: nb.inputs, targets: nb.targets } });
        yield { ...b, inputs: r.batch, targets: r.targets };
      }
    },
    close: async () => {
      await curated.close();
      await noisy.close();
    },
  };
}

/** Runs the stages of a recipe; see the file comment. */
export class PipelineRunner {
  readonly out: string;
  private readonly reporter: Reporter;
  private readonly plans = new Map<string, LoaderPlans>();

  constructor(
    readonly opts: RunnerOptions,
    readonly data: PipelineData,
  ) {
    this.out = resolve(opts.out);
    this.reporter = opts.reporter ?? silentReporter;
  }

  stageDir(stage: string): string {
    return join(this.out, stage);
  }

  private async loaders(stage: string, cfg: ResolvedConfig): Promise<LoaderPlans> {
    let p = this.plans.get(stage);
    if (!p) {
      p = await planLoaders(cfg);
      this.plans.set(stage, p);
    }
    return p;
  }

  /** Trains (or resumes, or keeps) every fold of a stage, then writes its merged noisy scores and summary. */
  async runStage(spec: StageSpec, index: number): Promise<StageSummary> {
    const cfg0 = stageTrainConfig(this.opts.config, spec.name);
    const cfg: ResolvedConfig = spec.model ? { ...cfg0, model: spec.model } : cfg0;
    const dir = this.stageDir(spec.name);
    mkdirSync(dir, { recursive: true });
    const folds: FoldDone[] = [];
    for (let f = 0; f < this.data.k; f++) folds.push(await this.runFold(spec, index, cfg, f));
    this.mergeNoisyScores(spec.name);
    const summary: StageSummary = {
      stage: spec.name,
      folds,
      test: folds.every((d) => d.test)
        ? Object.fromEntries(
            Object.keys(folds[0]!.test!).map((m) => [m, summarise(folds.map((d) => d.test![m]!))]),
          )
        : null,
    };
    writeFileSync(join(dir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    if (summary.test)
      this.reporter.message(
        `${spec.name}: test ${Object.entries(summary.test)
          .map(([m, s]) => `${m} ${s.mean.toFixed(4)} ± ${s.std.toFixed(4)}`)
          .join(', ')}`,
      );
    return summary;
  }

  private async runFold(spec: StageSpec, index: number, cfg: ResolvedConfig, f: number): Promise<FoldDone> {
    const { data, reporter } = this;
    const dir = join(this.stageDir(spec.name), `fold${f}`);
    const label = `${spec.name} fold ${f}/${data.k}`;
    const donePath = join(dir, 'done.json');
    if (existsSync(donePath)) {
      reporter.message(`${label}: finished (${donePath}), kept`);
      return JSON.parse(readFileSync(donePath, 'utf8')) as FoldDone;
    }
    mkdirSync(dir, { recursive: true });
    let train = spec.trainSet(f);
    const lo = cfg.labels;
    if (lo.cooccurrence || lo.weights || spec.distill)
      train = applyLabelOptions(
        train,
        { cooccurrence: lo.cooccurrence, weights: lo.weights, distill: spec.distill ?? null },
        createLoss(cfg.train.loss, data.multiLabel).activation,
      );
    const val = subset(data.curated, foldIndices(data.curatedFolds, f, true));
    const plans = await this.loaders(spec.name, cfg);
    const seed = mixSeed(cfg.seed, index, f);
    const model = resolveRunModel(cfg, data.classes);
    const t = cfg.train;
    const epochs = stageEpochs(t.epochs, this.opts.config.minSteps, train.items.length, cfg.loader);
    const loss = createLoss(t.loss, data.multiLabel);
    const metrics = t.metrics ?? ['lwlrap'];
    const loaders = await openFoldLoaders(plans, train, val, seed);
    let source: BatchSource = loaders.train!;
    let noisyLoader: Loader | null = null;
    let net: AudioModel | null = null;
    const t0 = performance.now();
    try {
      const mixCfg = this.opts.config.mixNoisy;
      if (spec.mixNoisy && mixCfg && data.noisy) {
        const noisySet = subset(data.noisy, foldIndices(data.noisyFolds, f, false));
        noisyLoader = (await openFoldLoaders(plans, noisySet, null, mixSeed(seed, 7))).train;
        source = mixWithNoisySource(loaders.train!, noisyLoader!, mixCfg, seed);
      }
      E.manualSeed(seed);
      net = createModel(model.name, model.config);
      if (spec.initFrom) {
        const from = join(this.stageDir(spec.initFrom), `fold${f}`, 'best');
        const r = initFromCheckpoint(net, { from, newHead: 'never' }, data.classes);
        reporter.message(`${label}: starts from ${relative(process.cwd(), from)} (${r.loaded} tensors)`);
      }
      await trainModel({
        model: net,
        makeCopy: () => createModel(model.name, model.config),
        modelInfo: model,
        train: source,
        val: loaders.val,
        valDataset: val,
        classes: data.classes,
        multiLabel: data.multiLabel,
        epochs,
        optimizer: t.optimizer,
        schedule: t.schedule,
        loss: t.loss,
        clipGradNorm: t.clipGradNorm,
        ema: t.ema,
        metrics,
        monitor: t.monitor ?? metrics[0]!,
        earlyStopping: t.earlyStopping,
        aggregate: t.aggregate,
        device: t.device,
        seed,
        dir,
        resume: true,
        checkpointInfo: {
          featureConfig: cfg.features,
          crop: cfg.crop,
          aggregate: t.aggregate,
          fold: f,
          stage: spec.name,
        },
        label,
        reporter,
        onEpoch: (record) => this.opts.onEpoch?.(spec.name, f, record),
      });
      // Score with the stage's chosen checkpoint (best/: the last epoch with monitor: last).
      const { tensors } = loadSafetensors(join(dir, 'best', 'model.safetensors'));
      try {
        net.loadStateDict(tensors);
      } finally {
        E.dispose(tensors);
      }
      if (data.noisy) {
        const idx = foldIndices(data.noisyFolds, f, true);
        const set = subset(data.noisy, idx);
        const probs = await this.predict(net, plans, set, seed, loss.activation, t.aggregate);
        const lists = labelIndexLists(set);
        const c = data.classes.length;
        const rows = set.items.map((it, r) => {
          const lrap = clipLrap(probs.subarray(r * c, (r + 1) * c), lists[r]!);
          return [it.id, String(f), it.labels.join(','), lrap.toFixed(6)];
        });
        writeFileSync(join(dir, 'noisy-scores.csv'), scoreTable(rows, data.classes, probs));
      }
      let test: Record<string, number> | null = null;
      if (data.test) {
        const probs = await this.predict(net, plans, data.test, seed, loss.activation, t.aggregate);
        writeFileSync(
          join(dir, 'test-probs.csv'),
          scoresCsv(
            data.test.items.map((it) => it.id),
            data.classes,
            probs,
          ),
        );
        test = testMetrics(probs, data.test, data.classes);
      }
      const done: FoldDone = {
        fold: f,
        train: train.items.length,
        epochs,
        seconds: (performance.now() - t0) / 1000,
        test,
      };
      writeFileAtomic(donePath, `${JSON.stringify(done, null, 2)}\n`);
      reporter.message(
        `${label}: done${
          test
            ? `, test ${Object.entries(test)
                .map(([m, v]) => `${m} ${v.toFixed(4)}`)
                .join(', ')}`
            : ''
        }`,
      );
      return done;
    } finally {
      net?.dispose();
      await source.close();
      if (source === loaders.train) await noisyLoader?.close();
      await loaders.val?.close();
    }
  }

  private async predict(
    net: AudioModel,
    plans: LoaderPlans,
    set: Dataset,
    seed: number,
    activation: 'softmax' | 'sigmoid',
    aggregate: 'mean' | 'max',
  ): Promise<Float32Array> {
    const { val } = await openFoldLoaders(plans, null, set, seed);
    try {
      const p = await predictClips(net, val!, set.items.length, this.data.classes.length, {
        activation,
        aggregate,
      });
      return p.scores;
    } finally {
      await val!.close();
    }
  }

  /** <stage>/noisy-scores.csv: every noisy clip's out-of-fold score and probabilities, in manifest order. */
  private mergeNoisyScores(stage: string): void {
    const { data } = this;
    if (!data.noisy) return;
    const byId = new Map<string, string>();
    let header = '';
    for (let f = 0; f < data.k; f++) {
      const p = join(this.stageDir(stage), `fold${f}`, 'noisy-scores.csv');
      if (!existsSync(p)) return;
      const lines = readFileSync(p, 'utf8').trimEnd().split('\n');
      header = lines[0]!;
      const table = readScoreTable(p, data.classes.length);
      table.ids.forEach((id, r) => {
        byId.set(id, lines[r + 1]!);
      });
    }
    const lines = [header, ...data.noisy.items.map((it) => byId.get(it.id)).filter((l): l is string => !!l)];
    writeFileSync(join(this.stageDir(stage), 'noisy-scores.csv'), `${lines.join('\n')}\n`);
  }

  /** Per-clip scores (lwlrap of the clip) of a finished stage, by noisy clip id. */
  noisyScores(stage: string): Map<string, number> {
    const t = readScoreTable(join(this.stageDir(stage), 'noisy-scores.csv'), this.data.classes.length);
    return new Map(t.ids.map((id, i) => [id, t.lrap[i]!]));
  }

  /** Noisy probabilities of finished stages, averaged, by clip id. */
  noisyProbs(stages: readonly string[]): Map<string, Float32Array> {
    return averageProbs(
      stages.map((s) => join(this.stageDir(s), 'noisy-scores.csv')),
      this.data.classes.length,
    );
  }

  /** Writes a stage's selection list (every noisy clip, kept or not, with the reason). */
  writeSelection(stage: string, selection: readonly Selection[]): void {
    const { data } = this;
    const noisy = new Map(data.noisy!.items.map((it) => [it.id, it]));
    const lines = ['fname,fold,labels,true_labels,score,kept,reason'];
    for (const s of selection) {
      const it = noisy.get(s.id)!;
      lines.push(
        [
          s.id,
          String(s.fold),
          it.labels.join(','),
          it.meta.true_labels ?? '',
          s.score.toFixed(6),
          s.kept ? '1' : '0',
          s.reason,
        ]
          .map(csvField)
          .join(','),
      );
    }
    mkdirSync(this.stageDir(stage), { recursive: true });
    writeFileSync(join(this.stageDir(stage), 'selection.csv'), `${lines.join('\n')}\n`);
  }
}

/** fname,fold,labels,lwlrap,<class probabilities...>. */
function scoreTable(rows: string[][], classes: readonly string[], probs: Float32Array): string {
  const c = classes.length;
  const lines = [['fname', 'fold', 'labels', 'lwlrap', ...classes].map(csvField).join(',')];
  rows.forEach((r, i) => {
    const ps = Array.from(probs.subarray(i * c, (i + 1) * c), (v) => String(Number(v.toPrecision(6))));
    lines.push([...r.map(csvField), ...ps].join(','));
  });
  return `${lines.join('\n')}\n`;
}

export function readScoreTable(
  path: string,
  classes: number,
): { ids: string[]; lrap: number[]; probs: Float32Array } {
  const text = readFileSync(path, 'utf8');
  const ids: string[] = [];
  const lrap: number[] = [];
  // The ids and lwlrap column via the CSV parser; the probabilities through readScoresCsv (last columns).
  for (const { fields } of parseCsv(text, path).rows) {
    ids.push(fields[0]!);
    lrap.push(Number(fields[3]));
  }
  return { ids, lrap, probs: readScoresCsv(path, classes) };
}

/** Probabilities of several score tables (same clips) averaged, by clip id. */
export function averageProbs(paths: readonly string[], classes: number): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const p of paths) {
    const t = readScoreTable(p, classes);
    t.ids.forEach((id, i) => {
      const row = t.probs.subarray(i * classes, (i + 1) * classes);
      const acc = out.get(id) ?? new Float32Array(classes);
      for (let j = 0; j < classes; j++) acc[j]! += row[j]! / paths.length;
      out.set(id, acc);
    });
  }
  return out;
}

/** lwlrap (and accuracy when every clip has one label) of test probabilities. */
export function testMetrics(
  probs: Float32Array,
  test: Dataset,
  classes: readonly string[],
): Record<string, number> {
  const c = classes.length;
  const truth = new Float32Array(test.items.length * c);
  labelIndexLists(test).forEach((ls, i) => {
    for (const j of ls) truth[i * c + j] = 1;
  });
  const names = test.items.every((it) => it.labels.length === 1) ? ['lwlrap', 'accuracy'] : ['lwlrap'];
  return computeMetrics(names, probs, { data: truth, shape: [test.items.length, c] });
}

/** The audio files of a folder (recursively), as unlabelled items. */
export function listUnlabelled(folder: string): Item[] {
  const exts = new Set(AUDIO_EXTENSIONS.map((e) => (e.startsWith('.') ? e : `.${e}`).toLowerCase()));
  const out: Item[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (exts.has(extname(e.name).toLowerCase()))
        out.push({
          path: p,
          id: relative(folder, p).split('\\').join('/'),
          labels: [],
          meta: { set: 'unlabelled' },
        });
    }
  };
  walk(folder);
  return out;
}

/** Records the resolved config; a different config in a directory with progress is refused unless `force`. */
export function prepareOut(out: string, record: unknown, force: boolean): void {
  const yaml = configToYaml(record);
  const p = join(out, 'pipeline.yaml');
  if (existsSync(p) && readFileSync(p, 'utf8') !== yaml) {
    if (!force) throw new PipelineExistsError(out);
    for (const d of readdirSync(out)) rmSync(join(out, d), { recursive: true, force: true });
  }
  mkdirSync(out, { recursive: true });
  writeFileAtomic(p, yaml);
}

export class PipelineExistsError extends Error {
  override name = 'PipelineExistsError';
  constructor(readonly dir: string) {
    super(`${dir} already holds a pipeline with a different config (pipeline.yaml)`);
  }
}
