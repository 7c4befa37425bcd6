// The training loss by name, over the loader's float targets [B, C] (one-hot, multi-hot, or soft after
// mixing) and optional per-row weights. Every loss is first computed per row so sample weights and OHEM
// apply the same way to all of them.

import { parseSchema } from '../core/errors.js';
import * as E from '../engine/index.js';
import { bceWithLogits, crossEntropy, focalLoss, ohem } from '../nn/losses.js';
import { type LossConfig, lossSchema } from './config.js';

export interface TrainLoss {
  /** Scalar loss of a batch. `weights`: one per row, or none. */
  (logits: E.Tensor, targets: E.Tensor, weights?: E.Tensor | null): E.Tensor;
  /** How scores are turned into probabilities for metrics: softmax goes with cross entropy. */
  readonly activation: 'softmax' | 'sigmoid';
  /** e.g. cross-entropy, ohem(bce). */
  readonly lossName: string;
}

type PerRow = (logits: E.Tensor, targets: E.Tensor) => E.Tensor;

function perRow(name: 'cross-entropy' | 'bce' | 'focal', c: LossConfig, multiLabel: boolean): PerRow {
  const ls = c.labelSmoothing;
  switch (name) {
    case 'cross-entropy':
      return (x, t) => crossEntropy(x, t, { labelSmoothing: ls, reduction: 'none' });
    case 'bce':
      return (x, t) =>
        E.tidy(() => bceWithLogits(x, ls > 0 ? t.mul(1 - ls).add(ls / 2) : t, { reduction: 'none' }).mean(1));
    case 'focal':
      return (x, t) =>
        E.tidy(() => {
          const l = focalLoss(x, t, {
            gamma: c.gamma,
            alpha: multiLabel ? (c.alpha ?? 0.25) : c.alpha,
            mode: multiLabel ? 'binary' : 'multiclass',
            reduction: 'none',
          });
          return l.ndim > 1 ? l.mean(1) : l;
        });
  }
}

/** The loss for a task; `multiLabel` picks the defaults (cross entropy vs BCE, focal mode). */
export function createLoss(config: Partial<LossConfig>, multiLabel: boolean): TrainLoss {
  const c = parseSchema(lossSchema, config, 'train.loss');
  const auto = multiLabel ? 'bce' : 'cross-entropy';
  const base = c.name === 'ohem' ? (c.base === 'auto' ? auto : c.base) : c.name === 'auto' ? auto : c.name;
  const rows = perRow(base, c, multiLabel);
  const activation = base === 'bce' || (base === 'focal' && multiLabel) ? 'sigmoid' : 'softmax';
  const fn = (logits: E.Tensor, targets: E.Tensor, weights?: E.Tensor | null) =>
    E.tidy(() => {
      let l = rows(logits, targets);
      if (weights) l = l.mul(weights);
      if (c.name === 'ohem') return ohem(l, c.keepFraction);
      // A weighted mean, so the loss scale does not depend on the weights' scale.
      return weights ? l.sum().div(weights.sum().clamp(1e-12)) : l.mean();
    });
  return Object.assign(fn, { activation, lossName: c.name === 'ohem' ? `ohem(${base})` : base }) as TrainLoss;
}
