// conv1d-raw: the 1-D convolutional network on raw waveforms from the Freesound General-Purpose Audio
// Tagging (Kaggle 2018) starter kernel ("Beginner's Guide to Audio Data", Zafar): four blocks of two
// unpadded 1-D convs with ReLU (16, 32, 32, 256 channels; kernels 9, 3, 3, 3), max pooling by 16, 4
// and 4 with dropout 0.1 after the first three, global max pooling, dropout 0.2, then dense layers of
// 64 and 1028 units (the kernel's width, kept) and the classifier. Written from that description; the
// kernel was Keras, here the layers carry PyTorch's default init.

import { z } from 'zod';
import { parseSchema } from '../core/errors.js';
import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import { ReLU } from '../nn/activation.js';
import { Sequential } from '../nn/container.js';
import { Conv1d } from '../nn/conv.js';
import { Dropout } from '../nn/dropout.js';
import { Linear } from '../nn/linear.js';
import { Module } from '../nn/module.js';
import { MaxPool1d } from '../nn/pooling.js';
import { checkInput, inChannelsField, numClassesField, probability } from './common.js';
import { defineModel, type InputSpec, type ModelOutput } from './types.js';

const positiveInts = z.array(z.number().int().positive());

export const conv1dRawConfig = z
  .strictObject({
    inChannels: inChannelsField(1),
    /** 41 in the 2018 challenge. */
    numClasses: numClassesField(41),
    /** Channels of each block (two convs per block). */
    channels: positiveInts.min(1).default([16, 32, 32, 256]),
    /** Kernel size of both convs of each block. */
    kernelSizes: positiveInts.min(1).default([9, 3, 3, 3]),
    /** Max-pooling factor after each block but the last (which is pooled globally). */
    pools: positiveInts.default([16, 4, 4]),
    /** Dropout after each pooled block, and before the dense layers. */
    dropout: z.tuple([probability, probability]).default([0.1, 0.2]),
    /** Widths of the dense layers before the classifier. */
    hidden: z.array(z.number().int().positive()).default([64, 1028]),
    /** Samples of the example input (2 s at 16 kHz in the kernel). */
    exampleLength: z.number().int().positive().default(32000),
  })
  .superRefine((c, ctx) => {
    if (c.kernelSizes.length !== c.channels.length)
      ctx.addIssue({
        code: 'custom',
        path: ['kernelSizes'],
        message: `needs one kernel size per block (${c.channels.length}), got ${c.kernelSizes.length}`,
      });
    if (c.pools.length !== c.channels.length - 1)
      ctx.addIssue({
        code: 'custom',
        path: ['pools'],
        message: `needs one pooling factor per block but the last (${c.channels.length - 1}), got ${c.pools.length}`,
      });
  });

export type Conv1dRawConfig = z.output<typeof conv1dRawConfig>;

export class Conv1dRaw extends Module<[Tensor], ModelOutput> {
  readonly features = new Sequential();
  readonly head = new Sequential();
  readonly config: Conv1dRawConfig;
  /** The shortest input that leaves at least one step for the global max pool. */
  readonly minLength: number;
  constructor(config: Partial<Conv1dRawConfig> = {}) {
    super();
    const c = parseSchema(conv1dRawConfig, config, 'model "conv1d-raw": invalid config');
    this.config = c;
    let inC = c.inChannels;
    c.channels.forEach((outC, i) => {
      const k = c.kernelSizes[i]!;
      this.features.append(new Conv1d(inC, outC, k));
      this.features.append(new ReLU());
      this.features.append(new Conv1d(outC, outC, k));
      this.features.append(new ReLU());
      if (i < c.pools.length) {
        this.features.append(new MaxPool1d(c.pools[i]!));
        this.features.append(new Dropout(c.dropout[0]));
      }
      inC = outC;
    });
    this.head.append(new Dropout(c.dropout[1]));
    for (const h of c.hidden) {
      this.head.append(new Linear(inC, h));
      this.head.append(new ReLU());
      inC = h;
    }
    this.head.append(new Linear(inC, c.numClasses));
    // Walk back from one output step: each unpadded conv eats k−1 samples, each pool multiplies.
    let n = 1;
    for (let i = c.channels.length - 1; i >= 0; i--) {
      if (i < c.pools.length) n *= c.pools[i]!;
      n += 2 * (c.kernelSizes[i]! - 1);
    }
    this.minLength = n;
  }

  forward(x: Tensor): ModelOutput {
    const c = this.config;
    checkInput('conv1d-raw', x, {
      ndim: 3,
      channels: c.inChannels,
      minSizes: [this.minLength],
      layout: `[B, ${c.inChannels}, samples ≥ ${this.minLength}]`,
    });
    return E.tidy(() => {
      const fmap = this.features.call(x);
      return { clipwise: this.head.call(fmap.max(2)) };
    });
  }
}

export const conv1dRawDefinition = defineModel({
  name: 'conv1d-raw',
  description:
    'Freesound 2018 kernel 1-D CNN on raw waveforms: 4 blocks of 2 unpadded convs, global max pool',
  configSchema: conv1dRawConfig,
  create: (c) => new Conv1dRaw(c),
  input: (c): InputSpec => ({
    exampleShape: [c.inChannels, c.exampleLength],
    layout: 'channels × samples (waveform, e.g. 16 kHz)',
  }),
});
