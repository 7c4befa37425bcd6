// Weight-only int8: every large weight of a Conv, Gemm, MatMul, GRU or LSTM becomes an int8 initialiser
// with a float scale (symmetric, zero point 0; one scale per output channel for Conv/Gemm/MatMul, one per
// tensor for recurrent weights) and a DequantizeLinear node that restores the float weight under its old
// name. Activations stay float32; the file shrinks by about 4× for the weights. The front-end's
// filterbank, window and DCT stay float (they are part of the features, not of the model).

import type { onnx } from 'onnx-proto';
import { DataType, type GraphBuilder, int8Tensor } from './onnx-builder.js';

/** Weights smaller than this stay float (biases, small heads): their bytes do not matter. */
const MIN_ELEMENTS = 256;

function floatData(t: onnx.ITensorProto): Float32Array | null {
  if (t.dataType !== DataType.FLOAT || !t.rawData) return null;
  const raw = t.rawData;
  const copy = new Uint8Array(raw.byteLength);
  copy.set(raw);
  return new Float32Array(copy.buffer);
}

interface Use {
  op: string;
  index: number;
  transB: boolean;
}

/** Quantizes the weights of `g` in place. Returns how many tensors and bytes were converted. */
export function quantizeInt8(g: GraphBuilder): { tensors: number; floatBytes: number; int8Bytes: number } {
  const uses = new Map<string, Use[]>();
  for (const n of g.nodes) {
    const transB = (n.attribute ?? []).some((a) => a.name === 'transB' && Number(a.i) === 1);
    (n.input ?? []).forEach((name, index) => {
      const list = uses.get(name) ?? [];
      list.push({ op: n.opType ?? '', index, transB });
      uses.set(name, list);
    });
  }
  const weightSlot = (u: Use) =>
    ((u.op === 'Conv' || u.op === 'Gemm' || u.op === 'MatMul') && u.index === 1) ||
    ((u.op === 'GRU' || u.op === 'LSTM') && (u.index === 1 || u.index === 2));
  const dq: onnx.INodeProto[] = [];
  const kept: onnx.ITensorProto[] = [];
  let tensors = 0;
  let floatBytes = 0;
  let int8Bytes = 0;
  const original = [...g.initializers];
  for (const t of original) {
    const name = t.name ?? '';
    const u = uses.get(name) ?? [];
    const w = floatData(t);
    const dims = (t.dims ?? []).map(Number);
    if (
      !w ||
      w.length < MIN_ELEMENTS ||
      name.startsWith('frontend/') ||
      u.length === 0 ||
      !u.every(weightSlot)
    ) {
      kept.push(t);
      continue;
    }
    // Output channels: Conv [out, …] and Gemm(transB) [out, in] on axis 0; MatMul [in, out] on axis 1.
    const first = u[0]!;
    const axis =
      first.op === 'Conv' || (first.op === 'Gemm' && first.transB)
        ? 0
        : first.op === 'MatMul' && dims.length === 2
          ? 1
          : -1;
    const channels = axis < 0 ? 1 : dims[axis]!;
    const inner = axis === 1 ? 1 : w.length / channels;
    const stride = axis === 1 ? channels : 1;
    const scale = new Float32Array(channels);
    const q = new Int8Array(w.length);
    for (let ch = 0; ch < channels; ch++) {
      const idx = (i: number) => (axis === 1 ? i * stride + ch : ch * inner + i);
      const count = axis === 1 ? dims[0]! : inner;
      let m = 0;
      for (let i = 0; i < count; i++) m = Math.max(m, Math.abs(w[idx(i)]!));
      const s = m > 0 ? m / 127 : 1;
      scale[ch] = s;
      for (let i = 0; i < count; i++) q[idx(i)] = Math.max(-127, Math.min(127, Math.round(w[idx(i)]! / s)));
    }
    const qName = g.tensor(`${name}_int8`, int8Tensor('', q, dims));
    const sName = g.weight(`${name}_scale`, scale, axis < 0 ? [] : [channels]);
    const zName = g.tensor(
      `${name}_zero`,
      int8Tensor('', new Int8Array(channels), axis < 0 ? [] : [channels]),
    );
    dq.push({
      opType: 'DequantizeLinear',
      input: [qName, sName, zName],
      output: [name],
      name: `${name}/DequantizeLinear`,
      attribute: axis < 0 ? [] : [{ name: 'axis', type: 2, i: axis }],
    });
    tensors++;
    floatBytes += w.byteLength;
    int8Bytes += q.byteLength + scale.byteLength + channels;
  }
  // g.tensor/g.weight appended the new initialisers after the original ones: keep those, drop the replaced.
  const added = g.initializers.slice(original.length);
  g.initializers.length = 0;
  g.initializers.push(...kept, ...added);
  g.nodes.unshift(...dq);
  return { tensors, floatBytes, int8Bytes };
}
