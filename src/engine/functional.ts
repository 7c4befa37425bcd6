// nn functional ops and losses (PyTorch's torch.nn.functional, same defaults). Options are checked
// and completed here; native/src/nn.cc calls libtorch with them as they are.
import { checkInt, checkInts, checkShape, type Shape } from './dtype.js';
import { fail } from './errors.js';
import { N } from './native.js';
import { H, HList, optH, type Tensor, wrap } from './tensor.js';

type IntOrPair = number | readonly [number, number] | readonly number[];
/** How a loss reduces its per-element values: their mean, their sum, or none (one value per element). */
export type Reduction = 'mean' | 'sum' | 'none';

/** One int per spatial dim: a number is repeated, a list must have n entries. */
function tuple(op: string, name: string, v: IntOrPair | undefined, n: number, dflt: number): number[] {
  if (v === undefined) return new Array<number>(n).fill(dflt);
  if (typeof v === 'number') return new Array<number>(n).fill(checkInt(op, name, v));
  const list = checkInts(op, name, v);
  if (list.length !== n) fail(op, `${name} needs ${n} values, got [${list.join(', ')}]`);
  return list;
}

function reductionCode(op: string, r: Reduction | undefined): number {
  switch (r ?? 'mean') {
    case 'none':
      return 0;
    case 'mean':
      return 1;
    case 'sum':
      return 2;
    default:
      fail(op, `reduction must be 'mean', 'sum' or 'none', got ${JSON.stringify(r)}`);
  }
}

function prob(op: string, p: number): number {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) fail(op, `p must be in [0, 1], got ${p}`);
  return p;
}

// ---- convolutions

export interface ConvOpts {
  stride?: IntOrPair;
  /** Ints, or 'same' / 'valid' (stride 1 only, as in PyTorch). */
  padding?: IntOrPair | 'same' | 'valid';
  dilation?: IntOrPair;
  groups?: number;
}

function conv(
  op: 'conv1d' | 'conv2d',
  n: number,
  x: Tensor,
  w: Tensor,
  b: Tensor | null | undefined,
  o: ConvOpts,
) {
  const padding =
    o.padding === 'same' || o.padding === 'valid' ? o.padding : tuple(op, 'padding', o.padding, n, 0);
  return wrap(
    N[op](
      H(x, op, 'input'),
      H(w, op, 'weight'),
      optH(b, op, 'bias'),
      tuple(op, 'stride', o.stride, n, 1),
      padding,
      tuple(op, 'dilation', o.dilation, n, 1),
      checkInt(op, 'groups', o.groups ?? 1),
    ),
  );
}

/** x [N, C, L], w [out, C/groups, k]. */
export function conv1d(x: Tensor, w: Tensor, b?: Tensor | null, o: ConvOpts = {}): Tensor {
  return conv('conv1d', 1, x, w, b, o);
}

/** x [N, C, H, W], w [out, C/groups, kh, kw]. */
export function conv2d(x: Tensor, w: Tensor, b?: Tensor | null, o: ConvOpts = {}): Tensor {
  return conv('conv2d', 2, x, w, b, o);
}

export interface ConvTransposeOpts {
  stride?: IntOrPair;
  padding?: IntOrPair;
  outputPadding?: IntOrPair;
  dilation?: IntOrPair;
  groups?: number;
}

function convT(
  op: 'convTranspose1d' | 'convTranspose2d',
  n: number,
  x: Tensor,
  w: Tensor,
  b: Tensor | null | undefined,
  o: ConvTransposeOpts,
) {
  return wrap(
    N[op](
      H(x, op, 'input'),
      H(w, op, 'weight'),
      optH(b, op, 'bias'),
      tuple(op, 'stride', o.stride, n, 1),
      tuple(op, 'padding', o.padding, n, 0),
      tuple(op, 'outputPadding', o.outputPadding, n, 0),
      checkInt(op, 'groups', o.groups ?? 1),
      tuple(op, 'dilation', o.dilation, n, 1),
    ),
  );
}

/** w [C, out/groups, k]. */
export function convTranspose1d(x: Tensor, w: Tensor, b?: Tensor | null, o: ConvTransposeOpts = {}): Tensor {
  return convT('convTranspose1d', 1, x, w, b, o);
}

export function convTranspose2d(x: Tensor, w: Tensor, b?: Tensor | null, o: ConvTransposeOpts = {}): Tensor {
  return convT('convTranspose2d', 2, x, w, b, o);
}

// ---- normalisation and dropout

/**
 * Batch norm over dim 1. training: normalise with the batch statistics and update runningMean and
 * runningVar in place (momentum 0.1, unbiased variance, as PyTorch); eval: use the running stats.
 */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight?: Tensor | null,
  bias?: Tensor | null,
  o: { training?: boolean; momentum?: number; eps?: number } = {},
): Tensor {
  const op = 'batchNorm';
  const training = o.training ?? false;
  if (!training && (runningMean == null || runningVar == null)) {
    fail(op, 'eval mode (training: false) needs runningMean and runningVar');
  }
  return wrap(
    N.batchNorm(
      H(x, op, 'input'),
      optH(runningMean, op, 'runningMean'),
      optH(runningVar, op, 'runningVar'),
      optH(weight, op, 'weight'),
      optH(bias, op, 'bias'),
      training,
      o.momentum ?? 0.1,
      o.eps ?? 1e-5,
    ),
  );
}

/** Normalises over the trailing dims given by normalizedShape. */
export function layerNorm(
  x: Tensor,
  normalizedShape: Shape,
  weight?: Tensor | null,
  bias?: Tensor | null,
  eps = 1e-5,
): Tensor {
  const op = 'layerNorm';
  return wrap(
    N.layerNorm(
      H(x, op, 'input'),
      checkShape(op, normalizedShape),
      optH(weight, op, 'weight'),
      optH(bias, op, 'bias'),
      eps,
    ),
  );
}

export function groupNorm(
  x: Tensor,
  numGroups: number,
  weight?: Tensor | null,
  bias?: Tensor | null,
  eps = 1e-5,
): Tensor {
  const op = 'groupNorm';
  return wrap(
    N.groupNorm(
      H(x, op, 'input'),
      checkInt(op, 'numGroups', numGroups),
      optH(weight, op, 'weight'),
      optH(bias, op, 'bias'),
      eps,
    ),
  );
}

/** Zeroes elements with probability p and scales the rest by 1/(1-p) when training; identity otherwise. */
export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  return wrap(N.dropout(H(x, 'dropout', 'input'), prob('dropout', p), training));
}

/** Zeroes whole channels (dim 1) of [N, C, H, W] input. */
export function dropout2d(x: Tensor, p = 0.5, training = true): Tensor {
  return wrap(N.dropout2d(H(x, 'dropout2d', 'input'), prob('dropout2d', p), training));
}

// ---- pooling

export interface PoolOpts {
  kernelSize: IntOrPair;
  /** Defaults to kernelSize. */
  stride?: IntOrPair;
  padding?: IntOrPair;
  ceilMode?: boolean;
}
export interface MaxPoolOpts extends PoolOpts {
  dilation?: IntOrPair;
}
export interface AvgPoolOpts extends PoolOpts {
  countIncludePad?: boolean;
  divisorOverride?: number;
}

function poolArgs(op: string, n: number, o: PoolOpts) {
  if (typeof o !== 'object' || o === null || o.kernelSize === undefined) fail(op, 'options need kernelSize');
  const k = tuple(op, 'kernelSize', o.kernelSize, n, 1);
  return {
    k,
    s: o.stride === undefined ? k : tuple(op, 'stride', o.stride, n, 1),
    p: tuple(op, 'padding', o.padding, n, 0),
  };
}

export function maxPool1d(x: Tensor, o: MaxPoolOpts): Tensor {
  const { k, s, p } = poolArgs('maxPool1d', 1, o);
  const d = tuple('maxPool1d', 'dilation', o.dilation, 1, 1);
  return wrap(N.maxPool1d(H(x, 'maxPool1d', 'input'), k, s, p, d, o.ceilMode ?? false));
}

export function maxPool2d(x: Tensor, o: MaxPoolOpts): Tensor {
  const { k, s, p } = poolArgs('maxPool2d', 2, o);
  const d = tuple('maxPool2d', 'dilation', o.dilation, 2, 1);
  return wrap(N.maxPool2d(H(x, 'maxPool2d', 'input'), k, s, p, d, o.ceilMode ?? false));
}

export function avgPool1d(x: Tensor, o: AvgPoolOpts): Tensor {
  const { k, s, p } = poolArgs('avgPool1d', 1, o);
  if (o.divisorOverride !== undefined) fail('avgPool1d', 'divisorOverride is only supported by avgPool2d');
  return wrap(
    N.avgPool1d(H(x, 'avgPool1d', 'input'), k, s, p, o.ceilMode ?? false, o.countIncludePad ?? true),
  );
}

export function avgPool2d(x: Tensor, o: AvgPoolOpts): Tensor {
  const { k, s, p } = poolArgs('avgPool2d', 2, o);
  return wrap(
    N.avgPool2d(
      H(x, 'avgPool2d', 'input'),
      k,
      s,
      p,
      o.ceilMode ?? false,
      o.countIncludePad ?? true,
      o.divisorOverride ?? null,
    ),
  );
}

type OutSize = number | readonly (number | null)[];

/** The output size per spatial dim; null keeps the input's size. */
function outSize(op: string, x: Tensor, size: OutSize, n: number): number[] {
  if (typeof size === 'number') return new Array<number>(n).fill(checkInt(op, 'outputSize', size));
  if (!Array.isArray(size) || size.length !== n)
    fail(op, `outputSize needs ${n} values, got ${JSON.stringify(size)}`);
  const shape = x.shape;
  return size.map((v, i) => (v === null ? shape[shape.length - n + i]! : checkInt(op, 'outputSize', v)));
}

export function adaptiveAvgPool1d(x: Tensor, outputSize: OutSize): Tensor {
  const h = H(x, 'adaptiveAvgPool1d', 'input');
  return wrap(N.adaptiveAvgPool1d(h, outSize('adaptiveAvgPool1d', x, outputSize, 1)));
}

export function adaptiveAvgPool2d(x: Tensor, outputSize: OutSize): Tensor {
  const h = H(x, 'adaptiveAvgPool2d', 'input');
  return wrap(N.adaptiveAvgPool2d(h, outSize('adaptiveAvgPool2d', x, outputSize, 2)));
}

/** Values only (no indices). */
export function adaptiveMaxPool1d(x: Tensor, outputSize: OutSize): Tensor {
  const h = H(x, 'adaptiveMaxPool1d', 'input');
  return wrap(N.adaptiveMaxPool1d(h, outSize('adaptiveMaxPool1d', x, outputSize, 1)));
}

export function adaptiveMaxPool2d(x: Tensor, outputSize: OutSize): Tensor {
  const h = H(x, 'adaptiveMaxPool2d', 'input');
  return wrap(N.adaptiveMaxPool2d(h, outSize('adaptiveMaxPool2d', x, outputSize, 2)));
}

// ---- linear, embedding, resampling, padding

/** x [..., in] · w[out, in]ᵀ + b. */
export function linear(x: Tensor, w: Tensor, b?: Tensor | null): Tensor {
  return wrap(N.linear(H(x, 'linear', 'input'), H(w, 'linear', 'weight'), optH(b, 'linear', 'bias')));
}

/** Rows of weight [num, dim] picked by int64/int32 indices; paddingIdx rows get no gradient. */
export function embedding(indices: Tensor, weight: Tensor, o: { paddingIdx?: number } = {}): Tensor {
  const pi = o.paddingIdx === undefined ? -1 : checkInt('embedding', 'paddingIdx', o.paddingIdx);
  return wrap(N.embedding(H(indices, 'embedding', 'indices'), H(weight, 'embedding', 'weight'), pi));
}

export interface InterpolateOpts {
  size?: Shape;
  scaleFactor?: number | number[];
  mode?: 'nearest' | 'linear' | 'bilinear' | 'bicubic' | 'area' | 'nearest-exact';
  alignCorners?: boolean;
}

/** Resizes the spatial dims (everything after [N, C]); give exactly one of size and scaleFactor. */
export function interpolate(x: Tensor, o: InterpolateOpts): Tensor {
  const op = 'interpolate';
  const h = H(x, op, 'input');
  if ((o.size === undefined) === (o.scaleFactor === undefined))
    fail(op, 'give exactly one of size and scaleFactor');
  const spatial = x.ndim - 2;
  if (spatial < 1) fail(op, `input needs [N, C, ...spatial] dims, got [${x.shape.join(', ')}]`);
  let size: number[] | null = null;
  let scale: number[] | null = null;
  if (o.size !== undefined) size = tuple(op, 'size', o.size as number[], spatial, 1);
  else if (typeof o.scaleFactor === 'number') scale = new Array<number>(spatial).fill(o.scaleFactor);
  else {
    scale = o.scaleFactor!;
    if (scale.length !== spatial) fail(op, `scaleFactor needs ${spatial} values`);
  }
  return wrap(N.interpolate(h, size, scale, o.mode ?? 'nearest', o.alignCorners ?? null));
}

/** pads: [left, right] for the last dim, then [top, bottom] for the one before, ... (as F.pad). */
export function pad(
  x: Tensor,
  pads: readonly number[],
  mode: 'constant' | 'reflect' | 'replicate' | 'circular' = 'constant',
  value = 0,
): Tensor {
  const list = checkInts('pad', 'pads', pads);
  if (list.length % 2 !== 0) fail('pad', `pads needs pairs of values, got [${list.join(', ')}]`);
  return wrap(N.pad(H(x, 'pad', 'input'), list, mode, value));
}

// ---- recurrent layers (libtorch's fused torch::gru / torch::lstm)

export interface RnnOpts {
  numLayers?: number;
  bidirectional?: boolean;
  batchFirst?: boolean;
  /** Between layers, when training. */
  dropout?: number;
  training?: boolean;
  hasBiases?: boolean;
}

function rnnArgs(op: string, x: Tensor, params: readonly Tensor[], o: RnnOpts) {
  const numLayers = checkInt(op, 'numLayers', o.numLayers ?? 1);
  const bidirectional = o.bidirectional ?? false;
  const hasBiases = o.hasBiases ?? true;
  const dirs = bidirectional ? 2 : 1;
  const perLayer = hasBiases ? 4 : 2;
  const ps = HList(params, op, 'params');
  if (ps.length !== numLayers * dirs * perLayer) {
    fail(
      op,
      `expected ${numLayers * dirs * perLayer} params (w_ih, w_hh${hasBiases ? ', b_ih, b_hh' : ''} per layer and direction), got ${ps.length}`,
    );
  }
  const xs = x.shape;
  if (xs.length !== 3) fail(op, `input must be 3-D (batched), got shape [${xs.join(', ')}]`);
  const batch = (o.batchFirst ?? false) ? xs[0]! : xs[1]!;
  const hidden = params[1]!.shape[1]!;
  return { ps, numLayers, bidirectional, hasBiases, dirs, batch, hidden };
}

/**
 * A multi-layer GRU. params in PyTorch's flat order: w_ih, w_hh, b_ih, b_hh for layer 0, then its
 * reverse direction (suffix _reverse in PyTorch), then layer 1... hx [layers·dirs, N, hidden] or null (zeros).
 */
export function gru(
  x: Tensor,
  hx: Tensor | null,
  params: readonly Tensor[],
  o: RnnOpts = {},
): { output: Tensor; h: Tensor } {
  const op = 'gru';
  const xh = H(x, op, 'input');
  const a = rnnArgs(op, x, params, o);
  let h0: Tensor | null = null;
  if (hx === null || hx === undefined) {
    h0 = wrap(N.zeros([a.numLayers * a.dirs, a.batch, a.hidden], N.dtype(xh) as number, N.device(xh)));
  }
  try {
    const [out, h] = N.gru(
      xh,
      H(h0 ?? hx, op, 'hx'),
      a.ps,
      a.hasBiases,
      a.numLayers,
      o.dropout ?? 0,
      o.training ?? false,
      a.bidirectional,
      o.batchFirst ?? false,
    );
    return { output: wrap(out), h: wrap(h) };
  } finally {
    h0?.dispose();
  }
}

/** A multi-layer LSTM; hx is [h0, c0] or null (zeros). Same param order as gru. */
export function lstm(
  x: Tensor,
  hx: readonly Tensor[] | null,
  params: readonly Tensor[],
  o: RnnOpts = {},
): { output: Tensor; h: Tensor; c: Tensor } {
  const op = 'lstm';
  const xh = H(x, op, 'input');
  const a = rnnArgs(op, x, params, o);
  let init: Tensor[] = [];
  if (hx === null || hx === undefined) {
    const shape = [a.numLayers * a.dirs, a.batch, a.hidden];
    const dt = N.dtype(xh) as number;
    init = [wrap(N.zeros(shape, dt, N.device(xh))), wrap(N.zeros(shape, dt, N.device(xh)))];
  } else if (!Array.isArray(hx) || hx.length !== 2) {
    fail(op, 'hx must be [h0, c0] or null');
  }
  try {
    const [out, h, c] = N.lstm(
      xh,
      HList(init.length > 0 ? init : hx, op, 'hx'),
      a.ps,
      a.hasBiases,
      a.numLayers,
      o.dropout ?? 0,
      o.training ?? false,
      a.bidirectional,
      o.batchFirst ?? false,
    );
    return { output: wrap(out), h: wrap(h), c: wrap(c) };
  } finally {
    for (const t of init) t.dispose();
  }
}

// ---- activations (also available as Tensor methods)

export const relu = (x: Tensor): Tensor => x.relu();
export const sigmoid = (x: Tensor): Tensor => x.sigmoid();
export const tanh = (x: Tensor): Tensor => x.tanh();
export const silu = (x: Tensor): Tensor => x.silu();
export const gelu = (x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor => x.gelu(approximate);
export const elu = (x: Tensor, alpha = 1): Tensor => x.elu(alpha);
export const leakyRelu = (x: Tensor, slope = 0.01): Tensor => x.leakyRelu(slope);
export const softmax = (x: Tensor, dim: number): Tensor => x.softmax(dim);
export const logSoftmax = (x: Tensor, dim: number): Tensor => x.logSoftmax(dim);

/** PReLU: weight has 1 or C (dim 1) slopes. */
export function prelu(x: Tensor, weight: Tensor): Tensor {
  return wrap(N.prelu(H(x, 'prelu', 'input'), H(weight, 'prelu', 'weight')));
}

export function hardtanh(x: Tensor, min = -1, max = 1): Tensor {
  return wrap(N.hardtanh(H(x, 'hardtanh', 'input'), min, max));
}

// ---- losses

export interface CrossEntropyOpts {
  /** Per-class weights [C]. */
  weight?: Tensor | null;
  /** Mixes the target with the uniform distribution: (1−ε)·target + ε/C. */
  labelSmoothing?: number;
  reduction?: Reduction;
  /** Targets equal to it are skipped (class-index targets only). */
  ignoreIndex?: number;
}

/**
 * Cross entropy of logits [N, C] (or [N, C, ...]) with class indices (int64 or int32 [N]) or class
 * probabilities (float, same shape as logits, e.g. from mixup), with optional label smoothing, as
 * torch.nn.functional.cross_entropy. nn's `crossEntropy` and `CrossEntropyLoss` are this function.
 */
export function crossEntropy(logits: Tensor, target: Tensor, o: CrossEntropyOpts = {}): Tensor {
  const op = 'crossEntropy';
  if (logits.ndim < 1 || target.ndim < 1 || logits.shape[0] !== target.shape[0])
    fail(
      op,
      `logits [${logits.shape.join(', ')}] and target [${target.shape.join(', ')}] must share the batch dim`,
    );
  const soft = target.ndim === logits.ndim;
  if (!soft && target.dtype !== 'int64' && target.dtype !== 'int32')
    fail(op, `class-id targets must be int64, got ${target.dtype}`);
  if (soft && target.shape.some((d, i) => d !== logits.shape[i]))
    fail(op, `soft targets [${target.shape.join(', ')}] must match the logits [${logits.shape.join(', ')}]`);
  const ls = o.labelSmoothing ?? 0;
  if (typeof ls !== 'number' || !(ls >= 0 && ls <= 1))
    fail(op, `labelSmoothing must be in [0, 1], got ${ls}`);
  const hard64 = target.dtype === 'int32' ? target.to('int64') : null;
  try {
    return wrap(
      N.crossEntropy(
        H(logits, op, 'logits'),
        H(hard64 ?? target, op, 'target'),
        optH(o.weight, op, 'weight'),
        reductionCode(op, o.reduction),
        checkInt(op, 'ignoreIndex', o.ignoreIndex ?? -100),
        ls,
      ),
    );
  } finally {
    hard64?.dispose();
  }
}

/** Negative log-likelihood of log-probabilities [N, C] with int64 targets [N]. */
export function nllLoss(
  logp: Tensor,
  target: Tensor,
  o: { weight?: Tensor | null; reduction?: Reduction; ignoreIndex?: number } = {},
): Tensor {
  const op = 'nllLoss';
  return wrap(
    N.nllLoss(
      H(logp, op, 'input'),
      H(target, op, 'target'),
      optH(o.weight, op, 'weight'),
      reductionCode(op, o.reduction),
      checkInt(op, 'ignoreIndex', o.ignoreIndex ?? -100),
    ),
  );
}

/**
 * Sigmoid + binary cross entropy, stable. weight multiplies each element (broadcast); posWeight [C]
 * multiplies the positive term per class.
 */
export function binaryCrossEntropyWithLogits(
  logits: Tensor,
  target: Tensor,
  o: { weight?: Tensor | null; posWeight?: Tensor | null; reduction?: Reduction } = {},
): Tensor {
  const op = 'binaryCrossEntropyWithLogits';
  return wrap(
    N.binaryCrossEntropyWithLogits(
      H(logits, op, 'logits'),
      H(target, op, 'target'),
      optH(o.weight, op, 'weight'),
      optH(o.posWeight, op, 'posWeight'),
      reductionCode(op, o.reduction),
    ),
  );
}

/** Binary cross entropy of probabilities (prefer the logits form: it is stable). */
export function binaryCrossEntropy(
  probs: Tensor,
  target: Tensor,
  o: { weight?: Tensor | null; reduction?: Reduction } = {},
): Tensor {
  const op = 'binaryCrossEntropy';
  return wrap(
    N.binaryCrossEntropy(
      H(probs, op, 'input'),
      H(target, op, 'target'),
      optH(o.weight, op, 'weight'),
      reductionCode(op, o.reduction),
    ),
  );
}

export function mseLoss(a: Tensor, b: Tensor, o: { reduction?: Reduction } = {}): Tensor {
  return wrap(
    N.mseLoss(H(a, 'mseLoss', 'input'), H(b, 'mseLoss', 'target'), reductionCode('mseLoss', o.reduction)),
  );
}

export function l1Loss(a: Tensor, b: Tensor, o: { reduction?: Reduction } = {}): Tensor {
  return wrap(
    N.l1Loss(H(a, 'l1Loss', 'input'), H(b, 'l1Loss', 'target'), reductionCode('l1Loss', o.reduction)),
  );
}

export function smoothL1Loss(a: Tensor, b: Tensor, o: { reduction?: Reduction; beta?: number } = {}): Tensor {
  const op = 'smoothL1Loss';
  return wrap(
    N.smoothL1Loss(H(a, op, 'input'), H(b, op, 'target'), reductionCode(op, o.reduction), o.beta ?? 1),
  );
}

/**
 * KL divergence with input as log-probabilities (as F.kl_div); 'batchmean' divides the sum by the
 * batch size, the mathematically proper mean.
 */
export function klDiv(
  input: Tensor,
  target: Tensor,
  o: { reduction?: Reduction | 'batchmean'; logTarget?: boolean } = {},
): Tensor {
  const op = 'klDiv';
  const hi = H(input, op, 'input');
  const ht = H(target, op, 'target');
  const logTarget = o.logTarget ?? false;
  if (o.reduction === 'batchmean') {
    const sum = wrap(N.klDiv(hi, ht, 2, logTarget));
    try {
      return sum.div(input.shape[0] ?? 1);
    } finally {
      sum.dispose();
    }
  }
  return wrap(N.klDiv(hi, ht, reductionCode(op, o.reduction as Reduction | undefined), logTarget));
}

// ---- spectral (complex values as a trailing dim of 2: [..., re/im])

export interface StftOpts {
  nFft: number;
  /** Default nFft / 4 (floored). */
  hopLength?: number;
  /** Default nFft. */
  winLength?: number;
  /** Default: rectangular (all ones), as torch.stft. */
  window?: Tensor | null;
  center?: boolean;
  padMode?: 'reflect' | 'constant' | 'replicate' | 'circular';
  normalized?: boolean;
  onesided?: boolean;
}

/** torch.stft of x [L] or [B, L] → real [..., freq, frames, 2]. */
export function stft(x: Tensor, o: StftOpts): Tensor {
  const op = 'stft';
  const nFft = checkInt(op, 'nFft', o.nFft);
  return wrap(
    N.stft(
      H(x, op, 'input'),
      nFft,
      o.hopLength ?? Math.floor(nFft / 4),
      o.winLength ?? nFft,
      optH(o.window, op, 'window'),
      o.center ?? true,
      o.padMode ?? 'reflect',
      o.normalized ?? false,
      o.onesided ?? null,
    ),
  );
}

/** torch.istft of real [..., freq, frames, 2] → signal [..., L]. */
export function istft(x: Tensor, o: Omit<StftOpts, 'padMode'> & { length?: number }): Tensor {
  const op = 'istft';
  const nFft = checkInt(op, 'nFft', o.nFft);
  return wrap(
    N.istft(
      H(x, op, 'input'),
      nFft,
      o.hopLength ?? Math.floor(nFft / 4),
      o.winLength ?? nFft,
      optH(o.window, op, 'window'),
      o.center ?? true,
      o.normalized ?? false,
      o.onesided ?? null,
      o.length ?? null,
    ),
  );
}

type FftNorm = 'backward' | 'forward' | 'ortho';

/** Real FFT along dim → real [..., n/2+1, 2] (the complex dim moves to the end). */
export function rfft(x: Tensor, n?: number, dim = -1, norm?: FftNorm): Tensor {
  return wrap(N.rfft(H(x, 'rfft', 'input'), n ?? null, dim, norm ?? null));
}

/** Inverse of rfft: x real [..., m, 2] (dim counts without the trailing 2) → real signal of length n. */
export function irfft(x: Tensor, n?: number, dim = -1, norm?: FftNorm): Tensor {
  return wrap(N.irfft(H(x, 'irfft', 'input'), n ?? null, dim, norm ?? null));
}
