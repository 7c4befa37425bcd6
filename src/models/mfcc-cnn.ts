// mfcc-cnn: the small 2-D CNN on MFCCs from the Freesound General-Purpose Audio Tagging (Kaggle 2018)
// starter kernel ("Beginner's Guide to Audio Data", Zafar): four blocks of a 4×10 conv ("same" padding)
// with 32 channels, BatchNorm, ReLU and 2×2 max pooling, then flatten → dense 64 → BatchNorm → ReLU →
// classifier. The kernel flattened a fixed 40 × 173 input (2 s at 44.1 kHz, hop 512), which leaves a
// 32 × 2 × 10 map; here an adaptive average pool to `pooledSize` (default [2, 10], the identity for that
// input) sits before the flatten, so other clip lengths work too. Written from that description.

import { z } from 'zod';
import { parseSchema } from '../core/errors.js';
import * as F from '../engine/functional.js';
import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import { ReLU } from '../nn/activation.js';
import { Sequential } from '../nn/container.js';
import { Conv2d } from '../nn/conv.js';
import { Dropout } from '../nn/dropout.js';
import { Linear } from '../nn/linear.js';
import { Module } from '../nn/module.js';
import { BatchNorm1d, BatchNorm2d } from '../nn/norm.js';
import { AdaptiveAvgPool2d, Flatten, MaxPool2d } from '../nn/pooling.js';
import { checkInput, inChannelsField, numClassesField, probability } from './common.js';
import { defineModel, type InputSpec, type ModelOutput } from './types.js';

const pos = z.number().int().positive();

export const mfccCnnConfig = z.strictObject({
  inChannels: inChannelsField(1),
  numClasses: numClassesField(41),
  /** Output channels of each conv block (each block halves both axes). */
  channels: z.array(pos).min(1).default([32, 32, 32, 32]),
  /** [coefficients, frames] kernel of every conv. */
  kernelSize: z.tuple([pos, pos]).default([4, 10]),
  /** Grid the last feature map is average-pooled to before the flatten. */
  pooledSize: z.tuple([pos, pos]).default([2, 10]),
  hidden: pos.default(64),
  /** Dropout before the classifier (none in the kernel). */
  dropout: probability.default(0),
  /** Example input: MFCC coefficients and frames. */
  exampleInput: z.tuple([pos, pos]).default([40, 173]),
});

export type MfccCnnConfig = z.output<typeof mfccCnnConfig>;

/**
 * A conv with Keras-style "same" padding, which also works for even kernels: the total k−1 is split
 * with the odd sample at the end (bottom/right), as Keras and PyTorch's padding='same' do.
 */
export class SamePadConv2d extends Conv2d {
  private readonly pads: number[];
  constructor(inC: number, outC: number, kernel: [number, number]) {
    super(inC, outC, kernel, { padding: 0 });
    const [kh, kw] = kernel;
    // F.pad order: [left, right, top, bottom].
    this.pads = [(kw - 1) >> 1, kw - 1 - ((kw - 1) >> 1), (kh - 1) >> 1, kh - 1 - ((kh - 1) >> 1)];
  }
  override forward(x: Tensor): Tensor {
    return E.tidy(() => super.forward(F.pad(x, this.pads)));
  }
}

export class MfccCnn extends Module<[Tensor], ModelOutput> {
  readonly features = new Sequential();
  readonly head = new Sequential();
  readonly config: MfccCnnConfig;
  constructor(config: Partial<MfccCnnConfig> = {}) {
    super();
    const c = parseSchema(mfccCnnConfig, config, 'model "mfcc-cnn": invalid config');
    this.config = c;
    let inC = c.inChannels;
    for (const outC of c.channels) {
      this.features.append(new SamePadConv2d(inC, outC, c.kernelSize));
      this.features.append(new BatchNorm2d(outC));
      this.features.append(new ReLU());
      this.features.append(new MaxPool2d(2));
      inC = outC;
    }
    const [ph, pw] = c.pooledSize;
    this.head.append(new AdaptiveAvgPool2d([ph, pw]));
    this.head.append(new Flatten());
    this.head.append(new Linear(inC * ph * pw, c.hidden));
    this.head.append(new BatchNorm1d(c.hidden));
    this.head.append(new ReLU());
    this.head.append(new Dropout(c.dropout));
    this.head.append(new Linear(c.hidden, c.numClasses));
  }

  get minSide(): number {
    return 2 ** this.config.channels.length;
  }

  forward(x: Tensor): ModelOutput {
    const c = this.config;
    const m = this.minSide;
    checkInput('mfcc-cnn', x, {
      ndim: 4,
      channels: c.inChannels,
      minSizes: [m, m],
      layout: `[B, ${c.inChannels}, coefficients ≥ ${m}, frames ≥ ${m}]`,
    });
    return E.tidy(() => ({ clipwise: this.head.call(this.features.call(x)) }));
  }
}

export const mfccCnnDefinition = defineModel({
  name: 'mfcc-cnn',
  description: 'Freesound 2018 kernel 2-D CNN on MFCCs: 4 × (4×10 conv 32, BN, ReLU, max pool), dense 64',
  configSchema: mfccCnnConfig,
  create: (c) => new MfccCnn(c),
  input: (c): InputSpec => ({
    exampleShape: [c.inChannels, ...c.exampleInput],
    layout: 'channels × MFCC coefficients × frames',
  }),
});
