// The engine (libtorch) backend: a fold checkpoint rebuilt through the model registry, scored in eval
// mode inside noGrad + tidy, the checkpoint's activation applied. Embeddings are the input of the model's
// last Linear layer (the classifier of every registry model; for the SED model the frame-wise layer
// before its attention heads), read by wrapping that layer's `call` on this instance only, averaged over
// time when it is frame-wise. Imported lazily by backend.ts: importing this loads the native addon.
import * as E from '../engine/index.js';
import { resolveFeatureConfig } from '../features/config.js';
import { loadModel } from '../models/index.js';
import { Linear } from '../nn/linear.js';
import type { BatchInput, BatchScores, CropSpec, LoadOptions, ModelInfo, ScoringBackend } from './backend.js';

export function loadEngineBackend(dir: string, label: string, opts: LoadOptions = {}): ScoringBackend {
  const device = opts.device ?? 'cpu';
  const { model, config } = loadModel(dir, device === 'cpu' ? {} : { device });
  if (opts.threads) E.setNumThreads(opts.threads);
  E.setConvAlgorithm(opts.convAlgorithm ?? 'winograd');
  if (!Array.isArray(config.classes))
    throw new Error(`${dir}/config.json: no "classes" list; was it written by audiotag train?`);
  if (config.featureConfig === undefined)
    throw new Error(`${dir}/config.json: no "featureConfig"; was it written by audiotag train?`);
  const crop = (config.crop ?? null) as Partial<CropSpec> | null;
  const name = String(config.model);
  const info: ModelInfo = {
    label,
    classes: config.classes as string[],
    activation: config.activation === 'sigmoid' ? 'sigmoid' : 'softmax',
    aggregate: config.aggregate === 'max' ? 'max' : 'mean',
    featureConfig: resolveFeatureConfig(config.featureConfig as never),
    crop: crop
      ? {
          frames: crop.frames!,
          evalMode: crop.evalMode ?? 'windows',
          evalHop: crop.evalHop ?? Math.max(1, Math.floor(crop.frames! / 2)),
          pad: crop.pad ?? 'wrap',
          padValue: crop.padValue ?? 0,
        }
      : null,
    input: name === 'conv1d-raw' ? 'waveform' : 'features',
    framewise: name === 'sed' || name === 'crnn',
    sed: name === 'sed',
  };
  // The embedding tap: the last Linear's input, captured only while `tap` is set.
  let head: Linear | null = null;
  for (const [, m] of model.namedModules()) if (m instanceof Linear) head = m;
  let tap: { data: Float32Array; dim: number } | null = null;
  let tapping = false;
  if (head) {
    const inner = head.call.bind(head);
    (head as { call: (x: E.Tensor) => E.Tensor }).call = (x: E.Tensor) => {
      if (tapping) {
        const v = x.ndim > 2 ? x.reshape([x.shape[0]!, -1, x.shape[x.ndim - 1]!]).mean(1) : x;
        tap = { data: v.toFloat32Array(), dim: v.shape[1]! };
      }
      return inner(x);
    };
  }
  return {
    kind: 'engine',
    info,
    async run(batch: BatchInput, want): Promise<BatchScores> {
      tapping = !!want.embedding;
      tap = null;
      try {
        return E.noGrad(() =>
          E.tidy(() => {
            let x = E.fromNDArray(batch, device === 'cpu' ? undefined : { device });
            // Single-channel features come as [B, bands, frames]; the models take [B, 1, bands, frames].
            if (info.input === 'features' && x.ndim === 3) x = x.unsqueeze(1);
            if (info.input === 'waveform' && x.ndim === 2) x = x.unsqueeze(1);
            const out = model.call(x);
            const act = (t: E.Tensor, dim: number) =>
              info.activation === 'softmax' ? t.softmax(dim) : t.sigmoid();
            const r: BatchScores = { clip: act(out.clipwise, 1).toFloat32Array() };
            if (want.frames && out.framewise)
              r.frames = { data: act(out.framewise, 2).toFloat32Array(), frames: out.framewise.shape[1]! };
            if (want.embedding) {
              if (!tap) throw new Error(`${label}: the model has no Linear layer to take embeddings from`);
              r.embedding = tap;
            }
            return r;
          }),
        );
      } finally {
        tapping = false;
      }
    },
    dispose() {
      model.dispose();
    },
  };
}
