// ResNet-18 and ResNet-34 (He et al. 2016, "Deep Residual Learning for Image Recognition", table 1:
// basic blocks of two 3×3 convs, [2, 2, 2, 2] and [3, 4, 6, 3] blocks per stage, projection shortcuts
// (1×1 conv + BN, "option B") where the shape changes) adapted to spectrograms: any number of input
// channels and a choice of stem. State-dict names follow the usual PyTorch layout (conv1, bn1,
// layer1.0.conv1, layer2.0.downsample.0, fc), so weights move to and from a PyTorch definition.

import { z } from 'zod';
import * as F from '../engine/functional.js';
import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import { Sequential } from '../nn/container.js';
import { Conv2d } from '../nn/conv.js';
import { Dropout } from '../nn/dropout.js';
import { constant_ } from '../nn/init.js';
import { Linear } from '../nn/linear.js';
import { Module } from '../nn/module.js';
import { BatchNorm2d } from '../nn/norm.js';
import {
  checkInput,
  globalPool2d,
  globalPoolField,
  inChannelsField,
  initConvNet,
  numClassesField,
  pooledWidth,
  probability,
} from './common.js';
import { defineModel, type InputSpec, type ModelDefinition, type ModelOutput } from './types.js';

export const resnetConfig = z.strictObject({
  inChannels: inChannelsField(1),
  numClasses: numClassesField(10),
  /**
   * 'imagenet': 7×7 stride-2 conv + 3×3 stride-2 max pool (÷4 before the stages; ÷32 overall).
   * 'cifar': one 3×3 stride-1 conv and no pool (÷8 overall): for small inputs such as 40×40 MFCCs,
   * at 16× the compute of the 'imagenet' stem.
   */
  stem: z.enum(['imagenet', 'cifar']).default('imagenet'),
  /** Channels of the first stage; the others have 2×, 4×, 8× (64 in the paper). */
  baseWidth: z.number().int().min(1).default(64),
  pooling: globalPoolField.default('avg'),
  /** Dropout before the final linear layer (none in the paper). */
  dropout: probability.default(0),
  /** Start each block's last BN at γ = 0, so every residual block begins as the identity. */
  zeroInitResidual: z.boolean().default(false),
});

export type ResnetConfig = z.output<typeof resnetConfig>;

/** Two 3×3 conv–BN layers with a skip connection; `downsample` projects the skip when the shape changes. */
export class BasicBlock extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly downsample: Sequential | null;
  constructor(inC: number, outC: number, stride: number) {
    super();
    this.conv1 = new Conv2d(inC, outC, 3, { stride, padding: 1, bias: false });
    this.bn1 = new BatchNorm2d(outC);
    this.conv2 = new Conv2d(outC, outC, 3, { padding: 1, bias: false });
    this.bn2 = new BatchNorm2d(outC);
    this.downsample =
      stride !== 1 || inC !== outC
        ? new Sequential(new Conv2d(inC, outC, 1, { stride, bias: false }), new BatchNorm2d(outC))
        : null;
  }
  forward(x: Tensor): Tensor {
    return E.tidy(() => {
      const y = this.bn2.call(this.conv2.call(this.bn1.call(this.conv1.call(x)).relu()));
      const skip = this.downsample ? this.downsample.call(x) : x;
      return y.add(skip).relu();
    });
  }
}

export class ResNet extends Module<[Tensor], ModelOutput> {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly layer1: Sequential;
  readonly layer2: Sequential;
  readonly layer3: Sequential;
  readonly layer4: Sequential;
  readonly dropout: Dropout;
  readonly fc: Linear;
  readonly config: ResnetConfig;
  constructor(
    readonly modelName: string,
    readonly blocks: readonly [number, number, number, number],
    config: Partial<ResnetConfig> = {},
  ) {
    super();
    const c = resnetConfig.parse(config);
    this.config = c;
    const w = c.baseWidth;
    this.conv1 =
      c.stem === 'imagenet'
        ? new Conv2d(c.inChannels, w, 7, { stride: 2, padding: 3, bias: false })
        : new Conv2d(c.inChannels, w, 3, { stride: 1, padding: 1, bias: false });
    this.bn1 = new BatchNorm2d(w);
    let inC = w;
    const stage = (outC: number, n: number, stride: number) => {
      const s = new Sequential();
      for (let i = 0; i < n; i++) {
        s.append(new BasicBlock(inC, outC, i === 0 ? stride : 1));
        inC = outC;
      }
      return s;
    };
    this.layer1 = stage(w, blocks[0], 1);
    this.layer2 = stage(2 * w, blocks[1], 2);
    this.layer3 = stage(4 * w, blocks[2], 2);
    this.layer4 = stage(8 * w, blocks[3], 2);
    this.dropout = new Dropout(c.dropout);
    this.fc = new Linear(pooledWidth(inC, c.pooling), c.numClasses);
    initConvNet(this);
    // The classifier keeps PyTorch's default Linear init (as the reference ResNet does).
    this.fc.resetParameters();
    if (c.zeroInitResidual)
      for (const m of this.modules()) if (m instanceof BasicBlock && m.bn2.weight) constant_(m.bn2.weight, 0);
  }

  forward(x: Tensor): ModelOutput {
    const c = this.config;
    checkInput(this.modelName, x, {
      ndim: 4,
      channels: c.inChannels,
      minSizes: [1, 1],
      layout: `[B, ${c.inChannels}, H, W]`,
    });
    return E.tidy(() => {
      let y = this.bn1.call(this.conv1.call(x)).relu();
      if (c.stem === 'imagenet') y = F.maxPool2d(y, { kernelSize: 3, stride: 2, padding: 1 });
      for (const layer of [this.layer1, this.layer2, this.layer3, this.layer4]) y = layer.call(y);
      return { clipwise: this.fc.call(this.dropout.call(globalPool2d(y, c.pooling))) };
    });
  }
}

const inputSpec = (c: ResnetConfig): InputSpec => ({
  exampleShape: [c.inChannels, 64, 128],
  layout: 'channels × mel bins × frames (any size)',
});

export const resnet18Definition = defineModel({
  name: 'resnet18',
  description:
    'ResNet-18 (basic blocks 2-2-2-2, 64-512 channels), 1- or 3-channel spectrograms, stem options',
  configSchema: resnetConfig,
  create: (c) => new ResNet('resnet18', [2, 2, 2, 2], c),
  input: inputSpec,
});

export const resnet34Definition = defineModel({
  name: 'resnet34',
  description:
    'ResNet-34 (basic blocks 3-4-6-3, 64-512 channels), 1- or 3-channel spectrograms, stem options',
  configSchema: resnetConfig,
  create: (c) => new ResNet('resnet34', [3, 4, 6, 3], c),
  input: inputSpec,
});

export const resnetDefinitions: ModelDefinition[] = [
  resnet18Definition as unknown as ModelDefinition,
  resnet34Definition as unknown as ModelDefinition,
];
