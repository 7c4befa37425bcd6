// The live page's inference worker: fetches the exported ONNX model (front-end inside the graph: waveform
// in, scores out), reads its metadata, runs it in onnxruntime-web's WebAssembly backend (the .wasm file is
// served with the app under ort/, see web/vite.config.ts: no CDN), and scores each window the AudioWorklet
// sends it.
//
// Messages: in  { type: 'load', modelUrl, wasmBase } then { type: 'audio', port } (the worklet's windows arrive on port)
//           out { type: 'ready', info } | { type: 'scores', ... } | { type: 'error', message }

import * as ort from 'onnxruntime-web/wasm';
import { cropOrPad } from '../../../src/audio/browser.js';
import type { ExportMeta } from '../../../src/export/meta.js';
import { metaFromProps } from '../../../src/export/meta.js';
import { decodeModel } from '../../../src/export/onnx-builder.js';
import { prepareSignal } from '../../../src/features/compute.js';
import type { WindowMessage } from './worklet.js';

/** What the page needs to know about the model (sent once it is loaded). */
export interface LiveModelInfo {
  classes: string[];
  sampleRate: number;
  /** Seconds of audio per scored window. */
  seconds: number;
  model: string;
  bytes: number;
}

export type WorkerIn =
  | { type: 'load'; modelUrl: string /** URL of the folder with onnxruntime-web's .wasm */; wasmBase: string }
  | { type: 'audio'; port: MessagePort };
export type WorkerOut =
  | { type: 'ready'; info: LiveModelInfo }
  | {
      type: 'scores';
      scores: Float32Array;
      /** End of the window, in seconds since the microphone started. */
      at: number;
      /** Inference time of this window (ms). */
      ms: number;
      /** RMS level of the window's audio in dB full scale. */
      level: number;
    }
  | { type: 'error'; message: string };

ort.env.wasm.numThreads = 1; // threads need cross-origin isolation; one window is a small batch anyway
ort.env.logLevel = 'error';

let session: ort.InferenceSession | null = null;
let meta: ExportMeta | null = null;
let busy = false;
let pending: WindowMessage | null = null;

const post = (m: WorkerOut, transfer: Transferable[] = []) => self.postMessage(m, { transfer });
const fail = (e: unknown) => post({ type: 'error', message: e instanceof Error ? e.message : String(e) });

/** Seconds of audio per window: the run's window, else its clip duration, else 1 s. */
function windowSeconds(m: ExportMeta): number {
  return m.window ? m.window.samples / m.sampleRate : (m.featureConfig.duration ?? 1);
}

async function load(modelUrl: string, wasmBase: string): Promise<void> {
  ort.env.wasm.wasmPaths = wasmBase;
  const res = await fetch(modelUrl);
  if (!res.ok) throw new Error(`live: GET ${modelUrl} answered ${res.status} ${res.statusText}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  let props: Record<string, string>;
  try {
    props = Object.fromEntries(decodeModel(bytes).metadataProps.map((p) => [p.key, p.value]));
  } catch (e) {
    throw new Error(`live: ${modelUrl} is not an ONNX model (${(e as Error).message})`);
  }
  const m = metaFromProps(props, modelUrl);
  if (m.inputKind !== 'waveform')
    throw new Error(
      `live: ${modelUrl} takes features, not a waveform; export it with --frontend (docs/export.md)`,
    );
  session = await ort.InferenceSession.create(bytes, {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
  meta = m;
  post({
    type: 'ready',
    info: {
      classes: m.classes,
      sampleRate: m.sampleRate,
      seconds: windowSeconds(m),
      model: m.model,
      bytes: bytes.length,
    },
  });
}

/** The graph input for one window: as OnnxModel.inputFor, then the newest `window.samples` samples. */
function inputOf(m: ExportMeta, w: WindowMessage): Float32Array {
  let y = prepareSignal(w.samples.subarray(w.samples.length - w.filled), w.rate, m.featureConfig);
  if (m.window) {
    const n = m.window.samples;
    y = y.length > n ? y.subarray(y.length - n) : cropOrPad(y, n, { padMode: m.window.pad });
  }
  return y;
}

// Not src/export's activate: importing onnx-runtime.ts makes Vite's dev server try to pre-bundle its
// import('onnxruntime-node') (a native addon) and fail.
function activate(logits: Float32Array, activation: ExportMeta['activation']): Float32Array {
  if (activation === 'sigmoid') return logits.map((v) => 1 / (1 + Math.exp(-v)));
  const top = Math.max(...logits);
  const e = logits.map((v) => Math.exp(v - top));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

async function score(w: WindowMessage): Promise<void> {
  if (!session || !meta) return;
  // The STFT needs a frame's worth of samples; skip the first few milliseconds after start.
  if (w.filled < meta.featureConfig.nFft * (w.rate / meta.sampleRate)) return;
  const x = inputOf(meta, w);
  const dims = meta.inputDims.length === 3 ? [1, 1, x.length] : [1, x.length];
  const t0 = performance.now();
  const out = await session.run({ [meta.inputName]: new ort.Tensor('float32', x, dims) });
  const ms = performance.now() - t0;
  const clip = out.clipwise;
  if (!clip) throw new Error('live: the model has no "clipwise" output');
  const scores = activate(clip.data as Float32Array, meta.activation);
  let power = 0;
  for (const v of x) power += v * v;
  const level = 10 * Math.log10(Math.max(power / x.length, 1e-12));
  post({ type: 'scores', scores, at: w.written / w.rate, ms, level }, [scores.buffer]);
}

/** Scores windows one at a time; while one runs, only the newest waiting window is kept. */
async function onWindow(w: WindowMessage): Promise<void> {
  if (busy) {
    pending = w;
    return;
  }
  busy = true;
  try {
    let next: WindowMessage | null = w;
    while (next) {
      await score(next);
      next = pending;
      pending = null;
    }
  } catch (e) {
    fail(e);
  } finally {
    busy = false;
  }
}

self.onmessage = (e: MessageEvent<WorkerIn>) => {
  const msg = e.data;
  if (msg.type === 'load') load(msg.modelUrl, msg.wasmBase).catch(fail);
  else if (msg.type === 'audio') msg.port.onmessage = (ev: MessageEvent<WindowMessage>) => onWindow(ev.data);
};
