// ONNX emitters for the src/nn layers, in eval mode (dropout and stochastic depth are the identity,
// BatchNorm uses its running statistics). Each takes a value `V` (an ONNX value name plus the shape it
// has for the example input the export traces) and returns the layer's output value. Shapes are
// concrete (the example's); the graph itself keeps batch and time dynamic wherever the ops allow.

import { OptionError } from '../../core/errors.js';
import type { Tensor } from '../../engine/index.js';
import {
  AdaptiveAvgPool1d,
  AdaptiveAvgPool2d,
  AdaptiveMaxPool1d,
  AdaptiveMaxPool2d,
  type AnyModule,
  AvgPool1d,
  AvgPool2d,
  BatchNorm1d,
  BatchNorm2d,
  Conv1d,
  Conv2d,
  Dropout,
  Dropout2d,
  DropPath,
  ELU,
  Flatten,
  GELU,
  GRU,
  Identity,
  InvertedResidual,
  LayerNorm,
  LeakyReLU,
  Linear,
  LSTM,
  MaxPool1d,
  MaxPool2d,
  MultiheadAttention,
  PReLU,
  ReLU,
  ReLU6,
  Sequential,
  Sigmoid,
  SiLU,
  Softmax,
  SqueezeExcitation,
  Tanh,
  TransformerEncoderLayer,
} from '../../nn/index.js';
import { float, type GraphBuilder } from '../onnx-builder.js';

/** An ONNX value and its shape for the traced example input. */
export interface V {
  name: string;
  shape: number[];
}

/** Why a model cannot be exported; `option` names the export option at fault (`frontend`, `folds`), if one. */
export class ExportError extends OptionError {
  override name = 'ExportError';
  constructor(message: string, option = '') {
    super(option, message);
  }
}

export function data(t: Tensor): Float32Array {
  return t.toFloat32Array();
}

function norm(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

// ---- elementwise and shape helpers ----------------------------------------------------------------

export const relu = (g: GraphBuilder, x: V): V => ({ name: g.op('Relu', [x.name]), shape: x.shape });
export const sigmoid = (g: GraphBuilder, x: V): V => ({ name: g.op('Sigmoid', [x.name]), shape: x.shape });

export function silu(g: GraphBuilder, x: V): V {
  return { name: g.op('Mul', [x.name, g.op('Sigmoid', [x.name])]), shape: x.shape };
}

/** torch's exact GELU: 0.5·x·(1 + erf(x/√2)) (opset 17 has no Gelu op). */
export function gelu(g: GraphBuilder, x: V): V {
  const e = g.op('Erf', [g.op('Mul', [x.name, g.scalar(Math.SQRT1_2)])]);
  const y = g.op('Mul', [g.op('Mul', [x.name, g.scalar(0.5)]), g.op('Add', [e, g.scalar(1)])]);
  return { name: y, shape: x.shape };
}

export function clip(g: GraphBuilder, x: V, lo: number, hi: number): V {
  return { name: g.op('Clip', [x.name, g.scalar(lo), g.scalar(hi)]), shape: x.shape };
}

export function binary(g: GraphBuilder, op: 'Add' | 'Sub' | 'Mul' | 'Div', a: V, b: V): V {
  const rank = Math.max(a.shape.length, b.shape.length);
  const pa = [...Array(rank - a.shape.length).fill(1), ...a.shape];
  const pb = [...Array(rank - b.shape.length).fill(1), ...b.shape];
  return { name: g.op(op, [a.name, b.name]), shape: pa.map((d, i) => Math.max(d, pb[i]!)) };
}

export function reduce(
  g: GraphBuilder,
  op: 'ReduceMean' | 'ReduceMax' | 'ReduceLogSumExp' | 'ReduceSum',
  x: V,
  axes: number[],
  keepdims = false,
): V {
  const ax = axes.map((a) => norm(a, x.shape.length));
  // Opset 17: ReduceSum takes axes as an input, the others as an attribute.
  const name =
    op === 'ReduceSum'
      ? g.op(op, [x.name, g.ints(ax)], { keepdims: keepdims ? 1 : 0 })
      : g.op(op, [x.name], { axes: ax, keepdims: keepdims ? 1 : 0 });
  const shape = keepdims
    ? x.shape.map((d, i) => (ax.includes(i) ? 1 : d))
    : x.shape.filter((_, i) => !ax.includes(i));
  return { name, shape };
}

export function transpose(g: GraphBuilder, x: V, perm: number[]): V {
  return { name: g.op('Transpose', [x.name], { perm }), shape: perm.map((p) => x.shape[p]!) };
}

/** Reshape with ONNX semantics (0 copies the input's dim, −1 infers); `shape` is the example's result. */
export function reshape(g: GraphBuilder, x: V, spec: number[], shape: number[]): V {
  return { name: g.op('Reshape', [x.name, g.ints(spec)]), shape };
}

export function flatten(g: GraphBuilder, x: V, axis = 1): V {
  const a = norm(axis, x.shape.length);
  const inner = x.shape.slice(a).reduce((p, d) => p * d, 1);
  return { name: g.op('Flatten', [x.name], { axis: a }), shape: [...x.shape.slice(0, a), inner] };
}

export function concat(g: GraphBuilder, xs: V[], axis: number): V {
  const a = norm(axis, xs[0]!.shape.length);
  const shape = [...xs[0]!.shape];
  shape[a] = xs.reduce((s, x) => s + x.shape[a]!, 0);
  return {
    name: g.op(
      'Concat',
      xs.map((x) => x.name),
      { axis: a },
    ),
    shape,
  };
}

/** x[..., start:end, ...] along `axis` (static bounds). */
export function slice(g: GraphBuilder, x: V, axis: number, start: number, end: number): V {
  const a = norm(axis, x.shape.length);
  const shape = [...x.shape];
  shape[a] = end - start;
  return { name: g.op('Slice', [x.name, g.ints([start]), g.ints([end]), g.ints([a])]), shape };
}

// ---- layers ---------------------------------------------------------------------------------------

export function linear(g: GraphBuilder, m: Linear, x: V): V {
  const out = m.outFeatures;
  const b = m.bias ? g.weight('bias', data(m.bias), [out]) : null;
  if (x.shape.length === 2) {
    const w = g.weight('weight', data(m.weight), [m.outFeatures, m.inFeatures]);
    const name = g.op('Gemm', b ? [x.name, w, b] : [x.name, w], { transB: 1 });
    return { name, shape: [x.shape[0]!, out] };
  }
  // MatMul against Wᵀ (stored transposed, so no Transpose node).
  const wt = new Float32Array(m.inFeatures * out);
  const src = data(m.weight);
  for (let o = 0; o < out; o++)
    for (let i = 0; i < m.inFeatures; i++) wt[i * out + o] = src[o * m.inFeatures + i]!;
  const wT = g.weight('weightT', wt, [m.inFeatures, out]);
  let name = g.op('MatMul', [x.name, wT]);
  if (b) name = g.op('Add', [name, b]);
  return { name, shape: [...x.shape.slice(0, -1), out] };
}

function convOut(n: number, k: number, s: number, p: number, d: number): number {
  return Math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1;
}

export function conv2d(g: GraphBuilder, m: Conv2d, x: V, extraPads?: number[]): V {
  const [kh, kw] = m.kernelSize;
  const w = g.weight('weight', data(m.weight), [m.outChannels, m.inChannels / m.groups, kh, kw]);
  const inputs = [x.name, w];
  if (m.bias) inputs.push(g.weight('bias', data(m.bias), [m.outChannels]));
  // ONNX pads: [top, left, bottom, right].
  const pads = extraPads ?? [m.padding[0], m.padding[1], m.padding[0], m.padding[1]];
  const name = g.op('Conv', inputs, {
    kernel_shape: [kh, kw],
    strides: m.stride,
    pads,
    dilations: m.dilation,
    group: m.groups,
  });
  const [, , h, wd] = x.shape as [number, number, number, number];
  const oh = Math.floor((h + pads[0]! + pads[2]! - m.dilation[0] * (kh - 1) - 1) / m.stride[0]) + 1;
  const ow = Math.floor((wd + pads[1]! + pads[3]! - m.dilation[1] * (kw - 1) - 1) / m.stride[1]) + 1;
  return { name, shape: [x.shape[0]!, m.outChannels, oh, ow] };
}

export function conv1d(g: GraphBuilder, m: Conv1d, x: V): V {
  const w = g.weight('weight', data(m.weight), [m.outChannels, m.inChannels / m.groups, m.kernelSize]);
  const inputs = [x.name, w];
  if (m.bias) inputs.push(g.weight('bias', data(m.bias), [m.outChannels]));
  const name = g.op('Conv', inputs, {
    kernel_shape: [m.kernelSize],
    strides: [m.stride],
    pads: [m.padding, m.padding],
    dilations: [m.dilation],
    group: m.groups,
  });
  const l = convOut(x.shape[2]!, m.kernelSize, m.stride, m.padding, m.dilation);
  return { name, shape: [x.shape[0]!, m.outChannels, l] };
}

/** Eval-mode BatchNorm as scale·x + shift per channel, folded in float64 from the running statistics. */
export function bnAffine(m: BatchNorm1d | BatchNorm2d): { scale: Float32Array; shift: Float32Array } {
  const c = m.numFeatures;
  if (!m.running_mean || !m.running_var)
    throw new ExportError(`${m.constructor.name}: no running statistics (trackRunningStats false) to export`);
  const mean = data(m.running_mean);
  const variance = data(m.running_var);
  const w = m.weight ? data(m.weight) : new Float32Array(c).fill(1);
  const b = m.bias ? data(m.bias) : new Float32Array(c);
  const scale = new Float32Array(c);
  const shift = new Float32Array(c);
  for (let i = 0; i < c; i++) {
    const s = w[i]! / Math.sqrt(variance[i]! + m.eps);
    scale[i] = s;
    shift[i] = b[i]! - mean[i]! * s;
  }
  return { scale, shift };
}

/** BatchNorm over `axis` of x (1 for the usual channels; any axis, e.g. PANNs' per-mel-bin bn0). */
export function batchNorm(g: GraphBuilder, m: BatchNorm1d | BatchNorm2d, x: V, axis = 1): V {
  if (x.shape.length === 4 && axis === 1 && m.running_mean && m.running_var) {
    const c = m.numFeatures;
    const inputs = [
      x.name,
      g.weight('scale', m.weight ? data(m.weight) : new Float32Array(c).fill(1), [c]),
      g.weight('bias', m.bias ? data(m.bias) : new Float32Array(c), [c]),
      g.weight('mean', data(m.running_mean), [c]),
      g.weight('var', data(m.running_var), [c]),
    ];
    return { name: g.op('BatchNormalization', inputs, { epsilon: float(m.eps) }), shape: x.shape };
  }
  const { scale, shift } = bnAffine(m);
  const a = norm(axis, x.shape.length);
  const dims = x.shape.map((_, i) => (i === a ? m.numFeatures : 1)).slice(1);
  const y = g.op('Mul', [x.name, g.weight('bn_scale', scale, dims)]);
  return { name: g.op('Add', [y, g.weight('bn_shift', shift, dims)]), shape: x.shape };
}

export function layerNorm(g: GraphBuilder, m: LayerNorm, x: V): V {
  const shape = m.normalizedShape;
  const n = shape.reduce((a, b) => a * b, 1);
  const w = m.weight ? data(m.weight) : new Float32Array(n).fill(1);
  const inputs = [x.name, g.weight('weight', w, shape)];
  if (m.bias) inputs.push(g.weight('bias', data(m.bias), shape));
  const name = g.op('LayerNormalization', inputs, {
    axis: -shape.length,
    epsilon: float(m.opts.eps ?? 1e-5),
  });
  return { name, shape: x.shape };
}

type PoolSize = number | [number, number];
const pair = (v: PoolSize, n: number): number[] => (typeof v === 'number' ? Array(n).fill(v) : [...v]);

export function pool(
  g: GraphBuilder,
  kind: 'max' | 'avg',
  x: V,
  o: { kernelSize: PoolSize; stride?: PoolSize; padding?: PoolSize; ceilMode?: boolean },
): V {
  const n = x.shape.length - 2;
  const k = pair(o.kernelSize, n);
  const s = pair(o.stride ?? o.kernelSize, n);
  const p = pair(o.padding ?? 0, n);
  const ceil = o.ceilMode ?? false;
  if (ceil)
    throw new ExportError('pooling with ceilMode: PyTorch and ONNX place the last window differently');
  const attrs = { kernel_shape: k, strides: s, pads: [...p, ...p] };
  const name =
    kind === 'max'
      ? g.op('MaxPool', [x.name], attrs)
      : g.op('AveragePool', [x.name], { ...attrs, count_include_pad: 1 });
  const spatial = x.shape.slice(2).map((d, i) => convOut(d, k[i]!, s[i]!, p[i]!, 1));
  return { name, shape: [...x.shape.slice(0, 2), ...spatial] };
}

/**
 * Adaptive pooling over the spatial dims to `size`: global ops for 1, else PyTorch's bins
 * [⌊i·n/out⌋, ⌈(i+1)·n/out⌉) from the example's static size, one Slice + reduction per bin.
 */
export function adaptivePool(g: GraphBuilder, kind: 'max' | 'avg', x: V, size: PoolSize): V {
  const n = x.shape.length - 2;
  const out = pair(size, n);
  if (out.every((o) => o === 1)) {
    const name = g.op(kind === 'max' ? 'GlobalMaxPool' : 'GlobalAveragePool', [x.name]);
    return { name, shape: [...x.shape.slice(0, 2), ...out] };
  }
  let y = x;
  for (let d = 0; d < n; d++) {
    const axis = 2 + d;
    const len = y.shape[axis]!;
    const o = out[d]!;
    if (o === len) continue;
    const bins: V[] = [];
    for (let i = 0; i < o; i++) {
      const start = Math.floor((i * len) / o);
      const end = Math.ceil(((i + 1) * len) / o);
      bins.push(
        reduce(g, kind === 'max' ? 'ReduceMax' : 'ReduceMean', slice(g, y, axis, start, end), [axis], true),
      );
    }
    y = concat(g, bins, axis);
  }
  return y;
}

// ---- recurrent layers -----------------------------------------------------------------------------

/** Rows of a [gates·H, …] matrix reordered from PyTorch's gate order to ONNX's. */
function reorderGates(src: Float32Array, hidden: number, cols: number, order: number[]): Float32Array {
  const out = new Float32Array(src.length);
  const block = hidden * cols;
  order.forEach((from, to) => {
    out.set(src.subarray(from * block, (from + 1) * block), to * block);
  });
  return out;
}

/**
 * GRU / LSTM, batch-first or not, any layers and directions, as one ONNX GRU/LSTM node per layer.
 * PyTorch gates: GRU r,z,n; LSTM i,f,g,o. ONNX: GRU z,r,h (linear_before_reset = 1 is PyTorch's
 * formula); LSTM i,o,f,c. Returns the output sequence in the module's layout [B, T, dirs·H].
 */
export function rnn(g: GraphBuilder, m: GRU | LSTM, x: V): V {
  const isGru = m instanceof GRU;
  const gates = isGru ? 3 : 4;
  const order = isGru ? [1, 0, 2] : [0, 3, 1, 2];
  const h = m.hiddenSize;
  const dirs = m.bidirectional ? 2 : 1;
  const params = new Map(m.namedParameters({ recurse: false }));
  // ONNX takes [T, B, F].
  let seq = m.batchFirst ? transpose(g, x, [1, 0, 2]) : x;
  const [t, b] = [seq.shape[0]!, seq.shape[1]!];
  for (let l = 0; l < m.numLayers; l++) {
    const inSize = seq.shape[2]!;
    const W = new Float32Array(dirs * gates * h * inSize);
    const R = new Float32Array(dirs * gates * h * h);
    const B = new Float32Array(dirs * 2 * gates * h);
    for (let d = 0; d < dirs; d++) {
      const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
      W.set(reorderGates(data(params.get(`weight_ih${sfx}`)!), h, inSize, order), d * gates * h * inSize);
      R.set(reorderGates(data(params.get(`weight_hh${sfx}`)!), h, h, order), d * gates * h * h);
      if (m.bias) {
        B.set(reorderGates(data(params.get(`bias_ih${sfx}`)!), h, 1, order), d * 2 * gates * h);
        B.set(reorderGates(data(params.get(`bias_hh${sfx}`)!), h, 1, order), d * 2 * gates * h + gates * h);
      }
    }
    const inputs = [
      seq.name,
      g.weight('W', W, [dirs, gates * h, inSize]),
      g.weight('R', R, [dirs, gates * h, h]),
      g.weight('B', B, [dirs, 2 * gates * h]),
    ];
    const attrs: Record<string, number | string> = {
      hidden_size: h,
      direction: dirs === 2 ? 'bidirectional' : 'forward',
    };
    if (isGru) attrs.linear_before_reset = 1;
    const [y] = g.opN(isGru ? 'GRU' : 'LSTM', inputs, 1, attrs);
    // Y: [T, dirs, B, H] → [T, B, dirs, H] → [T, B, dirs·H].
    const yt = transpose(g, { name: y!, shape: [t, dirs, b, h] }, [0, 2, 1, 3]);
    seq = reshape(g, yt, [0, 0, dirs * h], [t, b, dirs * h]);
  }
  return m.batchFirst ? transpose(g, seq, [1, 0, 2]) : seq;
}

// ---- attention ------------------------------------------------------------------------------------

/** Self-attention of a batch-first [B, L, E] sequence (no masks). */
export function selfAttention(g: GraphBuilder, m: MultiheadAttention, x: V): V {
  if (m.training) throw new ExportError('MultiheadAttention: export needs eval mode');
  const e = m.embedDim;
  const heads = m.numHeads;
  const d = m.headDim;
  const seq = m.batchFirst ? x : transpose(g, x, [1, 0, 2]);
  const [b, l] = [seq.shape[0]!, seq.shape[1]!];
  const w = data(m.in_proj_weight);
  const bias = m.in_proj_bias ? data(m.in_proj_bias) : null;
  const proj = (i: number, scale: number): V => {
    const wi = new Float32Array(e * e);
    // Wᵢᵀ so that x·Wᵢᵀ is one MatMul; the 1/√d of the query folded into its weights and bias.
    for (let o = 0; o < e; o++) for (let c = 0; c < e; c++) wi[c * e + o] = w[(i * e + o) * e + c]! * scale;
    let y = g.op('MatMul', [seq.name, g.weight('in_proj', wi, [e, e])]);
    if (bias) {
      const bi = bias.slice(i * e, (i + 1) * e).map((v) => v * scale);
      y = g.op('Add', [y, g.weight('in_bias', bi, [e])]);
    }
    // [B, L, E] → [B, L, H, d] → [B, H, L, d]
    const r = reshape(g, { name: y, shape: [b, l, e] }, [0, 0, heads, d], [b, l, heads, d]);
    return transpose(g, r, [0, 2, 1, 3]);
  };
  const q = proj(0, 1 / Math.sqrt(d));
  const k = proj(1, 1);
  const v = proj(2, 1);
  const kt = transpose(g, k, [0, 1, 3, 2]);
  const scores = g.op('MatMul', [q.name, kt.name]);
  const attn = g.op('Softmax', [scores], { axis: -1 });
  const ctx = transpose(g, { name: g.op('MatMul', [attn, v.name]), shape: [b, heads, l, d] }, [0, 2, 1, 3]);
  const flat = reshape(g, ctx, [0, 0, e], [b, l, e]);
  const out = linear(g, m.out_proj, flat);
  return m.batchFirst ? out : transpose(g, out, [1, 0, 2]);
}

export function encoderLayer(g: GraphBuilder, m: TransformerEncoderLayer, x: V): V {
  const ff = (y: V): V => {
    const hdn = g.within('linear1', () => linear(g, m.linear1, y));
    const act = m.activation === 'gelu' ? gelu(g, hdn) : relu(g, hdn);
    return g.within('linear2', () => linear(g, m.linear2, act));
  };
  const sa = (y: V): V => g.within('self_attn', () => selfAttention(g, m.self_attn, y));
  const ln = (mod: LayerNorm, y: V, name: string) => g.within(name, () => layerNorm(g, mod, y));
  if (m.normFirst) {
    const y = binary(g, 'Add', x, sa(ln(m.norm1, x, 'norm1')));
    return binary(g, 'Add', y, ff(ln(m.norm2, y, 'norm2')));
  }
  const y = ln(m.norm1, binary(g, 'Add', x, sa(x)), 'norm1');
  return ln(m.norm2, binary(g, 'Add', y, ff(y)), 'norm2');
}

// ---- the generic walk -----------------------------------------------------------------------------

/**
 * A module whose forward is a plain function of one tensor: the layers above, Sequential (children in
 * order, so ConvBNAct too) and the blocks of src/nn/blocks.ts. Model-specific blocks are handled by their exporters
 * (src/export/models.ts), which pass `custom` for them.
 */
export function emitModule(
  g: GraphBuilder,
  m: AnyModule,
  x: V,
  custom?: (m: AnyModule, x: V) => V | null,
): V {
  const c = custom?.(m, x);
  if (c) return c;
  if (m instanceof Sequential) {
    let y = x;
    m.namedChildren().forEach(([name, child]) => {
      y = g.within(name, () => emitModule(g, child, y, custom));
    });
    return y;
  }
  if (m instanceof Conv2d) return conv2d(g, m, x);
  if (m instanceof Conv1d) return conv1d(g, m, x);
  if (m instanceof Linear) return linear(g, m, x);
  if (m instanceof BatchNorm2d || m instanceof BatchNorm1d) return batchNorm(g, m, x);
  if (m instanceof LayerNorm) return layerNorm(g, m, x);
  if (m instanceof ReLU) return relu(g, x);
  if (m instanceof ReLU6) return clip(g, x, 0, 6);
  if (m instanceof SiLU) return silu(g, x);
  if (m instanceof GELU) return gelu(g, x);
  if (m instanceof Sigmoid) return sigmoid(g, x);
  if (m instanceof Tanh) return { name: g.op('Tanh', [x.name]), shape: x.shape };
  if (m instanceof ELU) return { name: g.op('Elu', [x.name], { alpha: float(m.alpha) }), shape: x.shape };
  if (m instanceof LeakyReLU)
    return { name: g.op('LeakyRelu', [x.name], { alpha: float(m.negativeSlope) }), shape: x.shape };
  if (m instanceof Softmax) return { name: g.op('Softmax', [x.name], { axis: m.dim }), shape: x.shape };
  if (m instanceof PReLU) {
    const dims = m.numSlopes > 1 ? [m.numSlopes, ...Array(x.shape.length - 2).fill(1)] : [1];
    return { name: g.op('PRelu', [x.name, g.weight('slope', data(m.weight), dims)]), shape: x.shape };
  }
  if (m instanceof Identity || m instanceof Dropout || m instanceof Dropout2d || m instanceof DropPath)
    return x;
  if (m instanceof Flatten) {
    if (m.endDim !== -1 && m.endDim !== x.shape.length - 1)
      throw new ExportError(`Flatten(${m.startDim}, ${m.endDim}): only flattening to the end is exported`);
    return flatten(g, x, m.startDim);
  }
  if (m instanceof MaxPool2d || m instanceof MaxPool1d || m instanceof AvgPool2d || m instanceof AvgPool1d)
    return pool(g, m instanceof MaxPool2d || m instanceof MaxPool1d ? 'max' : 'avg', x, {
      kernelSize: m.kernelSize,
      ...m.opts,
    });
  if (m instanceof AdaptiveAvgPool2d || m instanceof AdaptiveAvgPool1d)
    return adaptivePool(g, 'avg', x, m.outputSize);
  if (m instanceof AdaptiveMaxPool2d || m instanceof AdaptiveMaxPool1d)
    return adaptivePool(g, 'max', x, m.outputSize);
  if (m instanceof SqueezeExcitation) {
    const s = adaptivePool(g, 'avg', x, 1);
    const h1 = g.within('fc1', () => conv2d(g, m.fc1, s));
    const a = m.act === 'silu' ? silu(g, h1) : relu(g, h1);
    const gate = sigmoid(
      g,
      g.within('fc2', () => conv2d(g, m.fc2, a)),
    );
    return binary(g, 'Mul', x, gate);
  }
  if (m instanceof InvertedResidual) {
    const y = g.within('block', () => emitModule(g, m.block, x, custom));
    return m.useResidual ? binary(g, 'Add', x, y) : y;
  }
  if (m instanceof TransformerEncoderLayer) return encoderLayer(g, m, x);
  if (m instanceof MultiheadAttention) return selfAttention(g, m, x);
  if (m instanceof GRU || m instanceof LSTM) return rnn(g, m, x);
  throw new ExportError(`no ONNX export for ${m.constructor.name}`);
}
