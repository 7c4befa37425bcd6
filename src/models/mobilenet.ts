// MobileNetV2 (Sandler et al. 2018, "MobileNetV2: Inverted Residuals and Linear Bottlenecks", table 2):
// a 3×3 stride-2 stem of 32 channels, 17 inverted-residual blocks (expansion t, width c, repeats n,
// stride s), a 1×1 conv to 1280 channels, global average pooling, dropout and the classifier; ReLU6
// throughout. The width multiplier scales every layer (rounded to multiples of 8; the last layer never
// shrinks below 1280), as in the paper. Here for spectrograms: any number of input channels.

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

/** [expansion t, channels c, repeats n, first stride s] per stage (the paper's table 2). */
const STAGES: [number, number, number, number][] = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

export const mobilenetV2Config = z.strictObject({
  inChannels: inChannelsField(1),
  numClasses: numClassesField(10),
  /** Scales every layer's width (the paper evaluates 0.35 to 1.4). */
  widthMultiplier: multiplier.default(1),
  dropout: probability.default(0.2),
});

export type MobilenetV2Config = z.output<typeof mobilenetV2Config>;

export class MobileNetV2 extends Module<[Tensor], ModelOutput> {
  readonly features = new Sequential();
  readonly classifier: Sequential;
  readonly config: MobilenetV2Config;
  constructor(config: Partial<MobilenetV2Config> = {}) {
    super();
    const c = parseSchema(mobilenetV2Config, config, 'model "mobilenet-v2": invalid config');
    this.config = c;
    const wm = c.widthMultiplier;
    let inC = makeDivisible(32 * wm);
    const last = makeDivisible(1280 * Math.max(1, wm));
    this.features.append(new ConvBNAct(c.inChannels, inC, 3, { stride: 2, act: 'relu6' }));
    for (const [t, ch, n, s] of STAGES) {
      const outC = makeDivisible(ch * wm);
      for (let i = 0; i < n; i++) {
        this.features.append(
          new InvertedResidual(inC, outC, { expandRatio: t, stride: i === 0 ? s : 1, act: 'relu6' }),
        );
        inC = outC;
      }
    }
    this.features.append(new ConvBNAct(inC, last, 1, { act: 'relu6' }));
    this.classifier = new Sequential(new Dropout(c.dropout), new Linear(last, c.numClasses));
    initConvNet(this);
  }

  forward(x: Tensor): ModelOutput {
    return pooledImageForward('mobilenet-v2', this.config.inChannels, this.features, this.classifier, x);
  }
}

export const mobilenetV2Definition = defineModel({
  name: 'mobilenet-v2',
  description: 'MobileNetV2: 17 inverted residual blocks (ReLU6), width multiplier; compact and fast',
  configSchema: mobilenetV2Config,
  create: (c) => new MobileNetV2(c),
  input: (c): InputSpec => ({
    exampleShape: [c.inChannels, 64, 128],
    layout: 'channels × mel bins × frames (any size; ÷32 overall)',
  }),
});
