// GRU and LSTM (multi-layer, bidirectional, batch-first), running libtorch's fused kernels. Parameters
// carry PyTorch's names (weight_ih_l0, weight_hh_l0_reverse, bias_ih_l1, …) and PyTorch's init, so state
// dicts and seeded weights match torch.nn.GRU / torch.nn.LSTM.

import * as F from '../engine/functional.js';
import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import { uniform_ } from './init.js';
import type { DeviceOptions } from './linear.js';
import { Module } from './module.js';

export interface RNNOptions extends DeviceOptions {
  numLayers?: number;
  bias?: boolean;
  /** Input and output as [B, T, F] instead of [T, B, F] (the hidden state stays [layers·dirs, B, H]). */
  batchFirst?: boolean;
  /** Dropout between layers (not after the last), in training only. */
  dropout?: number;
  bidirectional?: boolean;
}

export interface RNNOutput {
  /** [T, B, dirs·H] (or [B, T, dirs·H] with batchFirst): the last layer's hidden state at every step. */
  output: Tensor;
  /** [layers·dirs, B, H]: the final hidden state of each layer and direction. */
  h: Tensor;
  /** LSTM only: the final cell state, [layers·dirs, B, H]. */
  c?: Tensor;
}

abstract class RNNBase<In extends unknown[], Out> extends Module<In, Out> {
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;
  /** Parameter names in libtorch's flat order: per layer, per direction: w_ih, w_hh[, b_ih, b_hh]. */
  protected readonly flatNames: string[] = [];

  constructor(
    readonly inputSize: number,
    readonly hiddenSize: number,
    gates: number,
    opts: RNNOptions,
  ) {
    super();
    this.numLayers = opts.numLayers ?? 1;
    this.bias = opts.bias ?? true;
    this.batchFirst = opts.batchFirst ?? false;
    this.dropout = opts.dropout ?? 0;
    this.bidirectional = opts.bidirectional ?? false;
    if (!Number.isInteger(this.numLayers) || this.numLayers < 1)
      throw new Error(`${new.target.name}: numLayers must be a positive integer, got ${this.numLayers}`);
    if (!(this.dropout >= 0 && this.dropout <= 1))
      throw new Error(`${new.target.name}: dropout must be in [0, 1], got ${this.dropout}`);
    const dirs = this.bidirectional ? 2 : 1;
    const device = opts.device;
    for (let l = 0; l < this.numLayers; l++) {
      for (let d = 0; d < dirs; d++) {
        const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
        const inSize = l === 0 ? inputSize : hiddenSize * dirs;
        const names = [`weight_ih${sfx}`, `weight_hh${sfx}`];
        this.registerParameter(names[0]!, E.zeros([gates * hiddenSize, inSize], { device }));
        this.registerParameter(names[1]!, E.zeros([gates * hiddenSize, hiddenSize], { device }));
        if (this.bias) {
          names.push(`bias_ih${sfx}`, `bias_hh${sfx}`);
          this.registerParameter(names[2]!, E.zeros([gates * hiddenSize], { device }));
          this.registerParameter(names[3]!, E.zeros([gates * hiddenSize], { device }));
        }
        this.flatNames.push(...names);
      }
    }
    this.resetParameters();
  }

  /** PyTorch's RNN init: every parameter from U(±1/√hidden), in registration order. */
  resetParameters(): void {
    const stdv = this.hiddenSize > 0 ? 1 / Math.sqrt(this.hiddenSize) : 0;
    for (const p of this.parameters()) uniform_(p, -stdv, stdv);
  }

  protected flatParams(): Tensor[] {
    const own = new Map(this.namedParameters({ recurse: false }));
    return this.flatNames.map((n) => own.get(n)!);
  }

  protected checkInput(x: Tensor): void {
    const featDim = x.ndim - 1;
    if ((x.ndim !== 3 && x.ndim !== 2) || x.shape[featDim] !== this.inputSize)
      throw new Error(
        `${this.constructor.name}: expected input [${this.batchFirst ? 'B, T' : 'T, B'}, ${this.inputSize}], got [${x.shape.join(', ')}]`,
      );
  }

  protected opts() {
    return {
      numLayers: this.numLayers,
      bidirectional: this.bidirectional,
      batchFirst: this.batchFirst,
      dropout: this.dropout,
      training: this.training,
      hasBiases: this.bias,
    };
  }

  protected override extraRepr(): string {
    return `${this.inputSize}, ${this.hiddenSize}, numLayers=${this.numLayers}, bidirectional=${this.bidirectional}, batchFirst=${this.batchFirst}`;
  }
}

/** A gated recurrent unit network (torch.nn.GRU). `forward(x, h0?)` → { output, h }. */
export class GRU extends RNNBase<[x: Tensor, h0?: Tensor | null], RNNOutput> {
  constructor(inputSize: number, hiddenSize: number, opts: RNNOptions = {}) {
    super(inputSize, hiddenSize, 3, opts);
  }
  forward(x: Tensor, h0: Tensor | null = null): RNNOutput {
    this.checkInput(x);
    const r = F.gru(x, h0, this.flatParams(), this.opts());
    return { output: r.output, h: r.h };
  }
}

/** A long short-term memory network (torch.nn.LSTM). `forward(x, [h0, c0]?)` → { output, h, c }. */
export class LSTM extends RNNBase<[x: Tensor, state?: [Tensor, Tensor] | null], Required<RNNOutput>> {
  constructor(inputSize: number, hiddenSize: number, opts: RNNOptions = {}) {
    super(inputSize, hiddenSize, 4, opts);
  }
  forward(x: Tensor, state: [Tensor, Tensor] | null = null): Required<RNNOutput> {
    this.checkInput(x);
    const r = F.lstm(x, state, this.flatParams(), this.opts());
    if (!r.c) throw new Error('LSTM: the engine returned no cell state');
    return { output: r.output, h: r.h, c: r.c };
  }
}
