// Losses for tagging: cross entropy (single label, hard or soft targets), BCE with logits (multi-label),
// focal loss and OHEM. Cross entropy is the engine's (engine/functional.ts) and BCE runs libtorch's fused
// kernel; focal loss and OHEM are composed from engine ops, so autograd gives their gradients.

import * as F from '../engine/functional.js';
import { type CrossEntropyOpts, crossEntropy, type Reduction } from '../engine/functional.js';
import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import { Module } from './module.js';

export { crossEntropy, type Reduction };
/** Options of `crossEntropy`/`CrossEntropyLoss` (the engine's). */
export type CrossEntropyOptions = CrossEntropyOpts;

function reduce(t: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'mean') return t.mean();
  if (reduction === 'sum') return t.sum();
  if (reduction === 'none') return t;
  throw new Error(`loss: reduction must be 'mean', 'sum' or 'none', got "${reduction as string}"`);
}

function checkBatch(name: string, logits: Tensor, target: Tensor): void {
  if (logits.ndim < 1 || target.ndim < 1 || logits.shape[0] !== target.shape[0])
    throw new Error(
      `${name}: logits [${logits.shape.join(', ')}] and target [${target.shape.join(', ')}] must share the batch dim`,
    );
}

// ---- cross entropy ------------------------------------------------------------------------------

export class CrossEntropyLoss extends Module<[Tensor, Tensor], Tensor> {
  constructor(readonly opts: CrossEntropyOptions = {}) {
    super();
  }
  forward(logits: Tensor, target: Tensor): Tensor {
    return crossEntropy(logits, target, this.opts);
  }
}

// ---- binary cross entropy -----------------------------------------------------------------------

export interface BCEWithLogitsOptions {
  /** Per-element rescaling, broadcast against the loss (e.g. [C] per class or [N, C]). */
  weight?: Tensor;
  /** Weight of positive examples per class [C] (>1 favours recall), as torch's pos_weight. */
  posWeight?: Tensor;
  reduction?: Reduction;
}

/** Sigmoid + binary cross entropy in one numerically stable op, for multi-label targets in [0, 1]. */
export function bceWithLogits(logits: Tensor, target: Tensor, opts: BCEWithLogitsOptions = {}): Tensor {
  if (logits.shape.length !== target.shape.length || logits.shape.some((d, i) => d !== target.shape[i]))
    throw new Error(
      `bceWithLogits: target [${target.shape.join(', ')}] must have the logits' shape [${logits.shape.join(', ')}]`,
    );
  return E.tidy(() =>
    F.binaryCrossEntropyWithLogits(logits, target.dtype === logits.dtype ? target : target.to(logits.dtype), {
      weight: opts.weight,
      posWeight: opts.posWeight,
      reduction: opts.reduction ?? 'mean',
    }),
  );
}

export class BCEWithLogitsLoss extends Module<[Tensor, Tensor], Tensor> {
  constructor(readonly opts: BCEWithLogitsOptions = {}) {
    super();
  }
  forward(logits: Tensor, target: Tensor): Tensor {
    return bceWithLogits(logits, target, this.opts);
  }
}

// ---- focal loss ---------------------------------------------------------------------------------

export interface FocalLossOptions {
  /** Focusing exponent: (1 − p_t)^γ down-weights easy examples; γ = 0 gives plain (weighted) CE/BCE. */
  gamma?: number;
  /**
   * Class balance. Binary mode: weight α for positives and 1 − α for negatives (null = none; default
   * 0.25 as in the RetinaNet paper). Multiclass mode: a number scales every class, a [C] tensor weights
   * each class (default none).
   */
  alpha?: number | Tensor | null;
  /** 'binary': sigmoid per class (multi-label); 'multiclass': softmax over classes. */
  mode?: 'binary' | 'multiclass';
  reduction?: Reduction;
}

/**
 * Focal loss (Lin et al., 2017). Binary mode follows torchvision's sigmoid_focal_loss (any targets in
 * [0, 1]); multiclass mode is −α_y (1 − p_y)^γ log p_y for class ids, or −Σ_c t_c α_c (1 − p_c)^γ log p_c
 * for soft targets.
 */
export function focalLoss(logits: Tensor, target: Tensor, opts: FocalLossOptions = {}): Tensor {
  const gamma = opts.gamma ?? 2;
  const mode = opts.mode ?? 'binary';
  const reduction = opts.reduction ?? 'mean';
  if (!(gamma >= 0)) throw new Error(`focalLoss: gamma must be ≥ 0, got ${gamma}`);
  checkBatch('focalLoss', logits, target);
  return E.tidy(() => {
    if (mode === 'binary') {
      const alpha = opts.alpha === undefined ? 0.25 : opts.alpha;
      const t = target.dtype === logits.dtype ? target : target.to(logits.dtype);
      const ce = bceWithLogits(logits, t, { reduction: 'none' });
      const p = logits.sigmoid();
      // p_t = p for positives, 1 − p for negatives (interpolated for soft targets).
      const pt = p.mul(t).add(p.neg().add(1).mul(t.neg().add(1)));
      let loss = gamma === 0 ? ce : ce.mul(pt.neg().add(1).pow(gamma));
      if (alpha !== null) {
        if (typeof alpha !== 'number') throw new Error('focalLoss: binary mode takes a number alpha');
        loss = loss.mul(
          t.mul(alpha).add(
            t
              .neg()
              .add(1)
              .mul(1 - alpha),
          ),
        );
      }
      return reduce(loss, reduction);
    }
    if (mode !== 'multiclass')
      throw new Error(`focalLoss: mode must be 'binary' or 'multiclass', got "${mode}"`);
    const alpha = opts.alpha ?? null;
    const logp = logits.logSoftmax(1);
    const focal = (lp: Tensor) => (gamma === 0 ? lp : lp.mul(lp.exp().neg().add(1).pow(gamma)));
    let loss: Tensor;
    if (target.ndim === logits.ndim) {
      // Soft targets: −Σ_c t_c α_c (1 − p_c)^γ log p_c.
      let w = focal(logp).mul(target);
      if (alpha !== null) w = w.mul(typeof alpha === 'number' ? alpha : alpha.reshape([1, -1]));
      loss = w.sum(1).neg();
    } else {
      const idx = target.to('int64').unsqueeze(1);
      const lpt = logp.gather(1, idx).squeeze(1);
      loss = focal(lpt).neg();
      if (alpha !== null)
        loss = loss.mul(typeof alpha === 'number' ? alpha : alpha.indexSelect(0, idx.squeeze(1)));
    }
    return reduce(loss, reduction);
  });
}

export class FocalLoss extends Module<[Tensor, Tensor], Tensor> {
  constructor(readonly opts: FocalLossOptions = {}) {
    super();
  }
  forward(logits: Tensor, target: Tensor): Tensor {
    return focalLoss(logits, target, this.opts);
  }
}

// ---- OHEM ---------------------------------------------------------------------------------------

/**
 * Online hard example mining: the mean of the largest ⌈keepFraction·N⌉ per-sample losses. `losses` is an
 * unreduced loss, [N] or [N, …] (trailing dims are averaged per sample first, e.g. BCE's classes).
 */
export function ohem(losses: Tensor, keepFraction: number): Tensor {
  if (!(keepFraction > 0 && keepFraction <= 1))
    throw new Error(`ohem: keepFraction must be in (0, 1], got ${keepFraction}`);
  if (losses.ndim < 1) throw new Error('ohem: needs unreduced per-sample losses, got a scalar');
  return E.tidy(() => {
    const per = losses.ndim > 1 ? losses.flatten(1).mean(1) : losses;
    const n = per.shape[0]!;
    const k = Math.min(n, Math.max(1, Math.ceil(keepFraction * n)));
    return per.topk(k, 0).values.mean();
  });
}

export type UnreducedLoss = (logits: Tensor, target: Tensor) => Tensor;

/** The named base losses OHEM can wrap, or any function returning unreduced losses. */
export type OHEMBase = 'cross_entropy' | 'bce' | 'focal' | UnreducedLoss;

export class OHEMLoss extends Module<[Tensor, Tensor], Tensor> {
  private readonly base: UnreducedLoss;
  constructor(
    base: OHEMBase = 'cross_entropy',
    readonly keepFraction = 0.7,
  ) {
    super();
    if (!(keepFraction > 0 && keepFraction <= 1))
      throw new Error(`OHEMLoss: keepFraction must be in (0, 1], got ${keepFraction}`);
    if (base === 'cross_entropy') this.base = (l, t) => crossEntropy(l, t, { reduction: 'none' });
    else if (base === 'bce') this.base = (l, t) => bceWithLogits(l, t, { reduction: 'none' });
    else if (base === 'focal') this.base = (l, t) => focalLoss(l, t, { reduction: 'none' });
    else if (typeof base === 'function') this.base = base;
    else throw new Error(`OHEMLoss: unknown base loss "${String(base)}"`);
  }
  forward(logits: Tensor, target: Tensor): Tensor {
    return E.tidy(() => ohem(this.base(logits, target), this.keepFraction));
  }
}
