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
import type { BatchSource } from '../data/loader.js';
import type { Dataset } from '../data/types.js';
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

/** Trains one model; see the file comment. */
export async function trainModel(o: TrainOptions): Promise<TrainResult> {
  const t0 = performance.now();
  const label = o.label ?? 'train';
  const reporter = o.reporter ?? silentReporter;
  const device = o.device ?? 'cpu';
  const tensorOpts = device === 'cpu' ? undefined : { device };
  const model = o.model;
  const loss: TrainLoss = createLoss(o.loss, o.multiLabel);
  const opt = createOptimizer(model.parameters(), o.optimizer);
  const minimise = lowerIsBetter(o.monitor === 'last' ? (o.metrics[0] ?? 'val_loss') : o.monitor);
  const schedule: LrSchedule = createSchedule(o.schedule, {
    baseLr: o.optimizer.lr,
    stepsPerEpoch: o.train.batchesPerEpoch,
    epochs: o.epochs,
    mode: minimise ? 'min' : 'max',
  });
  let ema: ModelEma | null = null;
  if (o.ema) {
    if (!o.makeCopy) throw new Error(`${label}: train.ema needs a second model (makeCopy)`);
    ema = new ModelEma(model, o.makeCopy(), o.ema);
  }
  const evalModel = (): AudioModel => (ema ? (ema.copy as AudioModel) : model);
  const hasVal = !!(o.val && o.valDataset);
  const valIds = o.valDataset?.items.map((it) => it.id) ?? [];
  const nClasses = o.classes.length;

  const dir = o.dir;
  const lastDir = dir ? join(dir, 'last') : null;
  const bestDir = dir ? join(dir, 'best') : null;
  const info = (extra: Record<string, unknown>) => ({
    model: o.modelInfo.name,
    config: o.modelInfo.config,
    classes: o.classes,
    multiLabel: o.multiLabel,
    activation: loss.activation,
    ...o.checkpointInfo,
    ...extra,
  });

  let st: TrainState = {
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
  let bestScores: Float32Array | null = null;

  if (o.resume && lastDir && existsSync(join(lastDir, 'trainer.json'))) {
    st = JSON.parse(readFileSync(join(lastDir, 'trainer.json'), 'utf8')) as TrainState;
    const load = (file: string, into: AudioModel) => {
      const { tensors } = loadSafetensors(join(lastDir, file), { device: tensorOpts?.device });
      try {
        into.loadStateDict(tensors);
      } finally {
        E.dispose(tensors);
      }
    };
    if (ema) {
      load('training.safetensors', model);
      load('model.safetensors', ema.copy as AudioModel);
      ema.updates = st.emaUpdates;
    } else load('model.safetensors', model);
    opt.loadStateBytes(new Uint8Array(readFileSync(join(lastDir, 'optimizer.bin'))));
    schedule.loadState(st.schedule);
    reporter.message(`${label}: resuming after epoch ${st.epochsDone} (best so far: epoch ${st.bestEpoch})`);
  }

  const headPrefix = o.freeze?.headPrefix ?? '';
  const inHead = (name: string) => name === headPrefix || name.startsWith(`${headPrefix}.`);
  const setFrozen = (frozen: boolean) => {
    for (const [name, p] of model.namedParameters()) p.requiresGrad = !frozen || inHead(name);
  };
  const trainMode = (frozen: boolean) => {
    model.train();
    // A frozen backbone keeps its BatchNorm statistics: batches of a new dataset would otherwise drift them.
    if (frozen)
      for (const [name, m] of model.namedModules())
        if ((m instanceof BatchNorm1d || m instanceof BatchNorm2d) && !inHead(name)) m.eval();
  };

  try {
    for (let epoch = st.epochsDone; epoch < o.epochs && !st.finished; epoch++) {
      const te = performance.now();
      const frozen = !!o.freeze && epoch < o.freeze.epochs;
      setFrozen(frozen);
      trainMode(frozen);
      const params = model.trainableParameters();
      E.manualSeed(mixSeed(o.seed, STREAM.engine, epoch));
      reporter.epochStart(label, epoch + 1, o.epochs, o.train.batchesPerEpoch);
      let sum = 0;
      let n = 0;
      let lr = schedule.lrAt(st.step);
      for await (const batch of o.train.epoch(epoch)) {
        lr = schedule.lrAt(st.step);
        opt.lr = lr;
        const value = E.tidy(() => {
          const x = E.fromNDArray(batch.inputs, tensorOpts);
          const y = E.fromNDArray(batch.targets, tensorOpts);
          const w = batch.weights ? E.tensor(batch.weights, [batch.weights.length], tensorOpts) : null;
          const l = loss(model.call(x).clipwise, y, w);
          const v = l.item();
          if (!Number.isFinite(v)) return v;
          opt.zeroGrad();
          l.backward();
          if (o.clipGradNorm) clipGradNorm(params, o.clipGradNorm);
          opt.step();
          return v;
        });
        if (!Number.isFinite(value))
          throw new NonFiniteLossError(
            value,
            epoch + 1,
            n + 1,
            batch.ids,
            nonFiniteRows(batch.inputs.data, batch.ids.length, batch.ids),
            label,
          );
        ema?.update();
        st.step++;
        sum += value;
        n++;
        reporter.step(n, sum / n);
      }
      opt.zeroGrad();

      // Validation (of the EMA copy when there is one).
      const record: EpochRecord = {
        epoch: epoch + 1,
        lr,
        train_loss: n > 0 ? sum / n : Number.NaN,
        metrics: {},
        improved: false,
        seconds: 0,
      };
      let scores: Float32Array | null = null;
      if (hasVal) {
        reporter.validating();
        const p = await predictClips(evalModel(), o.val!, valIds.length, nClasses, {
          activation: loss.activation,
          aggregate: o.aggregate,
          device,
          loss,
        });
        scores = p.scores;
        const served = Array.from(p.counts.keys()).filter((i) => p.counts[i]! > 0);
        record.metrics = computeMetrics(
          o.metrics,
          selectRows(p.scores, nClasses, served),
          truthOf(o.valDataset!, served),
        );
        if (p.loss !== null) record.val_loss = p.loss;
      }
      // monitor 'last': no selection on the validation data (it is the test fold in cross-validation);
      // the last epoch is the model, and plateau schedules follow the first metric.
      const byLast = o.monitor === 'last';
      const metricOf = (name: string) => (name === 'val_loss' ? record.val_loss : record.metrics[name]);
      const monitored = byLast ? undefined : metricOf(o.monitor);
      const minDelta = o.earlyStopping?.minDelta ?? 0;
      if (!hasVal || monitored === undefined) record.improved = true;
      else if (st.bestValue === null) record.improved = Number.isFinite(monitored);
      else
        record.improved = minimise
          ? monitored < st.bestValue - minDelta
          : monitored > st.bestValue + minDelta;
      if (record.improved) {
        st.bestValue = monitored ?? null;
        st.bestEpoch = epoch + 1;
        st.badEpochs = 0;
        bestScores = scores;
      } else st.badEpochs++;
      const tracked = byLast ? metricOf(o.metrics[0] ?? 'val_loss') : monitored;
      if (tracked !== undefined) schedule.endEpoch(tracked);
      st.epochsDone = epoch + 1;
      st.schedule = schedule.state();
      st.emaUpdates = ema?.updates ?? 0;
      if (o.earlyStopping && st.badEpochs >= o.earlyStopping.patience && epoch + 1 < o.epochs) {
        st.finished = true;
        st.stoppedEarly = true;
      }
      if (epoch + 1 >= o.epochs) st.finished = true;
      record.seconds = (performance.now() - te) / 1000;
      st.history.push(record);

      if (dir && lastDir && bestDir) {
        mkdirSync(dir, { recursive: true });
        const metricsNow = {
          ...record.metrics,
          ...(record.val_loss !== undefined ? { val_loss: record.val_loss } : {}),
        };
        if (record.improved) {
          saveCheckpoint(bestDir, evalModel(), info({ epoch: epoch + 1, metrics: metricsNow, ema: !!ema }));
          if (scores) writeFileSync(join(dir, 'oof.csv'), scoresCsv(valIds, o.classes, scores));
        }
        saveCheckpoint(lastDir, evalModel(), info({ epoch: epoch + 1, metrics: metricsNow, ema: !!ema }));
        if (ema)
          E.tidy(() =>
            saveSafetensors(join(lastDir, 'training.safetensors'), model.stateDict(), { format: 'pt' }),
          );
        writeFileAtomic(join(lastDir, 'optimizer.bin'), opt.stateBytes());
        // Written last: a crash before this line resumes from the previous epoch's state, consistently.
        writeJsonAtomic(join(lastDir, 'trainer.json'), st);
      }
      reporter.epochEnd({
        label,
        epoch: epoch + 1,
        epochs: o.epochs,
        lr,
        trainLoss: record.train_loss,
        valLoss: record.val_loss,
        metrics: record.metrics,
        monitor: o.monitor,
        improved: record.improved && hasVal,
        seconds: record.seconds,
      });
      o.onEpoch?.(record);
      if (st.stoppedEarly)
        reporter.message(
          `${label}: early stop after epoch ${epoch + 1} (${o.monitor} has not improved for ${st.badEpochs} epochs)`,
        );
    }
  } finally {
    reporter.close();
    opt.dispose();
    if (ema) ema.copy.dispose();
  }

  if (dir && !bestScores && hasVal && existsSync(join(dir, 'oof.csv')))
    bestScores = readScoresCsv(join(dir, 'oof.csv'), nClasses);
  const bestRecord = st.history.find((h) => h.epoch === st.bestEpoch) ?? st.history[st.history.length - 1];
  return {
    bestEpoch: st.bestEpoch,
    best: bestRecord
      ? {
          ...bestRecord.metrics,
          ...(bestRecord.val_loss !== undefined ? { val_loss: bestRecord.val_loss } : {}),
        }
      : {},
    history: st.history,
    valScores: bestScores,
    stoppedEarly: st.stoppedEarly,
    seconds: (performance.now() - t0) / 1000,
  };
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
