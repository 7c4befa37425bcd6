// EfficientNet-B0 (Tan & Le 2019, "EfficientNet: Rethinking Model Scaling for CNNs", table 1): a 3×3
// stride-2 stem of 32 channels, seven stages of MBConv blocks (inverted residuals with squeeze-and-
// excitation at 0.25 of the block's input width, SiLU), a 1×1 conv to 1280 channels, global average
// pooling, dropout 0.2 and the classifier. Stochastic depth grows linearly to `dropPathRate` over the
// blocks; BatchNorm uses the paper's eps 1e-3 and momentum 0.01 (TensorFlow's 0.99 decay). Width and
// depth multipliers give the compound-scaled variants' shapes (e.g. 1.1 / 1.2 for B2, without its
// larger input resolution). Here for spectrograms: any number of input channels.

import { z } from 'zod';
import { parseSchema } from '../core/errors.js';
import type { Tensor } from '../engine/index.js';
import { ConvBNAct, InvertedResidual } from '../nn/blocks.js';
import { Sequential } from '../nn/container.js';
import { Dropout } from '../nn/dropout.js';
import { Linear } from '../nn/linear.js';
import { Module } from '../nn/module.js';
import {
  inChannelsField,
  initConvNet,
  makeDivisible,
  multiplier,
  numClassesField,
  pooledImageForward,
  probability,
} from './common.js';
import { defineModel, type InputSpec, type ModelOutput } from './types.js';

/** [expansion, kernel, first stride, channels, repeats] per stage (the paper's table 1). */
const STAGES: [number, number, number, number, number][] = [
  [1, 3, 1, 16, 1],
  [6, 3, 2, 24, 2],
  [6, 5, 2, 40, 2],
  [6, 3, 2, 80, 3],
  [6, 5, 1, 112, 3],
  [6, 5, 2, 192, 4],
  [6, 3, 1, 320, 1],
];

const BN = { bnEps: 1e-3, bnMomentum: 0.01 };

export const efficientnetConfig = z.strictObject({
  inChannels: inChannelsField(1),
  numClasses: numClassesField(10),
  /** Scales every layer's width (rounded to multiples of 8). */
  widthMultiplier: multiplier.default(1),
  /** Scales the number of blocks per stage (rounded up). */
  depthMultiplier: multiplier.default(1),
  dropout: probability.default(0.2),
  /** Stochastic-depth probability of the last block (0 = off). */
  dropPathRate: z.number().min(0).max(0.9).default(0.2),
});

export type EfficientnetConfig = z.output<typeof efficientnetConfig>;

export class EfficientNet extends Module<[Tensor], ModelOutput> {
  readonly features = new Sequential();
  readonly classifier: Sequential;
  readonly config: EfficientnetConfig;
  constructor(config: Partial<EfficientnetConfig> = {}) {
    super();
    const c = parseSchema(efficientnetConfig, config, 'model "efficientnet-b0": invalid config');
    this.config = c;
    const width = (ch: number) => makeDivisible(ch * c.widthMultiplier);
    const repeats = STAGES.map((s) => Math.ceil(s[4] * c.depthMultiplier));
    const total = repeats.reduce((a, b) => a + b, 0);
    let inC = width(32);
    this.features.append(new ConvBNAct(c.inChannels, inC, 3, { stride: 2, act: 'silu', ...BN }));
    let index = 0;
    STAGES.forEach(([t, k, s, ch], si) => {
      const outC = width(ch);
      const stage = new Sequential();
      for (let i = 0; i < repeats[si]!; i++) {
        stage.append(
          new InvertedResidual(inC, outC, {
            expandRatio: t,
            kernelSize: k,
            stride: i === 0 ? s : 1,
            act: 'silu',
            seRatio: 0.25,
            dropPath: (c.dropPathRate * index) / total,
            ...BN,
          }),
        );
        inC = outC;
        index++;
      }
      this.features.append(stage);
    });
    const last = 4 * width(320);
    this.features.append(new ConvBNAct(inC, last, 1, { act: 'silu', ...BN }));
    this.classifier = new Sequential(new Dropout(c.dropout), new Linear(last, c.numClasses));
    initConvNet(this);
    // The classifier keeps PyTorch's default Linear init.
    (this.classifier.get(1) as Linear).resetParameters();
  }

  forward(x: Tensor): ModelOutput {
    return pooledImageForward('efficientnet-b0', this.config.inChannels, this.features, this.classifier, x);
  }
}

export const efficientnetB0Definition = defineModel({
  name: 'efficientnet-b0',
  description:
    'EfficientNet-B0: 16 MBConv blocks with squeeze-excitation, SiLU, stochastic depth; width/depth multipliers',
  configSchema: efficientnetConfig,
  create: (c) => new EfficientNet(c),
  input: (c): InputSpec => ({
    exampleShape: [c.inChannels, 64, 128],
    layout: 'channels × mel bins × frames (any size; ÷32 overall)',
  }),
});
