// The training loop of one model on one train/validation split: epochs of optimiser steps (each inside
// an engine scope, so memory stays flat), the schedule, gradient clipping, weight EMA, validation with
// clip-level metrics, best/last checkpoints, early stopping, NaN/Inf detection, and resume from the
// last checkpoint with the same result as an uninterrupted run.
//
// Why a resumed run repeats an uninterrupted one exactly: everything random is re-derived from
// (seed, epoch) at the start of each epoch (the engine generator for dropout; the loader's order,
// crops and augmentation), and the last checkpoint holds every piece of state that carries over
// between epochs (weights, EMA weights, optimiser moments, schedule, early-stopping counters).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../core/atomic-file.js';
import { mixSeed, STREAM } from '../core/random.js';
import { parseCsv } from '../data/csv.js';
import type { Batch, BatchSource } from '../data/loader.js';
import type { Dataset } from '../data/types.js';
import { type ProcessGroup, shardRange } from '../distributed/index.js';
import * as E from '../engine/index.js';
import { Adam, AdamW, clipGradNorm, type Optimizer, SGD } from '../engine/optim.js';
import { computeMetrics } from '../metrics/index.js';
import type { AudioModel } from '../models/types.js';
import { saveCheckpoint } from '../nn/checkpoint.js';
import { BatchNorm1d, BatchNorm2d } from '../nn/norm.js';
import { loadSafetensors, saveSafetensors } from '../nn/safetensors.js';
import type { TrainConfig } from './config.js';
import { ModelEma } from './ema.js';
import { createLoss, type TrainLoss } from './loss.js';
import { predictClips, selectRows, truthOf } from './predict.js';
import { type Reporter, silentReporter } from './progress.js';
import { createSchedule, type LrSchedule, type PlateauState } from './schedules.js';

export type OptimizerConfig = TrainConfig['train']['optimizer'];

/** The loss became NaN or ±Inf: names the batch (and the rows whose inputs were not finite). */
export class NonFiniteLossError extends Error {
  override name = 'NonFiniteLossError';
  constructor(
    readonly value: number,
    readonly epoch: number,
    readonly step: number,
    readonly ids: string[],
    readonly badInputs: string[],
    label: string,
  ) {
    const shown = (xs: string[]) =>
      xs.length > 20 ? `${xs.slice(0, 20).join(', ')}, ... ${xs.length - 20} more` : xs.join(', ');
    super(
      `${label}: the loss is ${value} at epoch ${epoch}, step ${step}; ` +
        (badInputs.length > 0
          ? `these clips gave non-finite inputs: ${shown(badInputs)} (batch: ${shown(ids)})`
          : `the batch held: ${shown(ids)}; the inputs were finite, so lower train.optimizer.lr or set train.clipGradNorm`),
    );
  }
}

export interface EpochRecord {
  epoch: number;
  lr: number;
  train_loss: number;
  val_loss?: number;
  /** Validation metrics by name. */
  metrics: Record<string, number>;
  improved: boolean;
  seconds: number;
}

export interface TrainState {
  epochsDone: number;
  step: number;
  bestValue: number | null;
  bestEpoch: number;
  badEpochs: number;
  schedule: PlateauState | null;
  emaUpdates: number;
  history: EpochRecord[];
  finished: boolean;
  stoppedEarly: boolean;
}

export interface TrainOptions {
  /** Freshly initialised (or fine-tuning-initialised) model, on `device`. */
  model: AudioModel;
  /** A second model of the same architecture, for the EMA copy (needed when `ema` is set). */
  makeCopy?: () => AudioModel;
  /** Registry name and resolved config, written into checkpoints so loadModel can rebuild the model. */
  modelInfo: { name: string; config: unknown };
  train: BatchSource;
  val?: BatchSource | null;
  /** The validation items, in the val source's clipIndex order (truth and ids for metrics and OOF). */
  valDataset?: Dataset | null;
  classes: string[];
  multiLabel: boolean;
  epochs: number;
  optimizer: OptimizerConfig;
  schedule: TrainConfig['train']['schedule'];
  loss: TrainConfig['train']['loss'];
  clipGradNorm?: number | null;
  /** 'channels-last' (the default): conv weights and 4-D batches in NHWC layout (docs/engine.md, Speed). */
  memoryFormat?: 'contiguous' | 'channels-last';
  /** 3×3 convolutions: 'winograd' (the default) or 'direct' (E.setConvAlgorithm; process-wide). */
  convAlgorithm?: E.ConvAlgorithm;
  /** 'bf16': the training forward under bfloat16 autocast; loss, weights and optimiser stay float32. */
  precision?: 'fp32' | 'bf16';
  ema?: { decay: number; warmup: boolean } | null;
  metrics: string[];
  /** Metric that picks the best epoch ('val_loss' minimises); 'last': the last epoch is the best. */
  monitor: string;
  earlyStopping?: { patience: number; minDelta: number } | null;
  aggregate?: 'mean' | 'max';
  device?: string;
  /** Seeds the engine generator per epoch (dropout and any engine randomness). */
  seed: number;
  /** Fold directory: best/, last/, oof.csv, result.json. Nothing is written without it. */
  dir?: string;
  /** Continue from dir/last when it holds an unfinished run. */
  resume?: boolean;
  /** Extra keys for the checkpoints' config.json (feature config, crop...). */
  checkpointInfo?: Record<string, unknown>;
  /** Parameters outside this prefix are frozen for the first `epochs` epochs (fine-tuning a new head). */
  freeze?: { headPrefix: string; epochs: number } | null;
  label?: string;
  reporter?: Reporter;
  /** After each epoch's checkpoint (the log writer; tests throw here to simulate a crash). */
  onEpoch?: (record: EpochRecord) => void;
  /** Data-parallel training (docs/distributed.md): each rank trains on its shard of every batch and the
   * gradients are averaged over the ranks before the optimiser step; rank 0's weights start everyone. */
  dist?: ProcessGroup | null;
}

export interface TrainResult {
  bestEpoch: number;
  /** Validation metrics (and val_loss) of the best epoch. */
  best: Record<string, number>;
  history: EpochRecord[];
  /** The best epoch's clip probabilities on the validation set [clips, classes] (null without one). */
  valScores: Float32Array | null;
  stoppedEarly: boolean;
  seconds: number;
}

export function createOptimizer(params: E.Tensor[], o: OptimizerConfig): Optimizer {
  switch (o.name) {
    case 'sgd':
      return new SGD(params, {
        lr: o.lr,
        momentum: o.momentum,
        nesterov: o.nesterov,
        weightDecay: o.weightDecay ?? 0,
      });
    case 'adam':
      return new Adam(params, { lr: o.lr, betas: o.betas, eps: o.eps, weightDecay: o.weightDecay ?? 0 });
    case 'adamw':
      return new AdamW(params, { lr: o.lr, betas: o.betas, eps: o.eps, weightDecay: o.weightDecay ?? 0.01 });
  }
}

/** Names of rows whose inputs hold NaN or ±Inf. */
function nonFiniteRows(data: Float32Array, rows: number, ids: string[]): string[] {
  const per = data.length / Math.max(1, rows);
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    for (let j = r * per; j < (r + 1) * per; j++)
      if (!Number.isFinite(data[j]!)) {
        out.push(ids[r]!);
        break;
      }
  }
  return out;
}

/** CSV of clip scores: fname then one column per class (the oof.csv / predictions.csv format). */
export function scoresCsv(ids: readonly string[], classes: readonly string[], scores: Float32Array): string {
  const q = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = [['fname', ...classes].map(q).join(',')];
  const c = classes.length;
  ids.forEach((id, i) => {
    const row = [q(id)];
    for (let j = 0; j < c; j++) row.push(String(Number(scores[i * c + j]!.toPrecision(6))));
    lines.push(row.join(','));
  });
  return `${lines.join('\n')}\n`;
}

export function lowerIsBetter(metric: string): boolean {
  return /loss/i.test(metric);
}

function freshState(): TrainState {
  return {
    epochsDone: 0,
    step: 0,
    bestValue: null,
    bestEpoch: 0,
    badEpochs: 0,
    schedule: null,
    emaUpdates: 0,
    history: [],
    finished: false,
    stoppedEarly: false,
  };
}

/** A record's validation metrics with val_loss among them. */
function metricsOf(r: EpochRecord): Record<string, number> {
  return { ...r.metrics, ...(r.val_loss !== undefined ? { val_loss: r.val_loss } : {}) };
}

/** Validation of one epoch: the metrics and, for the best epoch's oof.csv, the clip scores. */
interface Validation {
  metrics: Record<string, number>;
  valLoss?: number;
  scores: Float32Array | null;
}

/**
 * One model on one split, epoch by epoch. Each step of an epoch is a method: restore (resume), trainEpoch
 * (optimiser steps; trainStep is one of them), validate, chooseBest, advance (schedule, early stopping),
 * save (checkpoints, then the state file) and report.
 */
class FoldTrainer {
  readonly label: string;
  private readonly reporter: Reporter;
  private readonly device: string;
  private readonly tensorOpts: { device: string } | undefined;
  private readonly model: AudioModel;
  private readonly loss: TrainLoss;
  private readonly opt: Optimizer;
  private readonly schedule: LrSchedule;
  private readonly ema: ModelEma | null;
  private readonly minimise: boolean;
  private readonly hasVal: boolean;
  private readonly valIds: string[];
  /** Fold directory layout; null: nothing is written. */
  private readonly dirs: { dir: string; last: string; best: string } | null;
  /** Conv weights and 4-D batches in NHWC layout (TrainOptions.memoryFormat, channels-last by default). */
  private readonly channelsLast: boolean;
  private st: TrainState = freshState();
  private bestScores: Float32Array | null = null;

  constructor(private readonly o: TrainOptions) {
    this.label = o.label ?? 'train';
    this.reporter = o.reporter ?? silentReporter;
    this.device = o.device ?? 'cpu';
    this.tensorOpts = this.device === 'cpu' ? undefined : { device: this.device };
    this.model = o.model;
    this.loss = createLoss(o.loss, o.multiLabel);
    this.minimise = lowerIsBetter(o.monitor === 'last' ? (o.metrics[0] ?? 'val_loss') : o.monitor);
    this.schedule = createSchedule(o.schedule, {
      baseLr: o.optimizer.lr,
      stepsPerEpoch: o.train.batchesPerEpoch,
      epochs: o.epochs,
      mode: this.minimise ? 'min' : 'max',
    });
    if (o.ema && !o.makeCopy) throw new Error(`${this.label}: train.ema needs a second model (makeCopy)`);
    // Before the optimiser exists, so its state takes the parameters' layout.
    const cl = (o.memoryFormat ?? 'channels-last') === 'channels-last';
    this.channelsLast = cl;
    E.setConvAlgorithm(o.convAlgorithm ?? 'winograd');
    if (cl) E.setMemoryFormat_(this.model.parameters(), 'channels-last');
    this.opt = createOptimizer(this.model.parameters(), o.optimizer);
    const copy = o.ema && o.makeCopy ? o.makeCopy() : null;
    if (copy && cl) E.setMemoryFormat_(copy.parameters(), 'channels-last');
    this.ema = o.ema && copy ? new ModelEma(this.model, copy, o.ema) : null;
    this.hasVal = !!(o.val && o.valDataset);
    this.valIds = o.valDataset?.items.map((it) => it.id) ?? [];
    this.dirs = o.dir ? { dir: o.dir, last: join(o.dir, 'last'), best: join(o.dir, 'best') } : null;
  }

  /** The model validated and checkpointed: the EMA copy when there is one. */
  private get evalModel(): AudioModel {
    return this.ema ? (this.ema.copy as AudioModel) : this.model;
  }

  /** Continues from dir/last when resuming and it holds a run: weights, EMA, optimiser, schedule, state. */
  restore(): void {
    const last = this.dirs?.last;
    if (!this.o.resume || !last || !existsSync(join(last, 'trainer.json'))) return;
    this.st = JSON.parse(readFileSync(join(last, 'trainer.json'), 'utf8')) as TrainState;
    const load = (file: string, into: AudioModel) => {
      const { tensors } = loadSafetensors(join(last, file), { device: this.tensorOpts?.device });
      try {
        into.loadStateDict(tensors);
      } finally {
        E.dispose(tensors);
      }
    };
    if (this.ema) {
      load('training.safetensors', this.model);
      load('model.safetensors', this.ema.copy as AudioModel);
      this.ema.updates = this.st.emaUpdates;
    } else load('model.safetensors', this.model);
    this.opt.loadStateBytes(new Uint8Array(readFileSync(join(last, 'optimizer.bin'))));
    this.schedule.loadState(this.st.schedule);
    this.reporter.message(
      `${this.label}: resuming after epoch ${this.st.epochsDone} (best so far: epoch ${this.st.bestEpoch})`,
    );
  }

  /** Data-parallel runs: every rank starts from rank 0's weights and buffers (and EMA copy). */
  broadcastInitial(): void {
    const d = this.o.dist;
    if (!d) return;
    d.broadcast([...this.model.parameters(), ...this.model.buffers()], 0);
    if (this.ema) d.broadcast([...this.ema.copy.parameters(), ...this.ema.copy.buffers()], 0);
  }

  /** The epochs left to train (none when the state says finished). */
  async run(): Promise<void> {
    for (let epoch = this.st.epochsDone; epoch < this.o.epochs && !this.st.finished; epoch++) {
      const t0 = performance.now();
      const { loss, lr } = await this.trainEpoch(epoch);
      const v = this.hasVal ? await this.validate() : null;
      const record: EpochRecord = {
        epoch: epoch + 1,
        lr,
        train_loss: loss,
        metrics: v?.metrics ?? {},
        improved: false,
        seconds: 0,
      };
      if (v?.valLoss !== undefined) record.val_loss = v.valLoss;
      this.chooseBest(record, v?.scores ?? null);
      this.advance(record);
      record.seconds = (performance.now() - t0) / 1000;
      this.st.history.push(record);
      this.save(record, v?.scores ?? null);
      this.report(record);
    }
  }

  // ---- train epoch ----

  private isHead(name: string): boolean {
    const head = this.o.freeze?.headPrefix ?? '';
    return name === head || name.startsWith(`${head}.`);
  }

  /** Train mode, with the backbone frozen during the first freeze.epochs epochs of fine-tuning. */
  private enterTrainMode(epoch: number): void {
    const frozen = !!this.o.freeze && epoch < this.o.freeze.epochs;
    for (const [name, p] of this.model.namedParameters()) p.requiresGrad = !frozen || this.isHead(name);
    this.model.train();
    // A frozen backbone keeps its BatchNorm statistics: batches of a new dataset would otherwise drift them.
    if (frozen)
      for (const [name, m] of this.model.namedModules())
        if ((m instanceof BatchNorm1d || m instanceof BatchNorm2d) && !this.isHead(name)) m.eval();
  }

  /** One epoch of optimiser steps; the mean training loss and the last learning rate. */
  private async trainEpoch(epoch: number): Promise<{ loss: number; lr: number }> {
    const { o, reporter } = this;
    this.enterTrainMode(epoch);
    const params = this.model.trainableParameters();
    E.manualSeed(mixSeed(o.seed, STREAM.engine, epoch));
    reporter.epochStart(this.label, epoch + 1, o.epochs, o.train.batchesPerEpoch);
    let sum = 0;
    let n = 0;
    let lr = this.schedule.lrAt(this.st.step);
    try {
      for await (const batch of o.train.epoch(epoch)) {
        lr = this.schedule.lrAt(this.st.step);
        this.opt.lr = lr;
        const value = this.trainStep(batch, params);
        if (!Number.isFinite(value))
          throw new NonFiniteLossError(
            value,
            epoch + 1,
            n + 1,
            batch.ids,
            nonFiniteRows(batch.inputs.data, batch.ids.length, batch.ids),
            this.label,
          );
        this.ema?.update();
        this.st.step++;
        sum += value;
        n++;
        reporter.step(n, sum / n);
      }
    } finally {
      this.opt.zeroGrad();
    }
    return { loss: n > 0 ? sum / n : Number.NaN, lr };
  }

  /** Forward, loss, backward, clip, step on one batch, inside one engine scope; the loss value (no step
   * when it is not finite). */
  private trainStep(batch: Batch, params: E.Tensor[]): number {
    const t = this.tensorOpts;
    return E.tidy(() => {
      let x0 = E.fromNDArray(batch.inputs, t);
      let y = E.fromNDArray(batch.targets, t);
      let w = batch.weights ? E.tensor(batch.weights, [batch.weights.length], t) : null;
      const dist = this.o.dist;
      // Data-parallel: this rank's rows of the global batch; its mean loss is scaled by its share, so the
      // average over the ranks is the global batch's loss (and gradient).
      let scale = 1;
      if (dist) {
        const rows = batch.ids.length;
        const [a, b] = shardRange(rows, dist.rank, dist.worldSize);
        const bw = batch.weights;
        const share = (i: number, j: number) => (bw ? bw.subarray(i, j).reduce((s, v) => s + v, 0) : j - i);
        scale = (share(a, b) * dist.worldSize) / Math.max(share(0, rows), 1e-12);
        x0 = x0.slice(0, a, b);
        y = y.slice(0, a, b);
        w = w ? w.slice(0, a, b) : null;
      }
      const x = this.channelsLast && x0.ndim === 4 ? x0.contiguous('channels-last') : x0;
      const empty = x.shape[0] === 0;
      const bf16 = this.o.precision === 'bf16';
      const l = empty
        ? E.zeros([], t)
        : this.loss(
            (() => {
              const out = E.autocast(
                { enabled: bf16, device: this.device },
                () => this.model.call(x).clipwise,
              );
              return bf16 ? out.to('float32') : out;
            })(),
            y,
            w,
          ).mul(scale);
      let v: number;
      if (dist) {
        const lv = l.detach().reshape([1]);
        dist.allreduce([lv], true);
        v = lv.item();
      } else v = l.item();
      if (!Number.isFinite(v)) return v;
      this.opt.zeroGrad();
      if (!empty) l.backward();
      dist?.allreduceGrads(params);
      if (this.o.clipGradNorm) clipGradNorm(params, this.o.clipGradNorm);
      this.opt.step();
      return v;
    });
  }

  // ---- validate, choose best, advance ----

  /** Clip-level scores and metrics of the validation set (of the EMA copy when there is one). */
  private async validate(): Promise<Validation> {
    const { o } = this;
    this.reporter.validating();
    const nClasses = o.classes.length;
    const p = await predictClips(this.evalModel, o.val!, this.valIds.length, nClasses, {
      activation: this.loss.activation,
      aggregate: o.aggregate,
      device: this.device,
      loss: this.loss,
    });
    const served = Array.from(p.counts.keys()).filter((i) => p.counts[i]! > 0);
    const metrics = computeMetrics(
      o.metrics,
      selectRows(p.scores, nClasses, served),
      truthOf(o.valDataset!, served),
    );
    return { metrics, valLoss: p.loss ?? undefined, scores: p.scores };
  }

  private metricOf(record: EpochRecord, name: string): number | undefined {
    return name === 'val_loss' ? record.val_loss : record.metrics[name];
  }

  /** Whether this epoch is the best so far by the monitored metric (with minDelta); keeps its scores.
   * monitor 'last': no selection on the validation data (it is the test fold in cross-validation), so
   * every epoch is the best and the last one is the model. */
  private chooseBest(record: EpochRecord, scores: Float32Array | null): void {
    const { st, o } = this;
    const monitored = o.monitor === 'last' ? undefined : this.metricOf(record, o.monitor);
    const minDelta = o.earlyStopping?.minDelta ?? 0;
    if (!this.hasVal || monitored === undefined) record.improved = true;
    else if (st.bestValue === null) record.improved = Number.isFinite(monitored);
    else
      record.improved = this.minimise
        ? monitored < st.bestValue - minDelta
        : monitored > st.bestValue + minDelta;
    if (record.improved) {
      st.bestValue = monitored ?? null;
      st.bestEpoch = record.epoch;
      st.badEpochs = 0;
      this.bestScores = scores;
    } else st.badEpochs++;
  }

  /** The schedule's epoch end (plateau schedules follow the monitor, or the first metric with 'last'),
   * early stopping, and the state that carries over to the next epoch. */
  private advance(record: EpochRecord): void {
    const { st, o } = this;
    const tracked = this.metricOf(record, o.monitor === 'last' ? (o.metrics[0] ?? 'val_loss') : o.monitor);
    if (tracked !== undefined) this.schedule.endEpoch(tracked);
    st.epochsDone = record.epoch;
    st.schedule = this.schedule.state();
    st.emaUpdates = this.ema?.updates ?? 0;
    if (o.earlyStopping && st.badEpochs >= o.earlyStopping.patience && record.epoch < o.epochs) {
      st.finished = true;
      st.stoppedEarly = true;
    }
    if (record.epoch >= o.epochs) st.finished = true;
  }

  // ---- save, report ----

  /** best/ (and oof.csv) when improved, then last/ with everything a resume needs; trainer.json last. */
  private save(record: EpochRecord, scores: Float32Array | null): void {
    const d = this.dirs;
    if (!d) return;
    const { o } = this;
    mkdirSync(d.dir, { recursive: true });
    const info = {
      model: o.modelInfo.name,
      config: o.modelInfo.config,
      classes: o.classes,
      multiLabel: o.multiLabel,
      activation: this.loss.activation,
      ...o.checkpointInfo,
      epoch: record.epoch,
      metrics: metricsOf(record),
      ema: !!this.ema,
    };
    if (record.improved) {
      saveCheckpoint(d.best, this.evalModel, info);
      if (scores) writeFileSync(join(d.dir, 'oof.csv'), scoresCsv(this.valIds, o.classes, scores));
    }
    saveCheckpoint(d.last, this.evalModel, info);
    if (this.ema)
      E.tidy(() =>
        saveSafetensors(join(d.last, 'training.safetensors'), this.model.stateDict(), { format: 'pt' }),
      );
    writeFileAtomic(join(d.last, 'optimizer.bin'), this.opt.stateBytes());
    // Written last: a crash before this line resumes from the previous epoch's state, consistently.
    writeJsonAtomic(join(d.last, 'trainer.json'), this.st);
  }

  private report(record: EpochRecord): void {
    const { o, st, reporter } = this;
    reporter.epochEnd({
      label: this.label,
      epoch: record.epoch,
      epochs: o.epochs,
      lr: record.lr,
      trainLoss: record.train_loss,
      valLoss: record.val_loss,
      metrics: record.metrics,
      monitor: o.monitor,
      improved: record.improved && this.hasVal,
      seconds: record.seconds,
    });
    o.onEpoch?.(record);
    if (st.stoppedEarly)
      reporter.message(
        `${this.label}: early stop after epoch ${record.epoch} (${o.monitor} has not improved for ${st.badEpochs} epochs)`,
      );
  }

  /** The result: the best epoch's metrics and scores (read back from oof.csv after a resume). */
  result(seconds: number): TrainResult {
    const { st, dirs } = this;
    let scores = this.bestScores;
    if (dirs && !scores && this.hasVal && existsSync(join(dirs.dir, 'oof.csv')))
      scores = readScoresCsv(join(dirs.dir, 'oof.csv'), this.o.classes.length);
    const best = st.history.find((h) => h.epoch === st.bestEpoch) ?? st.history[st.history.length - 1];
    return {
      bestEpoch: st.bestEpoch,
      best: best ? metricsOf(best) : {},
      history: st.history,
      valScores: scores,
      stoppedEarly: st.stoppedEarly,
      seconds,
    };
  }

  dispose(): void {
    this.reporter.close();
    this.opt.dispose();
    this.ema?.copy.dispose();
  }
}

/** Trains one model; see the file comment. */
export async function trainModel(o: TrainOptions): Promise<TrainResult> {
  const t0 = performance.now();
  const trainer = new FoldTrainer(o);
  try {
    trainer.restore();
    trainer.broadcastInitial();
    await trainer.run();
  } finally {
    trainer.dispose();
  }
  return trainer.result((performance.now() - t0) / 1000);
}

/** Reads the scores of a scoresCsv file back ([rows, classes], in file order). */
export function readScoresCsv(path: string, classes: number): Float32Array {
  const { rows } = parseCsv(readFileSync(path, 'utf8'), path);
  const out = new Float32Array(rows.length * classes);
  rows.forEach(({ fields }, i) => {
    for (let j = 0; j < classes; j++) out[i * classes + j] = Number(fields[fields.length - classes + j]);
  });
  return out;
}
