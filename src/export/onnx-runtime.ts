// Runs an exported audiotag ONNX file without libtorch: onnxruntime-node (native CPU) or onnxruntime-web
// (WebAssembly; also runs in Node). Nothing here imports src/engine, so `Tagger.load('model.onnx')` and
// `audiotag predict --model model.onnx` work where the native addon is missing.
//
//   const m = await OnnxModel.load('model.onnx', { threads: 2, backend: 'node' });
//   m.meta.classes; m.meta.frontend;                     // see ExportMeta (src/export/meta.ts)
//   const x = m.inputFor(samples, 16000);                // one clip → { data, dims } the graph takes
//   const { clipwise, embedding } = await m.run(x.data, x.dims);
//   m.scores(clipwise);                                  // softmax/sigmoid as the run trained
//   await m.close();

import { fsReason } from '../core/errors.js';
import { concatFloat32 } from '../core/ndarray.js';
import { featuresFromSignal, prepareSignal } from '../features/compute.js';
import { type ExportMeta, metaFromProps } from './meta.js';
import { decodeModel } from './onnx-builder.js';

export type OnnxBackend = 'node' | 'web';

export interface OnnxLoadOptions {
  /** Intra-op threads (node), WebAssembly threads (web; default 1). */
  threads?: number;
  /** 'node': onnxruntime-node's native CPU provider (default); 'web': onnxruntime-web's wasm backend. */
  backend?: OnnxBackend;
  /**
   * node: let idle intra-op threads spin-wait for work (onnxruntime's default). Off by default here: on a
   * machine shared with other processes spinning threads steal each other's cores (measured: 15–30 %
   * slower for CNN-model-1 on 2 threads at load ≈ 19).
   */
  spin?: boolean;
  /**
   * node, threads > 1: 'intra' (default) runs each batch on one session whose ops use `threads` threads;
   * 'batch' loads `threads` single-thread sessions and runs slices of the batch on them at once (no
   * barrier between the threads: 5–20 % more throughput for CNN-model-1 on the shared machine, but a
   * batch of one uses one thread and each session holds its own copy of the weights).
   */
  parallel?: 'intra' | 'batch';
}

export interface OnnxOutputs {
  /** [batch, classes] logits. */
  clipwise: Float32Array;
  clipwiseDims: number[];
  /** [batch, frames, classes] logits (SED/CRNN models). */
  framewise?: Float32Array;
  framewiseDims?: number[];
  /** [batch, embeddingSize]: the input of the classifier (see docs/export.md per model). */
  embedding?: Float32Array;
  embeddingDims?: number[];
}

/** The subset of onnxruntime-common's API used here (node and web share it). */
interface OrtTensor {
  data: unknown;
  dims: readonly number[];
}
interface OrtSession {
  run(feeds: Record<string, OrtTensor>, fetches?: string[]): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
  readonly outputNames: readonly string[];
}
interface OrtModule {
  InferenceSession: {
    create(bytes: Uint8Array, options?: Record<string, unknown>): Promise<OrtSession>;
  };
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensor;
  env: { wasm?: { numThreads?: number } };
}

async function loadOrt(backend: OnnxBackend): Promise<OrtModule> {
  try {
    if (backend === 'node') return (await import('onnxruntime-node')) as unknown as OrtModule;
    return (await import('onnxruntime-web')) as unknown as OrtModule;
  } catch (e) {
    throw new Error(
      `OnnxModel: cannot load onnxruntime-${backend} (${e instanceof Error ? e.message : String(e)}); ` +
        `install it (npm install onnxruntime-${backend})`,
    );
  }
}

async function readBytes(path: string): Promise<Uint8Array> {
  const { readFile } = await import('node:fs/promises');
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    throw new Error(`OnnxModel: cannot read ${path}: ${fsReason(e)}`);
  }
}

/** The metadata of an exported file (decodes the protobuf; no runtime needed). */
export function readExportMeta(bytes: Uint8Array, what = 'model'): ExportMeta {
  let props: Record<string, string>;
  try {
    const m = decodeModel(bytes);
    props = Object.fromEntries(m.metadataProps.map((p) => [p.key, p.value]));
  } catch (e) {
    throw new Error(`${what}: not an ONNX model (${(e as Error).message})`);
  }
  return metaFromProps(props, what);
}

export class OnnxModel {
  private constructor(
    readonly meta: ExportMeta,
    /** One session, or one per thread with parallel 'batch'. */
    private readonly sessions: OrtSession[],
    private readonly ort: OrtModule,
    readonly backend: OnnxBackend,
    /** The file it was loaded from ('' for bytes). */
    readonly path: string,
  ) {}

  /** Loads an exported file (path in Node, or the bytes). */
  static async load(source: string | Uint8Array, opts: OnnxLoadOptions = {}): Promise<OnnxModel> {
    const backend = opts.backend ?? 'node';
    if (backend !== 'node' && backend !== 'web')
      throw new Error(`OnnxModel.load: backend must be "node" or "web", got ${JSON.stringify(backend)}`);
    const threads = opts.threads;
    if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1))
      throw new Error(`OnnxModel.load: threads must be a positive integer, got ${threads}`);
    const path = typeof source === 'string' ? source : '';
    const bytes = typeof source === 'string' ? await readBytes(source) : source;
    const meta = readExportMeta(bytes, path || 'OnnxModel.load');
    const ort = await loadOrt(backend);
    const options: Record<string, unknown> = { graphOptimizationLevel: 'all' };
    const parallel = opts.parallel ?? 'intra';
    if (parallel !== 'intra' && parallel !== 'batch')
      throw new Error(`OnnxModel.load: parallel must be "intra" or "batch", got ${JSON.stringify(parallel)}`);
    const slices = backend === 'node' && parallel === 'batch' ? (threads ?? 1) : 1;
    if (backend === 'node') {
      options.executionProviders = ['cpu'];
      if (threads) {
        options.intraOpNumThreads = slices > 1 ? 1 : threads;
        options.interOpNumThreads = 1;
      }
      options.extra = { session: { intra_op: { allow_spinning: opts.spin ? '1' : '0' } } };
    } else {
      options.executionProviders = ['wasm'];
      if (ort.env.wasm) ort.env.wasm.numThreads = threads ?? 1;
    }
    const sessions: OrtSession[] = [];
    for (let i = 0; i < slices; i++) sessions.push(await ort.InferenceSession.create(bytes, options));
    return new OnnxModel(meta, sessions, ort, backend, path);
  }

  /**
   * One clip as the graph's input (batch 1): resampled to the model's rate, trimmed and cropped/padded as
   * the run's feature config says; then the features (no front-end) or the waveform (front-end, or a
   * waveform model).
   */
  inputFor(samples: Float32Array, sampleRate: number): { data: Float32Array; dims: number[] } {
    const fc = this.meta.featureConfig;
    const y = prepareSignal(samples, sampleRate, fc);
    if (this.meta.inputKind === 'waveform')
      return { data: y, dims: this.meta.inputDims.length === 3 ? [1, 1, y.length] : [1, y.length] };
    const f = featuresFromSignal(y, fc);
    const data = f.data instanceof Float32Array ? f.data : Float32Array.from(f.data);
    return { data, dims: [1, ...(f.shape.length === 2 ? [1, ...f.shape] : f.shape)] };
  }

  /** Runs a batch. `dims` must match the graph input's rank and fixed sizes (meta.inputDims). */
  async run(input: Float32Array, dims: number[]): Promise<OnnxOutputs> {
    const want = this.meta.inputDims;
    const bad =
      dims.length !== want.length ||
      dims.some((d, i) => !Number.isInteger(d) || d < 1 || (typeof want[i] === 'number' && want[i] !== d));
    if (bad)
      throw new Error(
        `OnnxModel.run: input "${this.meta.inputName}" must be [${want.join(', ')}], got [${dims.join(', ')}]`,
      );
    if (this.meta.frontend) {
      // The graph's STFT needs a full frame; reflect padding needs more samples than it pads.
      const c = this.meta.featureConfig;
      const samples = dims[dims.length - 1]!;
      const half = Math.floor(c.nFft / 2);
      const min = !c.center
        ? c.nFft
        : c.padMode === 'reflect'
          ? half + 1
          : c.padMode === 'symmetric' || c.padMode === 'wrap'
            ? half
            : 1;
      if (samples < min)
        throw new Error(
          `OnnxModel.run: ${samples} samples is too short for the front-end (nFft ${c.nFft}, ` +
            `${c.center ? `padMode ${c.padMode}` : 'center false'}): need at least ${min}`,
        );
    }
    const n = dims.reduce((a, b) => a * b, 1);
    if (input.length !== n)
      throw new Error(`OnnxModel.run: dims [${dims.join(', ')}] need ${n} values, got ${input.length}`);
    // Slices of the batch, one per session (one slice with a single session).
    const b = dims[0]!;
    const k = Math.min(this.sessions.length, b);
    const per = n / b;
    const results = await Promise.all(
      Array.from({ length: k }, (_, i) => {
        const [r0, r1] = [Math.floor((i * b) / k), Math.floor(((i + 1) * b) / k)];
        const x = k === 1 ? input : input.subarray(r0 * per, r1 * per);
        const feeds = {
          [this.meta.inputName]: new this.ort.Tensor('float32', x, [r1 - r0, ...dims.slice(1)]),
        };
        return this.sessions[i]!.run(feeds);
      }),
    );
    const get = (name: string) => {
      const ts = results.map((r) => r[name]);
      if (ts.some((t) => !t)) return undefined;
      if (ts.length === 1) return { data: ts[0]!.data as Float32Array, dims: [...ts[0]!.dims] };
      const data = concatFloat32(ts.map((t) => t!.data as Float32Array));
      return { data, dims: [b, ...ts[0]!.dims.slice(1)] };
    };
    const clip = get('clipwise');
    if (!clip) throw new Error(`OnnxModel.run: ${this.path || 'the model'} has no "clipwise" output`);
    const out: OnnxOutputs = { clipwise: clip.data, clipwiseDims: clip.dims };
    const fw = get('framewise');
    if (fw) [out.framewise, out.framewiseDims] = [fw.data, fw.dims];
    const emb = get('embedding');
    if (emb) [out.embedding, out.embeddingDims] = [emb.data, emb.dims];
    return out;
  }

  /** Logits [rows, classes] → scores with the run's activation (softmax per row, or sigmoid). */
  scores(logits: Float32Array): Float32Array {
    return activate(logits, this.meta.classes.length, this.meta.activation);
  }

  async close(): Promise<void> {
    for (const session of this.sessions) await session.release();
  }
}

/** Softmax over each row of `classes` values, or an elementwise sigmoid. */
export function activate(
  logits: Float32Array,
  classes: number,
  activation: 'softmax' | 'sigmoid',
): Float32Array {
  const out = new Float32Array(logits.length);
  if (activation === 'sigmoid') {
    for (let i = 0; i < out.length; i++) out[i] = 1 / (1 + Math.exp(-logits[i]!));
    return out;
  }
  for (let r = 0; r < logits.length / classes; r++) {
    const o = r * classes;
    let m = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < classes; c++) m = Math.max(m, logits[o + c]!);
    let s = 0;
    for (let c = 0; c < classes; c++) s += Math.exp(logits[o + c]! - m);
    for (let c = 0; c < classes; c++) out[o + c] = Math.exp(logits[o + c]! - m) / s;
  }
  return out;
}
