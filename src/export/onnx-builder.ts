// A small ONNX graph builder over onnx-proto (protobufjs): named values, nodes with typed attributes,
// float/int64 initialisers, graph inputs/outputs with symbolic dims, and a ModelProto (opset 17) with
// metadata_props. Exporters call `op(...)` the way a forward pass calls layers, and get value names back.
//
// Browser-safe: no node: imports (the caller writes the bytes).

import onnxProto, { type onnx } from 'onnx-proto';

// onnx-proto is CommonJS: its namespace arrives as the default export's `onnx` property.
const proto: typeof onnx = onnxProto.onnx;

export const OPSET = 17;
/** IR version 8 (ONNX 1.10+): what onnx-proto 8 writes; ONNX Runtime reads it with opset 17. */
export const IR_VERSION = 8;

const { DataType } = proto.TensorProto;
const { AttributeType } = proto.AttributeProto;

/** An attribute value: number (int unless `float()`-wrapped or not an integer), numbers, string, tensor. */
export type AttrValue =
  | number
  | { float: number }
  | number[]
  | { floats: number[] }
  | string
  | { tensor: onnx.ITensorProto }
  | { graph: onnx.IGraphProto };

/** Marks a number as a FLOAT attribute even when it is integral (e.g. alpha = 1). */
export const float = (v: number) => ({ float: v });
export const floats = (v: number[]) => ({ floats: v });

export type Dim = number | string;

function attribute(name: string, v: AttrValue): onnx.IAttributeProto {
  if (typeof v === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number')
    return Number.isInteger(v)
      ? { name, type: AttributeType.INT, i: v }
      : { name, type: AttributeType.FLOAT, f: v };
  if (Array.isArray(v)) {
    if (v.every(Number.isInteger)) return { name, type: AttributeType.INTS, ints: v };
    return { name, type: AttributeType.FLOATS, floats: v };
  }
  if ('float' in v) return { name, type: AttributeType.FLOAT, f: v.float };
  if ('floats' in v) return { name, type: AttributeType.FLOATS, floats: v.floats };
  if ('graph' in v) return { name, type: AttributeType.GRAPH, g: v.graph };
  return { name, type: AttributeType.TENSOR, t: v.tensor };
}

function valueInfo(name: string, elemType: number, dims: Dim[] | null): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape:
          dims === null
            ? undefined
            : { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  // TensorProto raw_data is little-endian, which every platform this runs on is.
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** A float32 tensor proto. */
export function floatTensor(name: string, data: Float32Array, dims: number[]): onnx.ITensorProto {
  return { name, dataType: DataType.FLOAT, dims, rawData: bytesOf(data) };
}

export function int64Tensor(name: string, data: number[], dims: number[] = [data.length]): onnx.ITensorProto {
  return { name, dataType: DataType.INT64, dims, rawData: bytesOf(BigInt64Array.from(data.map(BigInt))) };
}

export function int8Tensor(name: string, data: Int8Array, dims: number[]): onnx.ITensorProto {
  return { name, dataType: DataType.INT8, dims, rawData: bytesOf(data) };
}

export interface ModelOptions {
  /** metadata_props: string values (objects are JSON-encoded by the caller). */
  metadata?: Record<string, string>;
  producer?: string;
  producerVersion?: string;
  docString?: string;
}

/** Builds one graph. Value names are unique: `fresh(prefix)` numbers them. */
export class GraphBuilder {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  readonly inputs: onnx.IValueInfoProto[] = [];
  readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly used = new Set<string>();
  private counter = 0;
  /** Prefix for node and value names (e.g. the module path being exported). */
  scope = '';

  constructor(readonly name = 'audiotag') {}

  /** A new unique value name. */
  fresh(prefix = 'v'): string {
    const base = this.scope ? `${this.scope}/${prefix}` : prefix;
    let n = base;
    while (this.used.has(n)) n = `${base}_${++this.counter}`;
    this.used.add(n);
    return n;
  }

  /** Runs `fn` with `name` appended to the naming scope (so nodes read "layer1.0/Conv"). */
  within<T>(name: string, fn: () => T): T {
    const old = this.scope;
    this.scope = old ? `${old}.${name}` : name;
    try {
      return fn();
    } finally {
      this.scope = old;
    }
  }

  input(name: string, dims: Dim[], elemType: number = DataType.FLOAT): string {
    this.used.add(name);
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  /** Declares `value` a graph output called `name` (an Identity renames it when they differ). */
  output(value: string, name: string, dims: Dim[] | null = null, elemType: number = DataType.FLOAT): void {
    let v = value;
    if (v !== name) {
      this.used.add(name);
      this.nodes.push({ opType: 'Identity', input: [v], output: [name], name: `${name}/Identity` });
      v = name;
    }
    this.outputs.push(valueInfo(v, elemType, dims));
  }

  /** A float32 initialiser (a weight). */
  weight(prefix: string, data: Float32Array, dims: number[]): string {
    const name = this.fresh(prefix);
    this.initializers.push(floatTensor(name, data, dims));
    return name;
  }

  /** A float32 constant: a scalar (dims []) or a vector. */
  scalar(v: number): string {
    return this.weight('c', Float32Array.of(v), []);
  }

  /** An int64 initialiser (shapes, axes, pads). */
  ints(values: number[], prefix = 'i'): string {
    const name = this.fresh(prefix);
    this.initializers.push(int64Tensor(name, values));
    return name;
  }

  /** A 0-d int64 initialiser (Range bounds, STFT's frame step). */
  intScalar(v: number): string {
    const name = this.fresh('i');
    this.initializers.push(int64Tensor(name, [v], []));
    return name;
  }

  /** Any prepared tensor proto as an initialiser (its name is replaced by a fresh one). */
  tensor(prefix: string, t: onnx.ITensorProto): string {
    const name = this.fresh(prefix);
    this.initializers.push({ ...t, name });
    return name;
  }

  /** Adds a node with one output and returns the output's name. */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}): string {
    return this.opN(opType, inputs, 1, attrs)[0]!;
  }

  /** Adds a node with `nOutputs` outputs. An input '' is an omitted optional input. */
  opN(opType: string, inputs: string[], nOutputs: number, attrs: Record<string, AttrValue> = {}): string[] {
    const outs = Array.from({ length: nOutputs }, () => this.fresh(opType));
    this.nodes.push({
      opType,
      input: inputs,
      output: outs,
      name: outs[0],
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outs;
  }

  /** The graph alone (a Scan/Loop body). */
  toGraph(): onnx.IGraphProto {
    return {
      name: this.name,
      node: this.nodes,
      initializer: this.initializers,
      input: this.inputs,
      output: this.outputs,
    };
  }

  /** The ModelProto bytes. */
  toBytes(opts: ModelOptions = {}): Uint8Array {
    const model = proto.ModelProto.create({
      irVersion: IR_VERSION,
      producerName: opts.producer ?? 'audiotag',
      producerVersion: opts.producerVersion ?? '',
      docString: opts.docString ?? '',
      opsetImport: [{ domain: '', version: OPSET }],
      metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
      graph: this.toGraph(),
    });
    return proto.ModelProto.encode(model).finish();
  }
}

/** Decodes a model (for tests and for `--quantize` on an exported file). */
export function decodeModel(bytes: Uint8Array): onnx.ModelProto {
  return proto.ModelProto.decode(bytes);
}

export { DataType, proto as onnx };
