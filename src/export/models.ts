// The registry's architectures as ONNX graphs: one function per model family that mirrors its
// `forward` in eval mode, built from the layer emitters (src/export/ops/layers.ts). Outputs follow the
// registry contract: `clipwise` logits [B, C], `framewise` logits [B, frames, C] for crnn/sed, and
// `embedding` = the input of the model's last Linear layer (averaged over time when that layer runs
// per frame), the same tap the engine backend of `Tagger` uses.

import {
  BasicBlock,
  CnnModel1,
  Conv1dRaw,
  Crnn,
  EfficientNet,
  MfccCnn,
  MobileNetV2,
  ResNet,
  SamePadConv2d,
  Sed,
  SmallCnn,
  SpecTransformer,
  Vgg16Bn,
} from '../models/index.js';
import type { AudioModel } from '../models/types.js';
import type { AnyModule } from '../nn/index.js';
import { type BatchNorm2d, ConvBlock, Linear, type Sequential } from '../nn/index.js';
import type { GraphBuilder } from './onnx-builder.js';
import {
  adaptivePool,
  batchNorm,
  binary,
  concat,
  conv1d,
  conv2d,
  data,
  ExportError,
  emitModule,
  linear,
  pool,
  reduce,
  relu,
  rnn,
  transpose,
  type V,
} from './ops/layers.js';

export interface GraphOutputs {
  clipwise: V;
  framewise?: V;
  embedding: V;
}

/** The registry names that export (every architecture of the registry). */
export const EXPORTABLE = [
  'cnn-model-1',
  'small-cnn',
  'vgg16-bn',
  'resnet18',
  'resnet34',
  'conv1d-raw',
  'mfcc-cnn',
  'crnn',
  'mobilenet-v2',
  'efficientnet-b0',
  'spec-transformer',
  'sed',
] as const;

type GlobalPool = 'avg' | 'max' | 'avgmax';

function globalPool(g: GraphBuilder, x: V, kind: GlobalPool): V {
  const f = (k: 'avg' | 'max') => {
    const p = adaptivePool(g, k, x, 1);
    return { name: g.op('Flatten', [p.name], { axis: 1 }), shape: [x.shape[0]!, x.shape[1]!] };
  };
  if (kind !== 'avgmax') return f(kind);
  return concat(g, [f('avg'), f('max')], 1);
}

/**
 * A Sequential head whose last module is the classifier Linear: returns its input (the embedding)
 * and its output.
 */
function head(g: GraphBuilder, seq: Sequential, x: V, name: string): { embedding: V; logits: V } {
  const kids = seq.namedChildren();
  const last = kids[kids.length - 1];
  if (!last || !(last[1] instanceof Linear))
    throw new ExportError(`${name}: the head does not end in a Linear`);
  let y = x;
  for (const [k, m] of kids.slice(0, -1)) y = g.within(`${name}.${k}`, () => emitModule(g, m, y));
  const logits = g.within(`${name}.${last[0]}`, () => linear(g, last[1] as Linear, y));
  return { embedding: y, logits };
}

function convBlock(g: GraphBuilder, m: ConvBlock, x: V): V {
  let y = relu(g, batchNorm(g, m.bn1, conv2d(g, m.conv1, x)));
  y = relu(g, batchNorm(g, m.bn2, conv2d(g, m.conv2, y)));
  return pool(g, 'avg', y, { kernelSize: 2 });
}

/** mfcc-cnn's SamePadConv2d: the (k−1) padding split with the odd sample at the end. */
function customBlocks(g: GraphBuilder) {
  return (m: AnyModule, x: V): V | null => {
    if (m instanceof SamePadConv2d) {
      const [kh, kw] = m.kernelSize;
      const top = (kh - 1) >> 1;
      const left = (kw - 1) >> 1;
      return conv2d(g, m, x, [top, left, kh - 1 - top, kw - 1 - left]);
    }
    if (m instanceof ConvBlock) return convBlock(g, m, x);
    if (m instanceof BasicBlock) {
      const y0 = g.within('conv1', () => relu(g, batchNorm(g, m.bn1, conv2d(g, m.conv1, x))));
      const y = batchNorm(g, m.bn2, conv2d(g, m.conv2, y0));
      const skip = m.downsample ? g.within('downsample', () => emitModule(g, m.downsample!, x)) : x;
      return relu(g, binary(g, 'Add', y, skip));
    }
    return null;
  };
}

function smallCnn(g: GraphBuilder, m: SmallCnn, x: V): GraphOutputs {
  let y = x;
  m.features.namedChildren().forEach(([i, block]) => {
    y = g.within(`features.${i}`, () => {
      const mods = (block as unknown as { layers: Sequential }).layers.children();
      let t = y;
      for (let j = 0; j < mods.length; j += 2)
        t = relu(g, batchNorm(g, mods[j + 1] as BatchNorm2d, conv2d(g, mods[j] as never, t)));
      // As the model: a 1-wide axis is not pooled.
      const kh = t.shape[2]! >= 2 ? 2 : 1;
      const kw = t.shape[3]! >= 2 ? 2 : 1;
      if (kh === 1 && kw === 1) return t;
      return pool(g, m.config.pool, t, { kernelSize: [kh, kw] });
    });
  });
  const f = reduce(g, 'ReduceMean', y, [2]); // [B, C, T]
  const pooled = binary(g, 'Add', reduce(g, 'ReduceMean', f, [2]), reduce(g, 'ReduceMax', f, [2]));
  const emb = g.within('head', () => emitModule(g, m.head, pooled));
  return { embedding: emb, clipwise: g.within('classifier', () => linear(g, m.classifier, emb)) };
}

function cnnModel1(g: GraphBuilder, m: CnnModel1, x: V): GraphOutputs {
  const fmap = g.within('features', () => emitModule(g, m.features, x, customBlocks(g)));
  const pooled = globalPool(g, fmap, 'avgmax');
  const { embedding, logits } = head(g, m.head, pooled, 'head');
  return { embedding, clipwise: logits };
}

function vgg(g: GraphBuilder, m: Vgg16Bn, x: V): GraphOutputs {
  const fmap = g.within('features', () => emitModule(g, m.features, x));
  const { embedding, logits } = head(g, m.classifier, globalPool(g, fmap, m.config.pooling), 'classifier');
  return { embedding, clipwise: logits };
}

function resnet(g: GraphBuilder, m: ResNet, x: V): GraphOutputs {
  const custom = customBlocks(g);
  let y = g.within('conv1', () => relu(g, batchNorm(g, m.bn1, conv2d(g, m.conv1, x))));
  if (m.config.stem === 'imagenet') y = pool(g, 'max', y, { kernelSize: 3, stride: 2, padding: 1 });
  for (const name of ['layer1', 'layer2', 'layer3', 'layer4'] as const)
    y = g.within(name, () => emitModule(g, m[name], y, custom));
  const emb = globalPool(g, y, m.config.pooling);
  return { embedding: emb, clipwise: g.within('fc', () => linear(g, m.fc, emb)) };
}

function conv1dRaw(g: GraphBuilder, m: Conv1dRaw, x: V): GraphOutputs {
  const fmap = g.within('features', () => emitModule(g, m.features, x));
  const { embedding, logits } = head(g, m.head, reduce(g, 'ReduceMax', fmap, [2]), 'head');
  return { embedding, clipwise: logits };
}

function mfccCnn(g: GraphBuilder, m: MfccCnn, x: V): GraphOutputs {
  const fmap = g.within('features', () => emitModule(g, m.features, x, customBlocks(g)));
  const { embedding, logits } = head(g, m.head, fmap, 'head');
  return { embedding, clipwise: logits };
}

function imageNet(g: GraphBuilder, m: MobileNetV2 | EfficientNet, x: V): GraphOutputs {
  const fmap = g.within('features', () => emitModule(g, m.features, x));
  const { embedding, logits } = head(g, m.classifier, globalPool(g, fmap, 'avg'), 'classifier');
  return { embedding, clipwise: logits };
}

/**
 * [B, T', C] → [B, frames, C], frame t taking step min(⌊t·(T'/frames)⌋, T'−1) computed in float32 as
 * PyTorch's nearest interpolation does; `frames` is read from the input's shape at run time.
 */
function upsampleFrames(g: GraphBuilder, y: V, input: V, timeAxis: number, dynamic: boolean): V {
  const frames = input.shape[timeAxis]!;
  if (y.shape[1] === frames && !dynamic) return y;
  const shapeOf = (v: string, axis: number) =>
    g.op('Gather', [g.op('Shape', [v]), g.ints([axis])], { axis: 0 }); // int64 [1]
  const nOut = shapeOf(input.name, timeAxis);
  const nIn = shapeOf(y.name, 1);
  const f = (v: string) => g.op('Cast', [v], { to: 1 });
  const scale = g.op('Div', [f(nIn), f(nOut)]);
  const range = g.op('Range', [g.intScalar(0), g.op('Squeeze', [nOut, g.ints([0])]), g.intScalar(1)]);
  const idx = g.op('Floor', [g.op('Mul', [f(range), scale])]);
  const last = g.op('Sub', [nIn, g.ints([1])]);
  const clamped = g.op('Min', [g.op('Cast', [idx], { to: 7 }), last]);
  return { name: g.op('Gather', [y.name, clamped], { axis: 1 }), shape: [y.shape[0]!, frames, y.shape[2]!] };
}

function crnn(g: GraphBuilder, m: Crnn, x: V, dynamic: boolean): GraphOutputs {
  const c = m.config;
  const fmap = g.within('features', () => emitModule(g, m.features, x));
  const seq = transpose(g, reduce(g, 'ReduceMean', fmap, [2]), [0, 2, 1]); // [B, T', C]
  const h = g.within('gru', () => rnn(g, m.gru, seq)); // [B, T', dirs·H]
  const pooled =
    c.clipPooling === 'mean'
      ? reduce(g, 'ReduceMean', h, [1])
      : c.clipPooling === 'max'
        ? reduce(g, 'ReduceMax', h, [1])
        : binary(g, 'Add', reduce(g, 'ReduceMean', h, [1]), reduce(g, 'ReduceMax', h, [1]));
  const clipwise = g.within('classifier', () => linear(g, m.classifier, pooled));
  const frames = g.within('classifier', () => linear(g, m.classifier, h));
  const framewise = c.framewiseResolution === 'input' ? upsampleFrames(g, frames, x, 3, dynamic) : frames;
  return { clipwise, framewise, embedding: reduce(g, 'ReduceMean', h, [1]) };
}

function sed(g: GraphBuilder, m: Sed, x: V, dynamic: boolean): GraphOutputs {
  const c = m.config;
  let h = m.bn0 ? g.within('bn0', () => batchNorm(g, m.bn0!, x, 2)) : x;
  m.blocks.children().forEach((b, i) => {
    h = g.within(`blocks.${i}`, () => convBlock(g, b as ConvBlock, h));
  });
  let t = reduce(g, 'ReduceMean', h, [2]); // [B, C, T']
  const o = { kernelSize: 3, stride: 1, padding: 1 };
  t = binary(g, 'Add', pool(g, 'max', t, o), pool(g, 'avg', t, o));
  const tt = transpose(g, t, [0, 2, 1]); // [B, T', C]
  const embedding = reduce(g, 'ReduceMean', tt, [1]);
  t = transpose(
    g,
    relu(
      g,
      g.within('fc1', () => linear(g, m.fc1, tt)),
    ),
    [0, 2, 1],
  );
  const att = g.within('att', () => conv1d(g, m.att, t));
  const clamped = g.op('Clip', [att.name, g.scalar(-c.attClamp), g.scalar(c.attClamp)]);
  const logAtt = g.op('LogSoftmax', [clamped], { axis: -1 });
  const cla = g.within('cla', () => conv1d(g, m.cla, t)); // [B, K, T']
  // log σ(x) = −softplus(−x)
  const logSig = (v: string) => g.op('Neg', [g.op('Softplus', [g.op('Neg', [v])])]);
  const lse = (v: string) => g.op('ReduceLogSumExp', [v], { axes: [-1], keepdims: 0 });
  const logP = lse(g.op('Add', [logAtt, logSig(cla.name)]));
  const logNotP = lse(g.op('Add', [logAtt, logSig(g.op('Neg', [cla.name]))]));
  const clipwise: V = { name: g.op('Sub', [logP, logNotP]), shape: [x.shape[0]!, c.numClasses] };
  const frames = transpose(g, cla, [0, 2, 1]);
  const framewise = c.framewiseResolution === 'input' ? upsampleFrames(g, frames, x, 3, dynamic) : frames;
  return { clipwise, framewise, embedding };
}

function specTransformer(g: GraphBuilder, m: SpecTransformer, x: V): GraphOutputs {
  const c = m.config;
  const p = g.within('patch_embed', () => conv2d(g, m.patch_embed, x)); // [B, dim, rows, cols]
  const [rows, cols] = [p.shape[2]!, p.shape[3]!];
  const flat = g.op('Reshape', [p.name, g.ints([0, 0, -1])]);
  const tokens = transpose(g, { name: flat, shape: [p.shape[0]!, c.dim, rows * cols] }, [0, 2, 1]);
  // [CLS] broadcast over the batch: Expand to [B, 1, dim] with B read from the input.
  const b = g.op('Gather', [g.op('Shape', [x.name]), g.ints([0])], { axis: 0 });
  const clsShape = g.op('Concat', [b, g.ints([1, c.dim])], { axis: 0 });
  const cls = g.op('Expand', [g.weight('cls_token', data(m.cls_token), [1, 1, c.dim]), clsShape]);
  const seq = concat(g, [{ name: cls, shape: [x.shape[0]!, 1, c.dim] }, tokens], 1);
  // Positions for this grid (resized from the learned grid by the model itself when they differ).
  const pos = (
    m as unknown as { positions(r: number, c: number): import('../engine/index.js').Tensor }
  ).positions(rows, cols);
  const posV: V = {
    name: g.weight('pos_embed', data(pos), [1, 1 + rows * cols, c.dim]),
    shape: [1, 1 + rows * cols, c.dim],
  };
  if (pos !== m.pos_embed) pos.dispose();
  let h = binary(g, 'Add', seq, posV);
  m.blocks.children().forEach((layer, i) => {
    h = g.within(`blocks.${i}`, () => emitModule(g, layer, h));
  });
  const normed = g.within('norm', () => emitModule(g, m.norm, h));
  const first = g.op('Gather', [normed.name, g.ints([0])], { axis: 1 }); // [B, 1, dim]
  const embedding: V = { name: g.op('Flatten', [first], { axis: 1 }), shape: [x.shape[0]!, c.dim] };
  return { embedding, clipwise: g.within('head', () => linear(g, m.head, embedding)) };
}

/**
 * Emits the graph of `model` (eval mode) for input `x`. `timeIsDynamic` says whether the time axis of
 * the graph input is symbolic (frame-wise upsampling then reads it at run time).
 */
export function emitModel(g: GraphBuilder, model: AudioModel, x: V, timeIsDynamic = true): GraphOutputs {
  if (model.training) throw new ExportError('export needs the model in eval mode (model.eval())');
  if (model instanceof SmallCnn) return smallCnn(g, model, x);
  if (model instanceof CnnModel1) return cnnModel1(g, model, x);
  if (model instanceof Vgg16Bn) return vgg(g, model, x);
  if (model instanceof ResNet) return resnet(g, model, x);
  if (model instanceof Conv1dRaw) return conv1dRaw(g, model, x);
  if (model instanceof MfccCnn) return mfccCnn(g, model, x);
  if (model instanceof MobileNetV2 || model instanceof EfficientNet) return imageNet(g, model, x);
  if (model instanceof Crnn) return crnn(g, model, x, timeIsDynamic);
  if (model instanceof Sed) return sed(g, model, x, timeIsDynamic);
  if (model instanceof SpecTransformer) return specTransformer(g, model, x);
  throw new ExportError(`no ONNX export for ${model.constructor.name}`);
}

/** Models whose graph needs a fixed number of frames (their exported input has a static time axis). */
export function needsStaticTime(model: AudioModel): boolean {
  // mfcc-cnn's adaptive pool to a grid, and the transformer's positions, depend on the input size.
  return model instanceof MfccCnn || model instanceof SpecTransformer;
}
