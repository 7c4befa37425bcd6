// Pieces shared by the registry's architectures: config fields, input checks, weight init, global
// pooling heads and frame-rate restoration for frame-wise outputs.

import { z } from 'zod';
import * as F from '../engine/functional.js';
import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import { Conv1d, Conv2d } from '../nn/conv.js';
import { constant_, kaimingNormal_, normal_, xavierUniform_ } from '../nn/init.js';
import { Linear } from '../nn/linear.js';
import type { AnyModule } from '../nn/module.js';
import type { ModelOutput } from './types.js';

export const numClassesField = (def: number) => z.number().int().positive().default(def);
/** 1 for a spectrogram, 3 for a spectrogram with its deltas (or repeated), anything else allowed. */
export const inChannelsField = (def = 1) => z.number().int().positive().default(def);
export const probability = z.number().min(0).max(1);
export const multiplier = z.number().positive().max(8);

/** Throws a message naming the model, the expected layout and the shape it got. */
export function checkInput(
  model: string,
  x: Tensor,
  expected: { ndim: number; channels: number; minSizes?: number[]; layout: string },
): void {
  const minSizes = expected.minSizes ?? [];
  const ok =
    x.ndim === expected.ndim &&
    x.shape[1] === expected.channels &&
    minSizes.every((m, i) => x.shape[2 + i]! >= m);
  if (!ok) throw new Error(`${model}: expected input ${expected.layout}, got [${x.shape.join(', ')}]`);
}

/** How a [B, C, H, W] feature map becomes one vector per clip. */
export const globalPoolField = z.enum(['avg', 'max', 'avgmax']);
export type GlobalPool = z.output<typeof globalPoolField>;

/** Global pooling: average, max, or both concatenated (2·C features). */
export function globalPool2d(x: Tensor, kind: GlobalPool): Tensor {
  return E.tidy(() => {
    if (kind === 'avg') return F.adaptiveAvgPool2d(x, 1).flatten(1);
    if (kind === 'max') return F.adaptiveMaxPool2d(x, 1).flatten(1);
    return E.cat([F.adaptiveAvgPool2d(x, 1).flatten(1), F.adaptiveMaxPool2d(x, 1).flatten(1)], 1);
  });
}

/**
 * Forward of an image-style classifier: check a [B, C, H, W] input, run the backbone, average-pool
 * globally and apply the head (MobileNetV2, EfficientNet-B0).
 */
export function pooledImageForward(
  model: string,
  inChannels: number,
  features: { call(x: Tensor): Tensor },
  classifier: { call(x: Tensor): Tensor },
  x: Tensor,
): ModelOutput {
  checkInput(model, x, {
    ndim: 4,
    channels: inChannels,
    minSizes: [1, 1],
    layout: `[B, ${inChannels}, H, W]`,
  });
  return E.tidy(() => ({ clipwise: classifier.call(globalPool2d(features.call(x), 'avg')) }));
}

export const pooledWidth = (channels: number, kind: GlobalPool) => (kind === 'avgmax' ? 2 : 1) * channels;

/** Rounds a channel count to a multiple of `divisor`, never more than 10 % below `v` (MobileNet rule). */
export function makeDivisible(v: number, divisor = 8): number {
  const n = Math.max(divisor, Math.floor((v + divisor / 2) / divisor) * divisor);
  return n < 0.9 * v ? n + divisor : n;
}

/**
 * He-normal (fan_out) conv weights with zero biases, N(0, 0.01) linear weights with zero biases: the
 * usual init of ImageNet CNNs (VGG, ResNet, MobileNet) trained from scratch. BatchNorm keeps 1/0.
 */
export function initConvNet(root: AnyModule, linearStd = 0.01): void {
  for (const m of root.modules()) {
    if (m instanceof Conv2d || m instanceof Conv1d) {
      kaimingNormal_(m.weight, { mode: 'fan_out', nonlinearity: 'relu' });
      if (m.bias) constant_(m.bias, 0);
    } else if (m instanceof Linear) {
      normal_(m.weight, 0, linearStd);
      if (m.bias) constant_(m.bias, 0);
    }
  }
}

/** Glorot-uniform weights and zero biases on every conv and linear layer (PANNs' init). */
export function initXavier(root: AnyModule): void {
  for (const m of root.modules()) {
    if (m instanceof Conv2d || m instanceof Conv1d || m instanceof Linear) {
      xavierUniform_(m.weight);
      if (m.bias) constant_(m.bias, 0);
    }
  }
}

/** Whether frame-wise outputs come at the input's frame rate or at the network's pooled rate. */
export const framewiseResolutionField = z.enum(['input', 'pooled']);

/**
 * [B, T', C] → [B, frames, C] by nearest-neighbour repetition (frame t of the output takes pooled step
 * ⌊t·T'/frames⌋), so frame-wise predictions line up with the input's frames.
 */
export function upsampleFrames(x: Tensor, frames: number): Tensor {
  if (x.shape[1] === frames) return x.clone();
  return E.tidy(() =>
    F.interpolate(x.transpose(1, 2), { size: [frames], mode: 'nearest' })
      .transpose(1, 2)
      .contiguous(),
  );
}
