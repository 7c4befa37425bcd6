// BatchNorm1d/2d and LayerNorm, with PyTorch's buffers (running_mean, running_var, num_batches_tracked)
// so their state dicts load into PyTorch and back.

import * as F from '../engine/functional.js';
import type { Shape, Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import type { DeviceOptions } from './linear.js';
import { Module } from './module.js';

export interface BatchNormOptions extends DeviceOptions {
  eps?: number;
  /** Weight of the new batch in the running averages; `null` = cumulative average (1/num_batches_tracked). */
  momentum?: number | null;
  affine?: boolean;
  trackRunningStats?: boolean;
}

abstract class BatchNormBase extends Module {
  declare weight: Tensor | null;
  declare bias: Tensor | null;
  declare running_mean: Tensor | null;
  declare running_var: Tensor | null;
  declare num_batches_tracked: Tensor | null;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  protected abstract readonly dims: readonly number[];

  constructor(
    readonly numFeatures: number,
    opts: BatchNormOptions = {},
  ) {
    super();
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
    this.affine = opts.affine ?? true;
    this.trackRunningStats = opts.trackRunningStats ?? true;
    const device = opts.device;
    this.registerParameter('weight', this.affine ? E.ones([numFeatures], { device }) : null);
    this.registerParameter('bias', this.affine ? E.zeros([numFeatures], { device }) : null);
    const track = this.trackRunningStats;
    this.registerBuffer('running_mean', track ? E.zeros([numFeatures], { device }) : null);
    this.registerBuffer('running_var', track ? E.ones([numFeatures], { device }) : null);
    this.registerBuffer('num_batches_tracked', track ? E.zeros([], { dtype: 'int64', device }) : null);
  }

  forward(x: Tensor): Tensor {
    if (!this.dims.includes(x.ndim) || x.shape[1] !== this.numFeatures) {
      throw new Error(
        `${this.constructor.name}(${this.numFeatures}): expected input of ${this.dims.join(' or ')} dims with ` +
          `${this.numFeatures} channels in dim 1, got [${x.shape.join(', ')}]`,
      );
    }
    let factor = this.momentum ?? 0;
    if (this.training && this.trackRunningStats && this.num_batches_tracked) {
      const nbt = this.num_batches_tracked;
      E.noGrad(() => nbt.add_(1));
      if (this.momentum === null) factor = 1 / nbt.item();
    }
    // In training, or when no running stats are kept, normalise with the batch's own statistics.
    const useBatch = this.training || !this.trackRunningStats;
    const keepStats = !this.training || this.trackRunningStats;
    return F.batchNorm(
      x,
      keepStats ? this.running_mean : null,
      keepStats ? this.running_var : null,
      this.weight ?? undefined,
      this.bias ?? undefined,
      { training: useBatch, momentum: factor, eps: this.eps },
    );
  }

  protected override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.affine}`;
  }
}

/** Batch norm over [B, C] or [B, C, L]. */
export class BatchNorm1d extends BatchNormBase {
  protected readonly dims = [2, 3];
}

/** Batch norm over [B, C, H, W]. */
export class BatchNorm2d extends BatchNormBase {
  protected readonly dims = [4];
}

/** Normalises over the trailing `normalizedShape` dims, with elementwise affine weight and bias. */
export class LayerNorm extends Module {
  declare weight: Tensor | null;
  declare bias: Tensor | null;
  readonly normalizedShape: number[];
  constructor(
    normalizedShape: number | Shape,
    readonly opts: { eps?: number; elementwiseAffine?: boolean; bias?: boolean } & DeviceOptions = {},
  ) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    const affine = opts.elementwiseAffine ?? true;
    const device = opts.device;
    this.registerParameter('weight', affine ? E.ones(this.normalizedShape, { device }) : null);
    this.registerParameter(
      'bias',
      affine && opts.bias !== false ? E.zeros(this.normalizedShape, { device }) : null,
    );
  }
  forward(x: Tensor): Tensor {
    return F.layerNorm(
      x,
      this.normalizedShape,
      this.weight ?? undefined,
      this.bias ?? undefined,
      this.opts.eps ?? 1e-5,
    );
  }
  protected override extraRepr(): string {
    return `[${this.normalizedShape}], eps=${this.opts.eps ?? 1e-5}`;
  }
}
