// The ONNX backend: an `audiotag export` file run by onnxruntime (src/export/onnx-runtime.ts), with its
// classes, activation, feature config and window read from the file's metadata. Never imports the engine.

import { activate, OnnxModel } from '../export/onnx-runtime.js';
import { resolveFeatureConfig } from '../features/config.js';
import type { BatchInput, BatchScores, LoadOptions, ModelInfo, ScoringBackend } from './backend.js';

export async function loadOnnxBackend(path: string, opts: LoadOptions = {}): Promise<ScoringBackend> {
  const m = await OnnxModel.load(path, { threads: opts.threads ?? 1 });
  const meta = m.meta;
  const w = meta.window;
  const info: ModelInfo = {
    label: path,
    classes: meta.classes,
    activation: meta.activation,
    aggregate: meta.aggregate,
    featureConfig: resolveFeatureConfig(meta.featureConfig),
    crop: w
      ? { frames: w.frames, evalMode: w.evalMode, evalHop: w.hopFrames, pad: w.pad, padValue: w.padValue }
      : null,
    input: meta.inputKind,
    framewise: meta.outputs.includes('framewise'),
    sed: meta.model === 'sed',
  };
  const c = meta.classes.length;
  const rank = meta.inputDims.length;
  return {
    kind: 'onnx',
    info,
    async run(batch: BatchInput, want): Promise<BatchScores> {
      const b = batch.shape[0]!;
      let dims = batch.shape;
      // [B, bands, frames] features for a [B, 1, bands, frames] graph; [B, samples] for [B, 1, samples].
      if (dims.length === rank - 1) dims = [b, 1, ...dims.slice(1)];
      const out = await m.run(batch.data, dims);
      const r: BatchScores = { clip: activate(out.clipwise, c, meta.activation) };
      if (want.frames && out.framewise && out.framewiseDims)
        r.frames = { data: activate(out.framewise, c, meta.activation), frames: out.framewiseDims[1]! };
      if (want.embedding) {
        if (!out.embedding || !out.embeddingDims)
          throw new Error(`${path}: the export has no "embedding" output; export it again with this version`);
        r.embedding = { data: out.embedding, dim: out.embeddingDims[out.embeddingDims.length - 1]! };
      }
      return r;
    },
    async dispose() {
      await m.close();
    },
  };
}
