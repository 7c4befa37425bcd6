// Linear and Embedding, initialised as PyTorch does (convolutions are in conv.ts).

import * as F from '../engine/functional.js';
import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import { defaultLayerInit_, normal_ } from './init.js';
import { Module } from './module.js';

export interface DeviceOptions {
  /** Create the tensors on this device (default 'cpu'). */
  device?: string;
}

/** y = x Wᵀ + b over the last dim. Weight [out, in], bias [out]. */
export class Linear extends Module {
  declare weight: Tensor;
  declare bias: Tensor | null;
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: { bias?: boolean } & DeviceOptions = {},
  ) {
    super();
    const device = opts.device;
    this.registerParameter('weight', E.zeros([outFeatures, inFeatures], { device }));
    this.registerParameter('bias', opts.bias === false ? null : E.zeros([outFeatures], { device }));
    this.resetParameters();
  }
  resetParameters(): void {
    defaultLayerInit_(this.weight, this.bias);
  }
  forward(x: Tensor): Tensor {
    return F.linear(x, this.weight, this.bias ?? undefined);
  }
  protected override extraRepr(): string {
    return `in=${this.inFeatures}, out=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}

/** A lookup table of `numEmbeddings` vectors, N(0, 1) initialised; `paddingIdx`'s row starts at zero. */
export class Embedding extends Module {
  declare weight: Tensor;
  readonly paddingIdx: number | null;
  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    opts: { paddingIdx?: number } & DeviceOptions = {},
  ) {
    super();
    let pad = opts.paddingIdx ?? null;
    if (pad !== null) {
      if (pad >= numEmbeddings || pad < -numEmbeddings)
        throw new Error(`Embedding: paddingIdx ${pad} outside [${-numEmbeddings}, ${numEmbeddings})`);
      if (pad < 0) pad += numEmbeddings;
    }
    this.paddingIdx = pad;
    this.registerParameter('weight', E.zeros([numEmbeddings, embeddingDim], { device: opts.device }));
    this.resetParameters();
  }
  resetParameters(): void {
    normal_(this.weight);
    if (this.paddingIdx !== null) {
      const row = this.paddingIdx;
      E.noGrad(() => E.tidy(() => this.weight.select(0, row).zero_()));
    }
  }
  forward(indices: Tensor): Tensor {
    return F.embedding(indices, this.weight);
  }
  protected override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}`;
  }
}
