// small-cnn: a compact VGG-style CNN for log-mel spectrograms, sized to train in minutes on a
// 2-core CPU (FSDD, ESC-10, Philharmonia). Blocks of [conv3×3 – BN – ReLU] × convsPerBlock then 2×2
// pooling; the frequency axis is averaged away and the time axis pooled with mean + max (PANNs-style,
// so a short event still dominates a long crop); dropout and one or two linear layers. The last
// Linear is named `classifier` so fine-tuning can swap it by name.

import { z } from 'zod';
import { parseSchema } from '../core/errors.js';
import * as F from '../engine/functional.js';
import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import { ReLU } from '../nn/activation.js';
import { pipe, Sequential } from '../nn/container.js';
import { Conv2d } from '../nn/conv.js';
import { Dropout } from '../nn/dropout.js';
import { Linear } from '../nn/linear.js';
import { Module } from '../nn/module.js';
import { BatchNorm2d } from '../nn/norm.js';
import { defineModel, type InputSpec, type ModelOutput } from './types.js';

export const smallCnnConfig = z.strictObject({
  inChannels: z.number().int().positive().default(1),
  numClasses: z.number().int().positive().default(10),
  /** Output channels of each block; every block halves both spatial axes. */
  channels: z.array(z.number().int().positive()).min(1).default([32, 64, 128, 256]),
  /** Conv–BN–ReLU layers per block (2 = VGG style, 1 = half the compute). */
  convsPerBlock: z.number().int().min(1).max(4).default(2),
  /** Pooling between blocks. */
  pool: z.enum(['max', 'avg']).default('avg'),
  /** Width of a hidden layer before the classifier; 0 = the pooled features go straight to it. */
  hidden: z.number().int().min(0).default(0),
  /** Dropout before the (first) linear layer, and before the classifier when there is a hidden layer. */
  dropout: z.number().min(0).max(1).default(0.3),
});

export type SmallCnnConfig = z.output<typeof smallCnnConfig>;

class SmallBlock extends Module {
  readonly layers = new Sequential();
  constructor(
    inC: number,
    outC: number,
    convs: number,
    private readonly poolKind: 'max' | 'avg',
  ) {
    super();
    for (let i = 0; i < convs; i++) {
      // No conv bias: BatchNorm right after makes it redundant.
      this.layers.append(new Conv2d(i === 0 ? inC : outC, outC, 3, { padding: 1, bias: false }));
      this.layers.append(new BatchNorm2d(outC));
    }
  }
  forward(x: Tensor): Tensor {
    const steps: ((t: Tensor) => Tensor)[] = [];
    const mods = this.layers.children();
    for (let i = 0; i < mods.length; i += 2) {
      steps.push((t) => (mods[i] as Conv2d).call(t));
      steps.push((t) => (mods[i + 1] as BatchNorm2d).call(t).relu());
    }
    // A 1-wide axis is not pooled (a 2-wide kernel would not fit), so short or narrow inputs still run;
    // odd sizes lose their last row or column, as PyTorch's floor mode does.
    steps.push((t) => {
      const kh = t.shape[2]! >= 2 ? 2 : 1;
      const kw = t.shape[3]! >= 2 ? 2 : 1;
      if (kh === 1 && kw === 1) return t.clone();
      const o = { kernelSize: [kh, kw] as [number, number] };
      return this.poolKind === 'max' ? F.maxPool2d(t, o) : F.avgPool2d(t, o);
    });
    return pipe(x, ...steps);
  }
}

export class SmallCnn extends Module<[Tensor], ModelOutput> {
  readonly features = new Sequential();
  readonly head = new Sequential();
  readonly classifier: Linear;
  readonly config: SmallCnnConfig;
  constructor(config: Partial<SmallCnnConfig> = {}) {
    super();
    const c = parseSchema(smallCnnConfig, config, 'model "small-cnn": invalid config');
    this.config = c;
    let inC = c.inChannels;
    for (const outC of c.channels) {
      this.features.append(new SmallBlock(inC, outC, c.convsPerBlock, c.pool));
      inC = outC;
    }
    this.head.append(new Dropout(c.dropout));
    if (c.hidden > 0) {
      this.head.append(new Linear(inC, c.hidden));
      this.head.append(new ReLU());
      this.head.append(new Dropout(c.dropout));
      inC = c.hidden;
    }
    this.classifier = new Linear(inC, c.numClasses);
  }

  forward(x: Tensor): ModelOutput {
    const c = this.config;
    if (x.ndim !== 4 || x.shape[1] !== c.inChannels)
      throw new Error(
        `small-cnn: expected input [B, ${c.inChannels}, mels, frames], got [${x.shape.join(', ')}]`,
      );
    // One scope for the whole pass: only the logits leave it (Sequential frees activations as it goes).
    return E.tidy(() => {
      const fmap = this.features.call(x);
      // Average over frequency, then mean + max over time: [B, C].
      const t = fmap.mean(2);
      const pooled = t.mean(2).add(t.max(2));
      return { clipwise: this.classifier.call(this.head.call(pooled)) };
    });
  }
}

export const smallCnnInput = (c: SmallCnnConfig): InputSpec => ({
  exampleShape: [c.inChannels, 64, 128],
  layout: 'channels × mel bins × frames',
});

export const smallCnnDefinition = defineModel({
  name: 'small-cnn',
  description:
    'compact VGG-style CNN (4 blocks, 32–256 channels, freq-mean + time mean/max pooling) for CPU training',
  configSchema: smallCnnConfig,
  create: (c) => new SmallCnn(c),
  input: smallCnnInput,
});
