// VGG16 with batch normalisation (Simonyan & Zisserman 2015, "configuration D"; BN after every conv as
// in the later BN variants), adapted to spectrograms: any number of input channels, and a global pooling
// head instead of the 7×7×512 flatten and two 4096-wide layers, so any input of at least 32×32 works
// and the head is 0.3 M parameters instead of 120 M. Written from the paper's table 1.

import { z } from 'zod';
import { parseSchema } from '../core/errors.js';
import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import { ReLU } from '../nn/activation.js';
import { Sequential } from '../nn/container.js';
import { Conv2d } from '../nn/conv.js';
import { Dropout } from '../nn/dropout.js';
import { Linear } from '../nn/linear.js';
import { Module } from '../nn/module.js';
import { BatchNorm2d } from '../nn/norm.js';
import { MaxPool2d } from '../nn/pooling.js';
import {
  checkInput,
  globalPool2d,
  globalPoolField,
  inChannelsField,
  initConvNet,
  multiplier,
  numClassesField,
  pooledWidth,
  probability,
} from './common.js';
import { defineModel, type InputSpec, type ModelOutput } from './types.js';

/** Configuration D: conv widths, 'M' = 2×2 max pooling. */
const VGG16: (number | 'M')[] = [
  64,
  64,
  'M',
  128,
  128,
  'M',
  256,
  256,
  256,
  'M',
  512,
  512,
  512,
  'M',
  512,
  512,
  512,
  'M',
];

export const vggConfig = z.strictObject({
  inChannels: inChannelsField(1),
  numClasses: numClassesField(10),
  /** Scales every conv width (0.5 = a quarter of the conv parameters). */
  widthMultiplier: multiplier.default(1),
  /** Global pooling of the last feature map: average, max, or both concatenated. */
  pooling: globalPoolField.default('avg'),
  /** Width of the hidden layer of the head; 0 = the pooled features go straight to the classifier. */
  hidden: z.number().int().min(0).default(512),
  /** Dropout before each linear layer of the head (VGG's classifier used 0.5). */
  dropout: probability.default(0.5),
});

export type VggConfig = z.output<typeof vggConfig>;

export class Vgg16Bn extends Module<[Tensor], ModelOutput> {
  readonly features = new Sequential();
  readonly classifier = new Sequential();
  readonly config: VggConfig;
  constructor(config: Partial<VggConfig> = {}) {
    super();
    const c = parseSchema(vggConfig, config, 'model "vgg16-bn": invalid config');
    this.config = c;
    let inC = c.inChannels;
    for (const v of VGG16) {
      if (v === 'M') {
        this.features.append(new MaxPool2d(2));
        continue;
      }
      const outC = Math.max(1, Math.round(v * c.widthMultiplier));
      // VGG keeps the conv bias even before BN; kept so the feature extractor matches the reference count.
      this.features.append(new Conv2d(inC, outC, 3, { padding: 1 }));
      this.features.append(new BatchNorm2d(outC));
      this.features.append(new ReLU());
      inC = outC;
    }
    let width = pooledWidth(inC, c.pooling);
    if (c.hidden > 0) {
      this.classifier.append(new Dropout(c.dropout));
      this.classifier.append(new Linear(width, c.hidden));
      this.classifier.append(new ReLU());
      width = c.hidden;
    }
    this.classifier.append(new Dropout(c.dropout));
    this.classifier.append(new Linear(width, c.numClasses));
    initConvNet(this);
  }

  forward(x: Tensor): ModelOutput {
    const c = this.config;
    checkInput('vgg16-bn', x, {
      ndim: 4,
      channels: c.inChannels,
      minSizes: [32, 32],
      layout: `[B, ${c.inChannels}, H ≥ 32, W ≥ 32]`,
    });
    return E.tidy(() => {
      const fmap = this.features.call(x);
      return { clipwise: this.classifier.call(globalPool2d(fmap, c.pooling)) };
    });
  }
}

export const vgg16BnDefinition = defineModel({
  name: 'vgg16-bn',
  description: 'VGG16 with BatchNorm (13 conv layers, 5 max pools), global pooling head; any input ≥ 32×32',
  configSchema: vggConfig,
  create: (c) => new Vgg16Bn(c),
  input: (c): InputSpec => ({
    exampleShape: [c.inChannels, 64, 128],
    layout: 'channels × mel bins × frames (H, W ≥ 32)',
  }),
});
