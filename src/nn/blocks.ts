// Building blocks of CNNs: CNN-model-1's double conv block, conv–BN–activation, squeeze-and-excitation,
// stochastic depth and the inverted residual (MBConv). Written from the papers: MobileNetV2 (Sandler et
// al. 2018), Squeeze-and-Excitation Networks (Hu et al. 2018), EfficientNet (Tan & Le 2019), Deep
// Networks with Stochastic Depth (Huang et al. 2016).

import * as F from '../engine/functional.js';
import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import { Identity, ReLU, SiLU } from './activation.js';
import { pipe, Sequential, type TensorModule } from './container.js';
import { Conv2d } from './conv.js';
import { Module } from './module.js';
import { BatchNorm2d } from './norm.js';

/** min(max(0, x), 6): MobileNetV2's activation, bounded for low-precision inference. */
export class ReLU6 extends Module {
  forward(x: Tensor): Tensor {
    return F.hardtanh(x, 0, 6);
  }
}

export type BlockActivation = 'relu' | 'relu6' | 'silu' | 'none';

export function activationModule(act: BlockActivation): TensorModule {
  switch (act) {
    case 'relu':
      return new ReLU();
    case 'relu6':
      return new ReLU6();
    case 'silu':
      return new SiLU();
    case 'none':
      return new Identity();
    default:
      throw new Error(`activationModule: unknown activation "${act as string}"`);
  }
}

export interface ConvBNActOptions {
  stride?: number;
  groups?: number;
  act?: BlockActivation;
  bnEps?: number;
  bnMomentum?: number;
}

/**
 * Conv2d (no bias, "same"-style padding (k−1)/2) → BatchNorm2d → activation, as a Sequential so the
 * state-dict names are `0.weight` (conv) and `1.*` (BN), like torch.nn.Sequential(conv, bn, act).
 */
export class ConvBNAct extends Sequential {
  constructor(inC: number, outC: number, kernelSize: number, opts: ConvBNActOptions = {}) {
    super(
      new Conv2d(inC, outC, kernelSize, {
        stride: opts.stride ?? 1,
        padding: (kernelSize - 1) >> 1,
        groups: opts.groups ?? 1,
        bias: false,
      }),
      new BatchNorm2d(outC, { eps: opts.bnEps ?? 1e-5, momentum: opts.bnMomentum ?? 0.1 }),
      activationModule(opts.act ?? 'relu'),
    );
  }
}

/**
 * Squeeze-and-excitation: global average pool → 1×1 conv (`fc1`) → activation → 1×1 conv (`fc2`) →
 * sigmoid, and the input's channels rescaled by the result.
 */
export class SqueezeExcitation extends Module {
  readonly fc1: Conv2d;
  readonly fc2: Conv2d;
  constructor(
    readonly channels: number,
    readonly squeezeChannels: number,
    readonly act: 'relu' | 'silu' = 'relu',
  ) {
    super();
    this.fc1 = new Conv2d(channels, squeezeChannels, 1);
    this.fc2 = new Conv2d(squeezeChannels, channels, 1);
  }
  forward(x: Tensor): Tensor {
    return E.tidy(() => {
      const s = this.fc1.call(F.adaptiveAvgPool2d(x, 1));
      const gate = this.fc2.call(this.act === 'silu' ? s.silu() : s.relu()).sigmoid();
      return x.mul(gate);
    });
  }
}

/**
 * Stochastic depth ("row" mode): in training, zeroes a whole sample's residual branch with probability p
 * and scales the kept ones by 1/(1−p); identity in eval.
 */
export class DropPath extends Module {
  constructor(readonly p = 0) {
    super();
    if (!(p >= 0 && p < 1)) throw new Error(`DropPath: p must be in [0, 1), got ${p}`);
  }
  forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return x;
    return E.tidy(() => {
      const shape = [x.shape[0]!, ...x.shape.slice(1).map(() => 1)];
      const keep = E.bernoulli(E.full(shape, 1 - this.p, { device: x.device })).div(1 - this.p);
      return x.mul(keep);
    });
  }
  protected override extraRepr(): string {
    return `p=${this.p}`;
  }
}

export interface InvertedResidualOptions {
  expandRatio: number;
  kernelSize?: number;
  stride?: number;
  act?: BlockActivation;
  /** Squeeze channels = max(1, ⌊inC · seRatio⌋); 0 = no SE (MobileNetV2). EfficientNet uses 0.25. */
  seRatio?: number;
  /** Stochastic-depth probability of the residual branch (only used when there is a skip connection). */
  dropPath?: number;
  bnEps?: number;
  bnMomentum?: number;
}

/**
 * The inverted residual / MBConv block: 1×1 expansion (skipped when expandRatio is 1) → k×k depthwise
 * conv (stride) → optional SE → 1×1 linear projection (BN, no activation), with a skip connection when
 * stride is 1 and the channel count is unchanged. Layers live in `block` (a Sequential).
 */
export class InvertedResidual extends Module {
  readonly block: Sequential;
  readonly dropPath: DropPath;
  readonly useResidual: boolean;
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    opts: InvertedResidualOptions,
  ) {
    super();
    const stride = opts.stride ?? 1;
    const k = opts.kernelSize ?? 3;
    const act = opts.act ?? 'relu6';
    const bn = { bnEps: opts.bnEps, bnMomentum: opts.bnMomentum };
    if (!(opts.expandRatio >= 1)) throw new Error(`InvertedResidual: expandRatio must be ≥ 1`);
    const hidden = Math.round(inChannels * opts.expandRatio);
    this.useResidual = stride === 1 && inChannels === outChannels;
    this.block = new Sequential();
    if (hidden !== inChannels) this.block.append(new ConvBNAct(inChannels, hidden, 1, { act, ...bn }));
    this.block.append(new ConvBNAct(hidden, hidden, k, { stride, groups: hidden, act, ...bn }));
    const se = opts.seRatio ?? 0;
    if (se > 0) {
      const seAct = act === 'silu' ? 'silu' : 'relu';
      this.block.append(new SqueezeExcitation(hidden, Math.max(1, Math.floor(inChannels * se)), seAct));
    }
    this.block.append(new ConvBNAct(hidden, outChannels, 1, { act: 'none', ...bn }));
    this.dropPath = new DropPath(this.useResidual ? (opts.dropPath ?? 0) : 0);
  }
  forward(x: Tensor): Tensor {
    if (!this.useResidual) return this.block.call(x);
    return E.tidy(() => x.add(this.dropPath.call(this.block.call(x))));
  }
}

/** [conv3×3-BN-ReLU] × 2, then 2×2 average pooling: halves H and W. */
export class ConvBlock extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  constructor(inC: number, outC: number, bias: boolean) {
    super();
    // Construction order = PyTorch's, so a seeded init draws the same numbers.
    this.conv1 = new Conv2d(inC, outC, 3, { padding: 1, bias });
    this.bn1 = new BatchNorm2d(outC);
    this.conv2 = new Conv2d(outC, outC, 3, { padding: 1, bias });
    this.bn2 = new BatchNorm2d(outC);
  }
  forward(x: Tensor): Tensor {
    return pipe(
      x,
      (t) => this.conv1.call(t),
      (t) => this.bn1.call(t),
      (t) => t.relu(),
      (t) => this.conv2.call(t),
      (t) => this.bn2.call(t),
      (t) => t.relu(),
      (t) => F.avgPool2d(t, { kernelSize: 2 }),
    );
  }
}
