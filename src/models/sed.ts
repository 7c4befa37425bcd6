// sed: a PANNs-style sound event detection model (after Kong et al. 2020, "PANNs: Large-Scale Pretrained
// Audio Neural Networks", the decision-level attention variant of CNN10): BatchNorm over each mel bin,
// four conv blocks ([3×3 conv – BN – ReLU] × 2 + 2×2 average pool, 64-512 channels, dropout 0.2), the
// frequency axis averaged away, max + average smoothing over 3 frames, dropout 0.5, a ReLU linear layer
// per frame, dropout 0.5, then attention pooling: per class and frame an attention score `att` and a
// classification `cla` (1×1 convs); frame-wise probability σ(cla), clip-wise probability
// p = Σ_t softmax_t(clamp(att, ±10)) · σ(cla).
//
// Output contract: audiotag models return logits. PANNs returns the probability p; this model returns
// logit(p) = log p − log(1 − p), computed without forming p, from log-sum-exps:
//   log p     = logsumexp_t(log softmax_t(att) + log σ(cla))
//   log (1−p) = logsumexp_t(log softmax_t(att) + log σ(−cla))      (the attention weights sum to 1)
// so σ(clipwise) is exactly PANNs' p, BCE-with-logits on it is PANNs' BCE on p, no clamping is needed
// and gradients never vanish at p → 0 or 1. Frame-wise logits are `cla` (σ(framewise) = PANNs' frame-wise
// output), repeated back to the input's frame rate unless `framewiseResolution` is 'pooled'.

import { z } from 'zod';
import { parseSchema } from '../core/errors.js';
import * as F from '../engine/functional.js';
import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import { ConvBlock } from '../nn/blocks.js';
import { ModuleList } from '../nn/container.js';
import { Conv1d } from '../nn/conv.js';
import { Linear } from '../nn/linear.js';
import { Module } from '../nn/module.js';
import { BatchNorm2d } from '../nn/norm.js';
import {
  checkInput,
  framewiseResolutionField,
  inChannelsField,
  initXavier,
  numClassesField,
  probability,
  upsampleFrames,
} from './common.js';
import { defineModel, type InputSpec, type ModelOutput } from './types.js';

export const sedConfig = z.strictObject({
  inChannels: inChannelsField(1),
  numClasses: numClassesField(10),
  /** Mel bins of the input, for the per-bin input BatchNorm (`bn0`); null = no input normalisation. */
  melBins: z.number().int().positive().nullable().default(64),
  /** Conv block widths (CNN10: 64, 128, 256, 512); each block halves both axes. */
  channels: z.array(z.number().int().positive()).min(1).default([64, 128, 256, 512]),
  /** Dropout after each conv block. */
  blockDropout: probability.default(0.2),
  /** Dropout around the frame-wise linear layer. */
  dropout: probability.default(0.5),
  /** Attention scores are clamped to ±attClamp before the softmax over time. */
  attClamp: z.number().positive().default(10),
  framewiseResolution: framewiseResolutionField.default('input'),
});

export type SedConfig = z.output<typeof sedConfig>;

export class Sed extends Module<[Tensor], ModelOutput> {
  readonly bn0: BatchNorm2d | null;
  readonly blocks = new ModuleList<ConvBlock>();
  readonly fc1: Linear;
  readonly att: Conv1d;
  readonly cla: Conv1d;
  readonly config: SedConfig;
  constructor(config: Partial<SedConfig> = {}) {
    super();
    const c = parseSchema(sedConfig, config, 'model "sed": invalid config');
    this.config = c;
    this.bn0 = c.melBins === null ? null : new BatchNorm2d(c.melBins);
    let inC = c.inChannels;
    for (const outC of c.channels) {
      this.blocks.append(new ConvBlock(inC, outC, false));
      inC = outC;
    }
    this.fc1 = new Linear(inC, inC);
    this.att = new Conv1d(inC, c.numClasses, 1);
    this.cla = new Conv1d(inC, c.numClasses, 1);
    initXavier(this);
  }

  get minSide(): number {
    return 2 ** this.config.channels.length;
  }

  forward(x: Tensor): ModelOutput {
    const c = this.config;
    const m = this.minSide;
    checkInput('sed', x, {
      ndim: 4,
      channels: c.inChannels,
      minSizes: [m, m],
      layout: `[B, ${c.inChannels}, mel bins${c.melBins === null ? ` ≥ ${m}` : ` = ${c.melBins}`}, frames ≥ ${m}]`,
    });
    if (c.melBins !== null && x.shape[2] !== c.melBins)
      throw new Error(
        `sed: the input has ${x.shape[2]} mel bins but the model's melBins is ${c.melBins} (set melBins to match, or null)`,
      );
    return E.tidy(() => {
      // bn0 normalises each mel bin: make the mel axis the channel axis for it.
      let h = this.bn0 ? this.bn0.call(x.transpose(1, 2)).transpose(1, 2) : x;
      for (const block of this.blocks) h = F.dropout(block.call(h), c.blockDropout, this.training);
      let t = h.mean(2); // [B, C, T']
      // Smooth over neighbouring frames: max and mean over 3 frames.
      const o = { kernelSize: 3, stride: 1, padding: 1 };
      t = F.maxPool1d(t, o).add(F.avgPool1d(t, o));
      t = F.dropout(t, c.dropout, this.training);
      t = this.fc1.call(t.transpose(1, 2)).relu().transpose(1, 2);
      t = F.dropout(t, c.dropout, this.training);
      const logAtt = this.att.call(t).clamp(-c.attClamp, c.attClamp).logSoftmax(-1); // [B, K, T']
      const cla = this.cla.call(t); // [B, K, T']
      const logP = logAtt.add(cla.logSigmoid()).logsumexp(-1);
      const logNotP = logAtt.add(cla.neg().logSigmoid()).logsumexp(-1);
      const frames = cla.transpose(1, 2); // [B, T', K]
      const framewise =
        c.framewiseResolution === 'input' ? upsampleFrames(frames, x.shape[3]!) : frames.contiguous();
      return { clipwise: logP.sub(logNotP), framewise };
    });
  }
}

export const sedDefinition = defineModel({
  name: 'sed',
  description:
    'PANNs-style SED: CNN10 backbone + attention pooling; clip-wise logit(p) and frame-wise logits',
  configSchema: sedConfig,
  create: (c) => new Sed(c),
  input: (c): InputSpec => ({
    exampleShape: [c.inChannels, c.melBins ?? 64, 256],
    layout: 'channels × mel bins × frames (frame-wise output: one row per input frame)',
  }),
});
