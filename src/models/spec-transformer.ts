// spec-transformer: a small Audio Spectrogram Transformer (after Gong et al. 2021, "AST: Audio
// Spectrogram Transformer", itself ViT (Dosovitskiy et al. 2021) on spectrograms). The spectrogram is
// cut into patches by a strided conv (overlapping when patchStride < patchSize, as AST's 16/10), a
// learned [CLS] token is prepended, learned positional embeddings added, and pre-norm transformer
// encoder layers (multi-head self-attention + GELU MLP) run over the sequence; the final LayerNorm'd
// [CLS] vector goes to a linear head. Sized for CPU training from scratch (no ImageNet weights here).
// The positional embeddings are learned for `inputSize`; another input size gets them bilinearly
// resized to its patch grid (ViT's fine-tuning trick), so any clip length still runs.

import { z } from 'zod';
import { parseSchema } from '../core/errors.js';
import * as F from '../engine/functional.js';
import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import { TransformerEncoderLayer } from '../nn/attention.js';
import { ModuleList } from '../nn/container.js';
import { Conv2d } from '../nn/conv.js';
import { Dropout } from '../nn/dropout.js';
import { constant_, normal_, xavierUniform_ } from '../nn/init.js';
import { Linear } from '../nn/linear.js';
import { Module } from '../nn/module.js';
import { LayerNorm } from '../nn/norm.js';
import { checkInput, inChannelsField, numClassesField, probability } from './common.js';
import { defineModel, type InputSpec, type ModelOutput } from './types.js';

const pos = z.number().int().positive();
const pair = z.tuple([pos, pos]);

export const specTransformerConfig = z
  .strictObject({
    inChannels: inChannelsField(1),
    numClasses: numClassesField(10),
    /** [mel bins, frames] the positional embeddings are learned for. */
    inputSize: pair.default([64, 128]),
    /** Patch [height, width] (AST: 16 × 16). */
    patchSize: pair.default([16, 16]),
    /** Patch stride; smaller than patchSize gives overlapping patches (AST: 10). */
    patchStride: pair.default([16, 16]),
    /** Embedding width. */
    dim: pos.default(192),
    depth: pos.default(6),
    heads: pos.default(3),
    /** MLP width = dim × mlpRatio. */
    mlpRatio: z.number().positive().default(4),
    /** Dropout after the embeddings, in attention and in the MLP. */
    dropout: probability.default(0.1),
  })
  .superRefine((c, ctx) => {
    if (c.dim % c.heads !== 0)
      ctx.addIssue({
        code: 'custom',
        path: ['heads'],
        message: `must divide dim (${c.dim}), got ${c.heads}`,
      });
    for (const i of [0, 1])
      if (c.inputSize[i]! < c.patchSize[i]!)
        ctx.addIssue({
          code: 'custom',
          path: ['inputSize'],
          message: `must be at least patchSize (${c.patchSize}) in each dim, got ${c.inputSize}`,
        });
  });

export type SpecTransformerConfig = z.output<typeof specTransformerConfig>;

const gridSide = (input: number, patch: number, stride: number) => Math.floor((input - patch) / stride) + 1;

export class SpecTransformer extends Module<[Tensor], ModelOutput> {
  declare cls_token: Tensor;
  declare pos_embed: Tensor;
  readonly patch_embed: Conv2d;
  readonly pos_drop: Dropout;
  readonly blocks: ModuleList<TransformerEncoderLayer>;
  readonly norm: LayerNorm;
  readonly head: Linear;
  readonly config: SpecTransformerConfig;
  /** Patch grid [rows, columns] of `inputSize`. */
  readonly grid: [number, number];

  constructor(config: Partial<SpecTransformerConfig> = {}) {
    super();
    const c = parseSchema(specTransformerConfig, config, 'model "spec-transformer": invalid config');
    this.config = c;
    this.grid = [
      gridSide(c.inputSize[0], c.patchSize[0], c.patchStride[0]),
      gridSide(c.inputSize[1], c.patchSize[1], c.patchStride[1]),
    ];
    this.registerParameter('cls_token', E.zeros([1, 1, c.dim]));
    this.registerParameter('pos_embed', E.zeros([1, 1 + this.grid[0] * this.grid[1], c.dim]));
    this.patch_embed = new Conv2d(c.inChannels, c.dim, c.patchSize, { stride: c.patchStride });
    this.pos_drop = new Dropout(c.dropout);
    this.blocks = new ModuleList();
    for (let i = 0; i < c.depth; i++)
      this.blocks.append(
        new TransformerEncoderLayer(c.dim, c.heads, {
          dimFeedforward: Math.round(c.dim * c.mlpRatio),
          dropout: c.dropout,
          activation: 'gelu',
          layerNormEps: 1e-6,
          batchFirst: true,
          normFirst: true,
        }),
      );
    this.norm = new LayerNorm(c.dim, { eps: 1e-6 });
    this.head = new Linear(c.dim, c.numClasses);
    this.initWeights();
  }

  /** ViT's init: small normal embeddings and tokens, Glorot linear layers with zero bias. */
  private initWeights(): void {
    normal_(this.pos_embed, 0, 0.02);
    normal_(this.cls_token, 0, 0.02);
    for (const m of this.modules())
      if (m instanceof Linear) {
        xavierUniform_(m.weight);
        if (m.bias) constant_(m.bias, 0);
      }
    // The patch projection is initialised like a linear layer over the flattened patch.
    const w = this.patch_embed.weight;
    const flat = w.view([w.shape[0]!, -1]);
    xavierUniform_(flat);
    flat.dispose();
  }

  /** Positional embeddings for a [rows, cols] patch grid, resized from the learned grid when it differs. */
  private positions(rows: number, cols: number): Tensor {
    const [gh, gw] = this.grid;
    if (rows === gh && cols === gw) return this.pos_embed;
    return E.tidy(() => {
      const d = this.config.dim;
      const cls = this.pos_embed.narrow(1, 0, 1);
      const patches = this.pos_embed
        .narrow(1, 1, gh * gw)
        .reshape([1, gh, gw, d])
        .permute([0, 3, 1, 2]);
      const resized = F.interpolate(patches, { size: [rows, cols], mode: 'bilinear', alignCorners: false });
      return E.cat([cls, resized.permute([0, 2, 3, 1]).reshape([1, rows * cols, d])], 1);
    });
  }

  forward(x: Tensor): ModelOutput {
    const c = this.config;
    checkInput('spec-transformer', x, {
      ndim: 4,
      channels: c.inChannels,
      minSizes: c.patchSize,
      layout: `[B, ${c.inChannels}, mel bins ≥ ${c.patchSize[0]}, frames ≥ ${c.patchSize[1]}]`,
    });
    return E.tidy(() => {
      const b = x.shape[0]!;
      const p = this.patch_embed.call(x); // [B, dim, rows, cols]
      const [rows, cols] = [p.shape[2]!, p.shape[3]!];
      const tokens = p.flatten(2).transpose(1, 2); // [B, rows·cols, dim]
      let h = E.cat([this.cls_token.expand([b, 1, c.dim]), tokens], 1).add(this.positions(rows, cols));
      h = this.pos_drop.call(h);
      for (const layer of this.blocks) h = layer.call(h);
      const cls = this.norm.call(h).select(1, 0);
      return { clipwise: this.head.call(cls) };
    });
  }
}

export const specTransformerDefinition = defineModel({
  name: 'spec-transformer',
  description:
    'small AST-like transformer: 16×16 patches, [CLS] + learned positions, 6 pre-norm layers of width 192',
  configSchema: specTransformerConfig,
  create: (c) => new SpecTransformer(c),
  input: (c): InputSpec => ({
    exampleShape: [c.inChannels, ...c.inputSize],
    layout: 'channels × mel bins × frames (other sizes: positions resized)',
  }),
});
