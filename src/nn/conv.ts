// Conv1d and Conv2d, initialised as PyTorch does (torch.nn.modules.conv).

import * as F from '../engine/functional.js';
import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import { defaultLayerInit_ } from './init.js';
import type { DeviceOptions } from './linear.js';
import { Module } from './module.js';

type Pair = number | [number, number];

function pair(v: Pair, what: string): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : v;
  if (p.length !== 2 || !p.every((n) => Number.isInteger(n) && n >= 0))
    throw new Error(`${what} must be a non-negative integer or a pair of them, got ${JSON.stringify(v)}`);
  return p;
}

export interface ConvOptions<P> extends DeviceOptions {
  stride?: P;
  /** A size, or 'same' (stride 1 only; needs an even total padding, i.e. dilation·(kernel−1) even). */
  padding?: P | 'same';
  dilation?: P;
  groups?: number;
  bias?: boolean;
}

function samePadding(kernel: number, dilation: number, name: string): number {
  const total = dilation * (kernel - 1);
  if (total % 2 !== 0)
    throw new Error(`${name}: padding 'same' needs dilation·(kernel−1) even, got kernel ${kernel}`);
  return total / 2;
}

function checkChannels(name: string, inC: number, outC: number, groups: number): void {
  if (!Number.isInteger(groups) || groups < 1 || inC % groups !== 0 || outC % groups !== 0)
    throw new Error(`${name}: groups ${groups} must divide in_channels ${inC} and out_channels ${outC}`);
}

/** 1-D convolution over [B, C, L]. Weight [out, in/groups, k]. */
export class Conv1d extends Module {
  declare weight: Tensor;
  declare bias: Tensor | null;
  readonly stride: number;
  readonly padding: number;
  readonly dilation: number;
  readonly groups: number;
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    opts: ConvOptions<number> = {},
  ) {
    super();
    this.groups = opts.groups ?? 1;
    checkChannels('Conv1d', inChannels, outChannels, this.groups);
    this.stride = opts.stride ?? 1;
    this.dilation = opts.dilation ?? 1;
    if (opts.padding === 'same' && this.stride !== 1)
      throw new Error("Conv1d: padding 'same' needs stride 1");
    this.padding =
      opts.padding === 'same' ? samePadding(kernelSize, this.dilation, 'Conv1d') : (opts.padding ?? 0);
    const device = opts.device;
    this.registerParameter(
      'weight',
      E.zeros([outChannels, inChannels / this.groups, kernelSize], { device }),
    );
    this.registerParameter('bias', opts.bias === false ? null : E.zeros([outChannels], { device }));
    this.resetParameters();
  }
  resetParameters(): void {
    defaultLayerInit_(this.weight, this.bias);
  }
  forward(x: Tensor): Tensor {
    return F.conv1d(x, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      groups: this.groups,
    });
  }
  protected override extraRepr(): string {
    return `${this.inChannels}, ${this.outChannels}, kernel=${this.kernelSize}, stride=${this.stride}, padding=${this.padding}`;
  }
}

/** 2-D convolution over [B, C, H, W]. Weight [out, in/groups, kh, kw]. */
export class Conv2d extends Module {
  declare weight: Tensor;
  declare bias: Tensor | null;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    opts: ConvOptions<Pair> = {},
  ) {
    super();
    this.kernelSize = pair(kernelSize, 'Conv2d kernelSize');
    this.groups = opts.groups ?? 1;
    checkChannels('Conv2d', inChannels, outChannels, this.groups);
    this.stride = pair(opts.stride ?? 1, 'Conv2d stride');
    this.dilation = pair(opts.dilation ?? 1, 'Conv2d dilation');
    if (opts.padding === 'same') {
      if (this.stride[0] !== 1 || this.stride[1] !== 1)
        throw new Error("Conv2d: padding 'same' needs stride 1");
      this.padding = [
        samePadding(this.kernelSize[0], this.dilation[0], 'Conv2d'),
        samePadding(this.kernelSize[1], this.dilation[1], 'Conv2d'),
      ];
    } else this.padding = pair(opts.padding ?? 0, 'Conv2d padding');
    const device = opts.device;
    this.registerParameter(
      'weight',
      E.zeros([outChannels, inChannels / this.groups, ...this.kernelSize], { device }),
    );
    this.registerParameter('bias', opts.bias === false ? null : E.zeros([outChannels], { device }));
    this.resetParameters();
  }
  resetParameters(): void {
    defaultLayerInit_(this.weight, this.bias);
  }
  forward(x: Tensor): Tensor {
    return F.conv2d(x, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      groups: this.groups,
    });
  }
  protected override extraRepr(): string {
    return `${this.inChannels}, ${this.outChannels}, kernel=[${this.kernelSize}], stride=[${this.stride}], padding=[${this.padding}]`;
  }
}
