// crnn: a convolutional recurrent network for tagging and sound event detection (after Cakır et al.
// 2017, "Convolutional Recurrent Neural Networks for Polyphonic Sound Event Detection"): conv blocks
// learn local time-frequency patterns and pool mostly along frequency, the frequency axis is averaged
// away, and a bidirectional GRU models the sequence of frames. One linear classifier gives frame-wise
// logits (each GRU step) and clip-wise logits (the GRU steps pooled over time).

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
import { GRU } from '../nn/rnn.js';
import {
  checkInput,
  framewiseResolutionField,
  inChannelsField,
  numClassesField,
  probability,
  upsampleFrames,
} from './common.js';
import { defineModel, type InputSpec, type ModelOutput } from './types.js';

const pos = z.number().int().positive();

export const crnnConfig = z
  .strictObject({
    inChannels: inChannelsField(1),
    numClasses: numClassesField(10),
    /** Output channels of each conv block. */
    channels: z.array(pos).min(1).default([32, 64, 128]),
    /** Conv–BN–ReLU layers per block. */
    convsPerBlock: z.number().int().min(1).max(4).default(2),
    /** [frequency, time] max-pooling factors after each block; time pooling sets the frame-wise hop. */
    pools: z.array(z.tuple([pos, pos])).default([
      [2, 2],
      [2, 2],
      [2, 1],
    ]),
    rnnHidden: pos.default(128),
    rnnLayers: z.number().int().min(1).max(4).default(1),
    bidirectional: z.boolean().default(true),
    /** Dropout before the GRU (and between GRU layers) and before the classifier. */
    dropout: probability.default(0.3),
    /** How GRU steps become one clip vector: mean, max, or mean + max (summed). */
    clipPooling: z.enum(['mean', 'max', 'meanmax']).default('meanmax'),
    /** 'input': frame-wise logits repeated back to the input's frame count; 'pooled': one per GRU step. */
    framewiseResolution: framewiseResolutionField.default('input'),
  })
  .superRefine((c, ctx) => {
    if (c.pools.length !== c.channels.length)
      ctx.addIssue({
        code: 'custom',
        path: ['pools'],
        message: `needs one [frequency, time] pair per block (${c.channels.length}), got ${c.pools.length}`,
      });
  });

export type CrnnConfig = z.output<typeof crnnConfig>;

export class Crnn extends Module<[Tensor], ModelOutput> {
  readonly features = new Sequential();
  readonly dropout: Dropout;
  readonly gru: GRU;
  readonly classifier: Linear;
  readonly config: CrnnConfig;
  /** The smallest [mel bins, frames] the pooling allows. */
  readonly minSize: [number, number];
  constructor(config: Partial<CrnnConfig> = {}) {
    super();
    const c = parseSchema(crnnConfig, config, 'model "crnn": invalid config');
    this.config = c;
    let inC = c.inChannels;
    let [mf, mt] = [1, 1];
    c.channels.forEach((outC, i) => {
      const block = new Sequential();
      for (let j = 0; j < c.convsPerBlock; j++) {
        block.append(new Conv2d(j === 0 ? inC : outC, outC, 3, { padding: 1, bias: false }));
        block.append(new BatchNorm2d(outC));
        block.append(new ReLU());
      }
      const [pf, pt] = c.pools[i]!;
      block.append(new MaxPool2d([pf, pt]));
      mf *= pf;
      mt *= pt;
      this.features.append(block);
      inC = outC;
    });
    this.minSize = [mf, mt];
    this.dropout = new Dropout(c.dropout);
    this.gru = new GRU(inC, c.rnnHidden, {
      numLayers: c.rnnLayers,
      bidirectional: c.bidirectional,
      batchFirst: true,
      dropout: c.rnnLayers > 1 ? c.dropout : 0,
    });
    this.classifier = new Linear((c.bidirectional ? 2 : 1) * c.rnnHidden, c.numClasses);
  }

  forward(x: Tensor): ModelOutput {
    const c = this.config;
    const [mf, mt] = this.minSize;
    checkInput('crnn', x, {
      ndim: 4,
      channels: c.inChannels,
      minSizes: [mf, mt],
      layout: `[B, ${c.inChannels}, mel bins ≥ ${mf}, frames ≥ ${mt}]`,
    });
    return E.tidy(() => {
      // [B, C, F', T'] → average over frequency → [B, T', C].
      const seq = this.features.call(x).mean(2).transpose(1, 2);
      const h = this.gru.call(this.dropout.call(seq)).output; // [B, T', dirs·H]
      const pooled =
        c.clipPooling === 'mean' ? h.mean(1) : c.clipPooling === 'max' ? h.max(1) : h.mean(1).add(h.max(1));
      const clipwise = this.classifier.call(this.dropout.call(pooled));
      const frames = this.classifier.call(this.dropout.call(h)); // [B, T', classes]
      const framewise = c.framewiseResolution === 'input' ? upsampleFrames(frames, x.shape[3]!) : frames;
      return { clipwise, framewise };
    });
  }
}

export const crnnDefinition = defineModel({
  name: 'crnn',
  description:
    'CRNN: 3 VGG-style conv blocks (32-128) + bidirectional GRU 128; clip-wise and frame-wise logits',
  configSchema: crnnConfig,
  create: (c) => new Crnn(c),
  input: (c): InputSpec => ({
    exampleShape: [c.inChannels, 64, 128],
    layout: 'channels × mel bins × frames (frame-wise output: one row per input frame)',
  }),
});
