// CNN-model-1 (Freesound Audio Tagging 2019, 8th place): a VGG-like stack of four blocks of two 3×3
// conv-BN-ReLU layers and a 2×2 average pool (64, 128, 256, 512 channels), global average and max
// pooling concatenated, and a two-layer head with BatchNorm and dropout. Written from that description.

import { z } from 'zod';
import { parseSchema } from '../core/errors.js';
import * as F from '../engine/functional.js';
import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import { ReLU } from '../nn/activation.js';
import { ConvBlock } from '../nn/blocks.js';
import { Sequential } from '../nn/container.js';
import { Dropout } from '../nn/dropout.js';
import { Linear } from '../nn/linear.js';
import { Module } from '../nn/module.js';
import { BatchNorm1d } from '../nn/norm.js';
import { defineModel, type InputSpec, type ModelOutput } from './types.js';

export const cnnModel1Config = z.strictObject({
  /** Input channels (3 in the original: log-mel and its two deltas, or one spectrogram repeated). */
  inChannels: z.number().int().positive().default(3),
  numClasses: z.number().int().positive().default(80),
  /** Output channels of the four conv blocks. */
  channels: z.array(z.number().int().positive()).min(1).default([64, 128, 256, 512]),
  /** Width of the hidden layer of the head. */
  hidden: z.number().int().positive().default(512),
  /** Dropout before the first and the second linear layer of the head. */
  dropout: z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)]).default([0.25, 0.5]),
  /** Conv bias; off by default, as BatchNorm follows every conv. */
  convBias: z.boolean().default(false),
});

export type CnnModel1Config = z.output<typeof cnnModel1Config>;

export class CnnModel1 extends Module<[Tensor], ModelOutput> {
  readonly features: Sequential;
  readonly head: Sequential;
  readonly config: CnnModel1Config;
  constructor(config: Partial<CnnModel1Config> = {}) {
    super();
    const c = parseSchema(cnnModel1Config, config, 'model "cnn-model-1": invalid config');
    this.config = c;
    this.features = new Sequential();
    let inC = c.inChannels;
    for (const outC of c.channels) {
      this.features.append(new ConvBlock(inC, outC, c.convBias));
      inC = outC;
    }
    this.head = new Sequential(
      new BatchNorm1d(2 * inC),
      new Dropout(c.dropout[0]),
      new Linear(2 * inC, c.hidden),
      new ReLU(),
      new BatchNorm1d(c.hidden),
      new Dropout(c.dropout[1]),
      new Linear(c.hidden, c.numClasses),
    );
  }

  /** The smallest side the input may have: each block halves it. */
  get minSide(): number {
    return 2 ** this.config.channels.length;
  }

  forward(x: Tensor): ModelOutput {
    const c = this.config;
    if (
      x.ndim !== 4 ||
      x.shape[1] !== c.inChannels ||
      x.shape[2]! < this.minSide ||
      x.shape[3]! < this.minSide
    )
      throw new Error(
        `cnn-model-1: expected input [B, ${c.inChannels}, H ≥ ${this.minSide}, W ≥ ${this.minSide}], got [${x.shape.join(', ')}]`,
      );
    const fmap = this.features.call(x);
    // Global average and max pooling, concatenated: [B, 2·C].
    const pooled = E.tidy(() =>
      E.cat([F.adaptiveAvgPool2d(fmap, 1).flatten(1), F.adaptiveMaxPool2d(fmap, 1).flatten(1)], 1),
    );
    fmap.dispose();
    const clipwise = this.head.call(pooled);
    pooled.dispose();
    return { clipwise };
  }
}

export const cnnModel1Input = (c: CnnModel1Config): InputSpec => ({
  exampleShape: [c.inChannels, 128, 128],
  layout: 'channels × mel bins × frames (any H, W ≥ 16)',
});

export const cnnModel1Definition = defineModel({
  name: 'cnn-model-1',
  description: 'Freesound 2019 8th-place VGG-like CNN: 4 conv blocks (64-512), avg+max pooling, 2-layer head',
  configSchema: cnnModel1Config,
  create: (c) => new CnnModel1(c),
  input: cnnModel1Input,
});
