// Multi-head attention and a transformer encoder layer with PyTorch's parameter names and init
// (torch.nn.MultiheadAttention, torch.nn.TransformerEncoderLayer), so their state dicts load both ways.
// Written from "Attention Is All You Need" (Vaswani et al. 2017) and PyTorch's documented semantics:
// scores = (q / √d_head)·kᵀ, masks where `true` means "may not attend", pre-norm (norm_first) or post-norm.

import * as F from '../engine/functional.js';
import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import { Dropout } from './dropout.js';
import { constant_, xavierUniform_ } from './init.js';
import { type DeviceOptions, Linear } from './linear.js';
import { Module } from './module.js';
import { LayerNorm } from './norm.js';

export interface AttentionMasks {
  /** [L, S] or [B·heads, L, S]: bool (`true` = masked out) or float (added to the scores). */
  attnMask?: Tensor | null;
  /** [B, S] bool: `true` marks padding keys that no query may attend to. */
  keyPaddingMask?: Tensor | null;
}

export interface MultiheadAttentionOptions extends DeviceOptions {
  /** Dropout on the attention weights (training only). */
  dropout?: number;
  bias?: boolean;
  /** Inputs and output as [B, L, E] instead of PyTorch's default [L, B, E]. */
  batchFirst?: boolean;
}

/**
 * Multi-head scaled dot-product attention over query [L, B, E] and key/value [S, B, E] (or batch-first).
 * Parameters: `in_proj_weight` [3E, E], `in_proj_bias` [3E], `out_proj` (Linear E → E), as in PyTorch
 * when query, key and value share the embedding size.
 */
export class MultiheadAttention extends Module<
  [query: Tensor, key?: Tensor, value?: Tensor, masks?: AttentionMasks],
  Tensor
> {
  declare in_proj_weight: Tensor;
  declare in_proj_bias: Tensor | null;
  readonly out_proj: Linear;
  readonly headDim: number;
  readonly dropout: number;
  readonly batchFirst: boolean;

  constructor(
    readonly embedDim: number,
    readonly numHeads: number,
    opts: MultiheadAttentionOptions = {},
  ) {
    super();
    if (!Number.isInteger(numHeads) || numHeads < 1 || embedDim % numHeads !== 0)
      throw new Error(`MultiheadAttention: numHeads ${numHeads} must divide embedDim ${embedDim}`);
    this.headDim = embedDim / numHeads;
    this.dropout = opts.dropout ?? 0;
    if (!(this.dropout >= 0 && this.dropout <= 1))
      throw new Error(`MultiheadAttention: dropout must be in [0, 1], got ${this.dropout}`);
    this.batchFirst = opts.batchFirst ?? false;
    const device = opts.device;
    const bias = opts.bias ?? true;
    this.registerParameter('in_proj_weight', E.zeros([3 * embedDim, embedDim], { device }));
    this.registerParameter('in_proj_bias', bias ? E.zeros([3 * embedDim], { device }) : null);
    // PyTorch builds out_proj (drawing its default init) before initialising in_proj, so the same seed
    // gives the same weights only in this order.
    this.out_proj = new Linear(embedDim, embedDim, { bias, device });
    this.resetParameters();
  }

  resetParameters(): void {
    xavierUniform_(this.in_proj_weight);
    if (this.in_proj_bias) constant_(this.in_proj_bias, 0);
    if (this.out_proj.bias) constant_(this.out_proj.bias, 0);
  }

  forward(query: Tensor, key: Tensor = query, value: Tensor = key, masks: AttentionMasks = {}): Tensor {
    return this.attend(query, key, value, masks, false).output;
  }

  /** Like `forward`, also returning the attention weights averaged over heads: [B, L, S]. */
  forwardWithWeights(
    query: Tensor,
    key: Tensor = query,
    value: Tensor = key,
    masks: AttentionMasks = {},
  ): { output: Tensor; weights: Tensor } {
    const r = this.attend(query, key, value, masks, true);
    return { output: r.output, weights: r.weights! };
  }

  private attend(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    masks: AttentionMasks,
    wantWeights: boolean,
  ): { output: Tensor; weights?: Tensor } {
    const e = this.embedDim;
    for (const [name, t] of [
      ['query', query],
      ['key', key],
      ['value', value],
    ] as const) {
      if (t.ndim !== 3 || t.shape[2] !== e)
        throw new Error(
          `MultiheadAttention: ${name} must be [${this.batchFirst ? 'B, L' : 'L, B'}, ${e}], got [${t.shape.join(', ')}]`,
        );
    }
    return E.tidy(() => {
      // Work batch-first: [B, L, E].
      const q0 = this.batchFirst ? query : query.transpose(0, 1);
      const k0 = this.batchFirst ? key : key.transpose(0, 1);
      const v0 = this.batchFirst ? value : value.transpose(0, 1);
      const [b, l] = [q0.shape[0]!, q0.shape[1]!];
      const s = k0.shape[1]!;
      if (k0.shape[0] !== b || v0.shape[0] !== b || v0.shape[1] !== s)
        throw new Error(
          `MultiheadAttention: query, key and value batch/length disagree: [${query.shape}], [${key.shape}], [${value.shape}]`,
        );
      const w = this.in_proj_weight.chunk(3, 0);
      const bias = this.in_proj_bias ? this.in_proj_bias.chunk(3, 0) : [null, null, null];
      const h = this.numHeads;
      const d = this.headDim;
      // [B, L, E] → [B, H, L, d]
      const heads = (t: Tensor, n: number) => t.reshape([b, n, h, d]).transpose(1, 2);
      const q = heads(F.linear(q0, w[0]!, bias[0]), l).mul(1 / Math.sqrt(d));
      const k = heads(F.linear(k0, w[1]!, bias[1]), s);
      const v = heads(F.linear(v0, w[2]!, bias[2]), s);
      let scores = q.matmul(k.transpose(-2, -1)); // [B, H, L, S]
      scores = this.applyMasks(scores, masks, b, l, s);
      let attn = scores.softmax(-1);
      const weights = wantWeights ? attn.mean(1) : undefined;
      if (this.dropout > 0) attn = F.dropout(attn, this.dropout, this.training);
      const ctx = attn.matmul(v).transpose(1, 2).reshape([b, l, e]);
      const out = this.out_proj.call(ctx);
      return { output: this.batchFirst ? out : out.transpose(0, 1), weights };
    });
  }

  private applyMasks(scores: Tensor, masks: AttentionMasks, b: number, l: number, s: number): Tensor {
    let out = scores;
    const m = masks.attnMask;
    if (m) {
      const ok =
        (m.ndim === 2 && m.shape[0] === l && m.shape[1] === s) ||
        (m.ndim === 3 && m.shape[0] === b * this.numHeads && m.shape[1] === l && m.shape[2] === s);
      if (!ok)
        throw new Error(
          `MultiheadAttention: attnMask must be [${l}, ${s}] or [${b * this.numHeads}, ${l}, ${s}], got [${m.shape.join(', ')}]`,
        );
      const m4 = m.ndim === 2 ? m : m.reshape([b, this.numHeads, l, s]);
      out = m.dtype === 'bool' ? out.maskedFill(m4, Number.NEGATIVE_INFINITY) : out.add(m4);
    }
    const kp = masks.keyPaddingMask;
    if (kp) {
      if (kp.ndim !== 2 || kp.shape[0] !== b || kp.shape[1] !== s || kp.dtype !== 'bool')
        throw new Error(
          `MultiheadAttention: keyPaddingMask must be bool [${b}, ${s}], got ${kp.dtype} [${kp.shape.join(', ')}]`,
        );
      out = out.maskedFill(kp.reshape([b, 1, 1, s]), Number.NEGATIVE_INFINITY);
    }
    return out;
  }

  protected override extraRepr(): string {
    return `embedDim=${this.embedDim}, numHeads=${this.numHeads}, dropout=${this.dropout}, batchFirst=${this.batchFirst}`;
  }
}

export interface TransformerEncoderLayerOptions extends DeviceOptions {
  /** Width of the feed-forward block (PyTorch's default 2048). */
  dimFeedforward?: number;
  dropout?: number;
  activation?: 'relu' | 'gelu';
  layerNormEps?: number;
  batchFirst?: boolean;
  /** Pre-norm (LayerNorm before attention and MLP, as ViT/AST) instead of the original post-norm. */
  normFirst?: boolean;
}

/**
 * Self-attention then a two-layer MLP, each with a residual connection: torch.nn.TransformerEncoderLayer's
 * names (`self_attn`, `linear1`, `linear2`, `norm1`, `norm2`) and semantics.
 */
export class TransformerEncoderLayer extends Module<[x: Tensor, masks?: AttentionMasks], Tensor> {
  readonly self_attn: MultiheadAttention;
  readonly linear1: Linear;
  readonly dropout: Dropout;
  readonly linear2: Linear;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly dropout1: Dropout;
  readonly dropout2: Dropout;
  readonly activation: 'relu' | 'gelu';
  readonly normFirst: boolean;

  constructor(
    readonly dModel: number,
    nHead: number,
    opts: TransformerEncoderLayerOptions = {},
  ) {
    super();
    const p = opts.dropout ?? 0.1;
    const ff = opts.dimFeedforward ?? 2048;
    const eps = opts.layerNormEps ?? 1e-5;
    const device = opts.device;
    // Construction order = PyTorch's, for identical seeded init.
    this.self_attn = new MultiheadAttention(dModel, nHead, {
      dropout: p,
      batchFirst: opts.batchFirst ?? false,
      device,
    });
    this.linear1 = new Linear(dModel, ff, { device });
    this.dropout = new Dropout(p);
    this.linear2 = new Linear(ff, dModel, { device });
    this.norm1 = new LayerNorm(dModel, { eps, device });
    this.norm2 = new LayerNorm(dModel, { eps, device });
    this.dropout1 = new Dropout(p);
    this.dropout2 = new Dropout(p);
    this.activation = opts.activation ?? 'relu';
    this.normFirst = opts.normFirst ?? false;
  }

  private sa(x: Tensor, masks: AttentionMasks): Tensor {
    return this.dropout1.call(this.self_attn.call(x, x, x, masks));
  }

  private ff(x: Tensor): Tensor {
    const hidden = this.linear1.call(x);
    const act = this.activation === 'gelu' ? hidden.gelu() : hidden.relu();
    return this.dropout2.call(this.linear2.call(this.dropout.call(act)));
  }

  forward(x: Tensor, masks: AttentionMasks = {}): Tensor {
    return E.tidy(() => {
      if (this.normFirst) {
        const y = x.add(this.sa(this.norm1.call(x), masks));
        return y.add(this.ff(this.norm2.call(y)));
      }
      const y = this.norm1.call(x.add(this.sa(x, masks)));
      return this.norm2.call(y.add(this.ff(y)));
    });
  }
}
