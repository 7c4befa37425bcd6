// Weight initialisers, in place, with PyTorch's fan and gain rules (torch.nn.init), drawing from the
// engine's generator. Because the engine is libtorch, the same `manualSeed` and the same sequence of
// initialisers draw the same numbers as PyTorch; test/nn/init.test.ts holds them to PyTorch's weights
// within 1e-6 relative (1e-7 absolute).

import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';

export type Nonlinearity =
  | 'linear'
  | 'conv1d'
  | 'conv2d'
  | 'conv3d'
  | 'conv_transpose1d'
  | 'conv_transpose2d'
  | 'conv_transpose3d'
  | 'sigmoid'
  | 'tanh'
  | 'relu'
  | 'leaky_relu'
  | 'selu';

export type FanMode = 'fan_in' | 'fan_out';

/** The recommended gain for a nonlinearity (torch.nn.init.calculate_gain). `param` is leaky_relu's slope. */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'conv1d':
    case 'conv2d':
    case 'conv3d':
    case 'conv_transpose1d':
    case 'conv_transpose2d':
    case 'conv_transpose3d':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.sqrt(2);
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      throw new Error(`calculateGain: unknown nonlinearity "${nonlinearity as string}"`);
  }
}

/**
 * Fans of a weight shaped [out, in, ...kernel]: fan_in = in × receptive field, fan_out = out × receptive
 * field (torch.nn.init._calculate_fan_in_and_fan_out).
 */
export function calculateFanInAndFanOut(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2)
    throw new Error(`init: fan in and fan out need a tensor of at least 2 dims, got [${shape.join(', ')}]`);
  let receptive = 1;
  for (let i = 2; i < shape.length; i++) receptive *= shape[i]!;
  return { fanIn: shape[1]! * receptive, fanOut: shape[0]! * receptive };
}

function fan(shape: readonly number[], mode: FanMode): number {
  const { fanIn, fanOut } = calculateFanInAndFanOut(shape);
  if (mode === 'fan_in') return fanIn;
  if (mode === 'fan_out') return fanOut;
  throw new Error(`init: mode must be 'fan_in' or 'fan_out', got "${mode as string}"`);
}

// In-place writes into leaves that require grad are only legal with autograd off.
function inPlace(t: Tensor, fn: () => void): Tensor {
  E.noGrad(fn);
  return t;
}

export function uniform_(t: Tensor, a = 0, b = 1): Tensor {
  return inPlace(t, () => t.uniform_(a, b));
}

export function normal_(t: Tensor, mean = 0, std = 1): Tensor {
  return inPlace(t, () => t.normal_(mean, std));
}

export function constant_(t: Tensor, value: number): Tensor {
  return inPlace(t, () => t.fill_(value));
}

export function zeros_(t: Tensor): Tensor {
  return inPlace(t, () => t.zero_());
}

export function ones_(t: Tensor): Tensor {
  return inPlace(t, () => t.fill_(1));
}

/** Glorot uniform: U(−b, b), b = gain·√(6 / (fan_in + fan_out)). */
export function xavierUniform_(t: Tensor, gain = 1): Tensor {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t.shape);
  const std = gain * Math.sqrt(2 / (fanIn + fanOut));
  const a = Math.sqrt(3) * std;
  return uniform_(t, -a, a);
}

/** Glorot normal: N(0, std²), std = gain·√(2 / (fan_in + fan_out)). */
export function xavierNormal_(t: Tensor, gain = 1): Tensor {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t.shape);
  return normal_(t, 0, gain * Math.sqrt(2 / (fanIn + fanOut)));
}

export interface KaimingOptions {
  /** The negative slope of the rectifier after this layer (leaky_relu only); PyTorch's default 0. */
  a?: number;
  mode?: FanMode;
  nonlinearity?: Nonlinearity;
}

/** He uniform: U(−b, b), b = gain·√(3 / fan). PyTorch's defaults: a = 0, fan_in, leaky_relu. */
export function kaimingUniform_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  const gain = calculateGain(opts.nonlinearity ?? 'leaky_relu', opts.a ?? 0);
  const std = gain / Math.sqrt(fan(t.shape, opts.mode ?? 'fan_in'));
  const bound = Math.sqrt(3) * std;
  return uniform_(t, -bound, bound);
}

/** He normal: N(0, std²), std = gain / √fan. */
export function kaimingNormal_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  const gain = calculateGain(opts.nonlinearity ?? 'leaky_relu', opts.a ?? 0);
  return normal_(t, 0, gain / Math.sqrt(fan(t.shape, opts.mode ?? 'fan_in')));
}

/**
 * PyTorch's default for Linear and Conv layers (their `reset_parameters`): kaiming_uniform(a = √5) on the
 * weight, which works out to U(±1/√fan_in), then the bias from U(±1/√fan_in). The order of the two draws
 * matters for matching PyTorch's numbers from the same seed.
 */
export function defaultLayerInit_(weight: Tensor, bias: Tensor | null): void {
  kaimingUniform_(weight, { a: Math.sqrt(5) });
  if (bias) {
    const { fanIn } = calculateFanInAndFanOut(weight.shape);
    const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    uniform_(bias, -bound, bound);
  }
}
