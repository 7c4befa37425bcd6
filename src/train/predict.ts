// Clip-level predictions from a batch source: every row (a crop or a window) goes through the model in
// eval mode without gradients, and rows of one clip (same clipIndex) are combined, so a 5 s clip scored
// as overlapping 2.5 s windows gets one row of probabilities.

import { classIndices, labelIndexLists } from '../data/dataset.js';
import type { Batch, BatchSource } from '../data/loader.js';
import type { Dataset } from '../data/types.js';
import * as E from '../engine/index.js';
import type { Truth } from '../metrics/index.js';
import type { AudioModel } from '../models/types.js';
import type { TrainLoss } from './loss.js';

export interface ClipPredictions {
  /** [clips, classes] probabilities, row-major; rows of clips never served are 0. */
  scores: Float32Array;
  /** Rows (windows) seen per clip; 0 for clips the loader skipped. */
  counts: Int32Array;
  /** Mean loss over the rows, when a loss was given. */
  loss: number | null;
}

export interface PredictOptions {
  activation: 'softmax' | 'sigmoid';
  aggregate?: 'mean' | 'max';
  device?: string;
  /** Also computes the mean loss over the rows against the batch targets. */
  loss?: TrainLoss;
  /** After each batch, e.g. a progress bar. */
  onBatch?: (done: number, total: number) => void;
}

export function inputTensor(batch: Batch, device = 'cpu'): E.Tensor {
  return E.fromNDArray(batch.inputs, device === 'cpu' ? undefined : { device });
}

/** Runs `model` over one pass of `source` (an evaluation loader over a dataset of `clips` items). */
export async function predictClips(
  model: AudioModel,
  source: BatchSource,
  clips: number,
  classes: number,
  opts: PredictOptions,
): Promise<ClipPredictions> {
  const aggregate = opts.aggregate ?? 'mean';
  const scores = new Float32Array(clips * classes);
  const counts = new Int32Array(clips);
  let lossSum = 0;
  let rows = 0;
  let done = 0;
  const wasTraining = model.training;
  model.eval();
  try {
    for await (const batch of source.epoch(0)) {
      const probs = E.noGrad(() =>
        E.tidy(() => {
          const logits = model.call(inputTensor(batch, opts.device)).clipwise;
          if (opts.loss) {
            const t = E.fromNDArray(
              batch.targets,
              opts.device === 'cpu' ? undefined : { device: opts.device },
            );
            lossSum += opts.loss(logits, t).item() * batch.ids.length;
          }
          const p = opts.activation === 'softmax' ? logits.softmax(1) : logits.sigmoid();
          return p.toFloat32Array();
        }),
      );
      rows += batch.ids.length;
      batch.clipIndex.forEach((clip, r) => {
        if (clip < 0 || clip >= clips)
          throw new Error(`predict: batch row ${r} has clipIndex ${clip}, outside 0..${clips - 1}`);
        const o = clip * classes;
        const first = counts[clip] === 0;
        for (let c = 0; c < classes; c++) {
          const v = probs[r * classes + c]!;
          if (aggregate === 'mean') scores[o + c]! += v;
          else scores[o + c] = first ? v : Math.max(scores[o + c]!, v);
        }
        counts[clip]!++;
      });
      opts.onBatch?.(++done, source.batchesPerEpoch);
    }
  } finally {
    model.train(wasTraining);
  }
  if (aggregate === 'mean')
    for (let i = 0; i < clips; i++) {
      const n = counts[i]!;
      if (n > 1) for (let c = 0; c < classes; c++) scores[i * classes + c]! /= n;
    }
  return { scores, counts, loss: opts.loss && rows > 0 ? lossSum / rows : null };
}

/** The truth of a dataset in the form src/metrics takes: class ids (single-label) or multi-hot rows. */
export function truthOf(dataset: Dataset, rows?: ArrayLike<number>): Truth {
  const pick = <T>(all: T[]): T[] => (rows ? Array.from(rows, (i) => all[i]!) : all);
  if (!dataset.multiLabel) return Int32Array.from(pick(Array.from(classIndices(dataset))));
  const c = dataset.classes.length;
  return pick(labelIndexLists(dataset)).map((ls) => {
    const r = new Float32Array(c);
    for (const j of ls) r[j] = 1;
    return r;
  });
}

/** Rows of `scores` for the given clip indices, as a dense [rows, classes] array. */
export function selectRows(scores: Float32Array, classes: number, rows: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rows.length * classes);
  for (let i = 0; i < rows.length; i++)
    out.set(scores.subarray(rows[i]! * classes, (rows[i]! + 1) * classes), i * classes);
  return out;
}
