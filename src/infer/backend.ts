// What scores windows: a ScoringBackend is one model (a fold checkpoint through the engine, or an ONNX
// file through onnxruntime) behind one interface, with everything the pipeline needs to feed it — the
// class order, the activation, the feature config and the window — read from the model itself.
// Nothing here imports the engine or onnxruntime: each backend is imported when a model of its kind is
// loaded, so tagging with an ONNX file never loads libtorch.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { OptionError } from '../core/errors.js';
import type { FeatureConfig } from '../features/config.js';

/** How a run cut clips into windows (the run config's `crop`). */
export interface CropSpec {
  frames: number;
  evalMode: 'center' | 'start' | 'windows';
  evalHop: number;
  pad: 'wrap' | 'constant';
  padValue: number;
}

/** What a model says about itself. */
export interface ModelInfo {
  /** Where it came from: `run/fold0` or `model.onnx`. */
  label: string;
  classes: string[];
  activation: 'softmax' | 'sigmoid';
  /** How the run combined window scores of a clip. */
  aggregate: 'mean' | 'max';
  featureConfig: FeatureConfig;
  crop: CropSpec | null;
  /** 'features': the backend takes feature tensors [B, ...]; 'waveform': [B, samples] at featureConfig.sampleRate. */
  input: 'features' | 'waveform';
  /** Whether the model gives frame-wise scores (SED, CRNN). */
  framewise: boolean;
  /** A SED model (clip score = its attention pooling). */
  sed: boolean;
}

/** One batch of inputs: features [B, ...] or waveforms [B, samples], row-major float32. */
export interface BatchInput {
  data: Float32Array;
  shape: number[];
}

/** Scores of one batch: activations applied (probabilities), row-major. */
export interface BatchScores {
  /** [B, C]. */
  clip: Float32Array;
  /** [B, T, C] for frame-wise models. */
  frames?: { data: Float32Array; frames: number };
  /** [B, D]: the input of the classifier (pooled over time when it is frame-wise). */
  embedding?: { data: Float32Array; dim: number };
}

export interface ScoringBackend {
  readonly kind: 'engine' | 'onnx';
  readonly info: ModelInfo;
  run(batch: BatchInput, want: { embedding?: boolean; frames?: boolean }): Promise<BatchScores>;
  dispose(): Promise<void> | void;
}

export interface LoadOptions {
  /** Fold indices of a run directory (default: every fold with a best/ checkpoint). */
  folds?: number[];
  /** Which checkpoint of each fold: 'best' (default) or 'last'. */
  checkpoint?: 'best' | 'last';
  /** Engine threads (default: the run's train.threads, else 1). */
  threads?: number;
  device?: string;
  /** Engine 3×3 convolutions: 'winograd' (default) or 'direct' (libtorch's, PyTorch-exact); E.setConvAlgorithm. */
  convAlgorithm?: 'winograd' | 'direct';
}

/** What a model path names: an ONNX file, one checkpoint directory, or a run with fold checkpoints. */
export type ModelSource =
  | { kind: 'onnx'; path: string }
  | { kind: 'checkpoint'; dir: string; label: string; run: string | null };

/** Expands a --model argument into its model sources (a run gives one per fold). */
export function resolveModelSources(path: string, opts: LoadOptions = {}): ModelSource[] {
  const p = resolve(path);
  if (!existsSync(p)) throw new Error(`model ${path}: no such file or directory`);
  if (statSync(p).isFile()) {
    if (!p.toLowerCase().endsWith('.onnx'))
      throw new Error(`model ${path}: expected a run directory, a checkpoint directory or a .onnx file`);
    return [{ kind: 'onnx', path: p }];
  }
  if (existsSync(join(p, 'model.safetensors')) && existsSync(join(p, 'config.json')))
    return [{ kind: 'checkpoint', dir: p, label: basename(p), run: null }];
  const which = opts.checkpoint ?? 'best';
  const folds = readdirSync(p)
    .map((d) => /^fold(\d+)$/.exec(d))
    .filter((m): m is RegExpExecArray => m !== null && existsSync(join(p, m[0], which, 'model.safetensors')))
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
  if (folds.length === 0)
    throw new Error(
      `model ${path}: not a run directory (no fold*/${which}/model.safetensors), a checkpoint directory or a .onnx file`,
    );
  const wanted = opts.folds ?? folds;
  for (const f of wanted)
    if (!folds.includes(f))
      throw new OptionError(
        'folds',
        `${p}/fold${f}/${which} holds no checkpoint (trained folds: ${folds.join(', ')})`,
      );
  return wanted.map((f) => ({
    kind: 'checkpoint',
    dir: join(p, `fold${f}`, which),
    label: `${basename(p)}/fold${f}`,
    run: p,
  }));
}

/** Loads one model source; the engine or onnxruntime is imported only here. */
export async function loadBackend(src: ModelSource, opts: LoadOptions = {}): Promise<ScoringBackend> {
  if (src.kind === 'onnx') {
    const { loadOnnxBackend } = await import('./onnx-backend.js');
    return loadOnnxBackend(src.path, opts);
  }
  const { loadEngineBackend } = await import('./engine-backend.js');
  return loadEngineBackend(src.dir, src.label, opts);
}
