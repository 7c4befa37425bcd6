// `audiotag export`: a trained run (or any registry model) → one ONNX file with metadata. The model's
// weights are read through the engine; the graph is emitted by src/export/models.ts, optionally behind
// the feature front-end (src/export/frontend.ts), and optionally with int8 weights (quantize.ts).
// Several fold models go into one graph that averages their probabilities, as `audiotag evaluate` does.

import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type FeatureConfig, formatChannels, resolveFeatureConfig } from '../features/config.js';
import { loadModel } from '../models/index.js';
import { modelOrigin } from '../models/registry.js';
import type { AudioModel } from '../models/types.js';
import { emitFrontend, frontendProblem } from './frontend.js';
import { type ExportMeta, META_VERSION, metaToProps, type WindowSpec } from './meta.js';
import { emitModel, type GraphOutputs, needsStaticTime } from './models.js';
import { GraphBuilder } from './onnx-builder.js';
import { ExportError, type V } from './ops/layers.js';
import { quantizeInt8 } from './quantize.js';

export { ExportError } from './ops/layers.js';

export interface ExportInfo {
  /** Registry name and config (default: from createModel's record). */
  name?: string;
  config?: unknown;
  classes: string[];
  activation: 'softmax' | 'sigmoid';
  aggregate?: 'mean' | 'max';
  featureConfig: FeatureConfig;
  /** The run's crop (frames, evalMode, evalHop, pad, padValue) or null for whole clips. */
  crop?: { frames: number; evalMode?: string; evalHop?: number; pad?: string; padValue?: number } | null;
  run?: string;
  folds?: number[];
}

export interface ExportOptions {
  /** Put the feature front-end in the graph (waveform input). */
  frontend?: boolean;
  /** Weight-only int8. */
  quantize?: 'int8' | null;
}

export interface ExportResult {
  bytes: Uint8Array;
  meta: ExportMeta;
  /** With quantize: tensors converted and their bytes before/after. */
  quantized?: { tensors: number; floatBytes: number; int8Bytes: number };
}

const WAVEFORM_MODELS = new Set(['conv1d-raw']);

/** Frames the feature pipeline gives for `samples` samples. */
function framesOf(c: FeatureConfig, samples: number): number {
  return c.center ? 1 + Math.floor(samples / c.hopLength) : 1 + Math.floor((samples - c.nFft) / c.hopLength);
}

/** Samples that give exactly `frames` frames. */
function samplesFor(c: FeatureConfig, frames: number): number {
  return c.center ? (frames - 1) * c.hopLength : c.nFft + (frames - 1) * c.hopLength;
}

function windowSpec(info: ExportInfo, waveform: boolean): WindowSpec | null {
  const crop = info.crop;
  if (!crop) return null;
  const c = info.featureConfig;
  const frames = crop.frames;
  const hop = crop.evalHop ?? Math.max(1, Math.floor(frames / 2));
  const unit = waveform ? 1 : c.hopLength;
  return {
    frames,
    evalMode: (crop.evalMode ?? 'windows') as WindowSpec['evalMode'],
    hopFrames: hop,
    seconds: (frames * unit) / c.sampleRate,
    hopSeconds: (hop * unit) / c.sampleRate,
    samples: waveform ? frames : samplesFor(c, frames),
    pad: crop.pad === 'constant' ? 'constant' : 'wrap',
    padValue: crop.padValue ?? 0,
  };
}

/** Log of mean probabilities, as logits: softmax/sigmoid of the result gives the mean back. */
function meanProbabilityLogits(
  g: GraphBuilder,
  logits: string[],
  activation: 'softmax' | 'sigmoid',
  axis: number,
): string {
  const probs = logits.map((l) =>
    activation === 'softmax' ? g.op('Softmax', [l], { axis }) : g.op('Sigmoid', [l]),
  );
  const mean = g.op('Div', [g.op('Sum', probs), g.scalar(probs.length)]);
  const tiny = g.scalar(1e-30);
  const logP = g.op('Log', [g.op('Max', [mean, tiny])]);
  if (activation === 'softmax') return logP;
  const logNotP = g.op('Log', [g.op('Max', [g.op('Sub', [g.scalar(1), mean]), tiny])]);
  return g.op('Sub', [logP, logNotP]);
}

/** Exports one model, or several fold models of one run (same architecture and features), to ONNX bytes. */
export function exportModels(models: AudioModel[], info: ExportInfo, opts: ExportOptions = {}): ExportResult {
  if (models.length === 0) throw new ExportError('export: no model given');
  const origin = modelOrigin(models[0]!);
  const name = info.name ?? origin?.name;
  const modelConfig = info.config ?? origin?.config;
  if (!name) throw new ExportError('export: the model was not made by createModel; pass info.name');
  const c = info.featureConfig;
  const waveformModel = WAVEFORM_MODELS.has(name);
  const frontend = !!opts.frontend && !waveformModel;
  if (frontend) {
    const problem = frontendProblem(c);
    if (problem) throw new ExportError(`feature config ${problem}`, 'frontend');
  }
  const window = windowSpec(info, waveformModel);
  const staticTime = models.some(needsStaticTime);
  // The example the graph is traced with: a window, else a whole clip of features.duration, else 2 s.
  const clipSamples = c.duration !== null ? Math.round(c.duration * c.sampleRate) : 2 * c.sampleRate;
  const exampleFrames = window ? window.frames : waveformModel ? clipSamples : framesOf(c, clipSamples);
  const exampleSamples = window ? window.samples : clipSamples;
  if (staticTime && !window && c.duration === null)
    throw new ExportError(
      `export: ${name} needs a fixed input length (crop.frames or features.duration in the run config)`,
    );
  const g = new GraphBuilder(name);
  let input: V;
  let inputDims: (number | string)[];
  let inputName: string;
  let x: V;
  if (waveformModel) {
    inputName = 'waveform';
    const ch = (modelConfig as { inChannels?: number })?.inChannels ?? 1;
    inputDims = ['batch', ch, !staticTime ? 'samples' : exampleFrames];
    input = { name: g.input(inputName, inputDims), shape: [1, ch, exampleFrames] };
    x = input;
  } else if (frontend) {
    inputName = 'waveform';
    inputDims = ['batch', !staticTime ? 'samples' : exampleSamples];
    input = { name: g.input(inputName, inputDims), shape: [1, exampleSamples] };
    x = g.within('frontend', () => emitFrontend(g, c, input));
    const want = (modelConfig as { inChannels?: number })?.inChannels;
    if (want !== undefined && want !== x.shape[1])
      throw new ExportError(
        `the features have ${x.shape[1]} channel(s) (format "${c.format}") but the model takes ${want}`,
        'frontend',
      );
  } else {
    inputName = 'features';
    const ch = formatChannels(c.format);
    const bands = c.format === 'mfcc' || c.format === 'gtcc' ? c.nMfcc : c.nMels;
    inputDims = ['batch', ch, bands, !staticTime ? 'frames' : exampleFrames];
    input = { name: g.input(inputName, inputDims), shape: [1, ch, bands, exampleFrames] };
    x = input;
  }
  const outs: GraphOutputs[] = models.map((m, i) =>
    models.length > 1
      ? g.within(`fold${info.folds?.[i] ?? i}`, () => emitModel(g, m, x, !staticTime))
      : emitModel(g, m, x, !staticTime),
  );
  const classes = info.classes.length;
  const first = outs[0]!;
  if (first.clipwise.shape[1] !== classes)
    throw new ExportError(
      `export: the model has ${first.clipwise.shape[1]} outputs but ${classes} classes are listed`,
    );
  if (outs.length === 1) {
    g.output(first.clipwise.name, 'clipwise', ['batch', classes]);
    if (first.framewise) g.output(first.framewise.name, 'framewise', ['batch', 'out_frames', classes]);
    g.output(first.embedding.name, 'embedding', ['batch', first.embedding.shape[1]!]);
  } else {
    const act = info.activation;
    g.output(
      meanProbabilityLogits(
        g,
        outs.map((o) => o.clipwise.name),
        act,
        1,
      ),
      'clipwise',
      ['batch', classes],
    );
    if (first.framewise)
      g.output(
        meanProbabilityLogits(
          g,
          outs.map((o) => o.framewise!.name),
          act,
          2,
        ),
        'framewise',
        ['batch', 'out_frames', classes],
      );
    const emb = g.op('Div', [
      g.op(
        'Sum',
        outs.map((o) => o.embedding.name),
      ),
      g.scalar(outs.length),
    ]);
    g.output(emb, 'embedding', ['batch', first.embedding.shape[1]!]);
  }
  const quantized = opts.quantize === 'int8' ? quantizeInt8(g) : undefined;
  const meta: ExportMeta = {
    version: META_VERSION,
    model: name,
    modelConfig: modelConfig ?? null,
    classes: info.classes,
    activation: info.activation,
    aggregate: info.aggregate ?? 'mean',
    featureConfig: c,
    window,
    frontend,
    inputName,
    inputKind: frontend || waveformModel ? 'waveform' : 'features',
    inputDims,
    sampleRate: c.sampleRate,
    outputs: ['clipwise', ...(first.framewise ? ['framewise'] : []), 'embedding'],
    embeddingSize: first.embedding.shape[1]!,
    quantize: opts.quantize ?? null,
    folds: info.folds ?? [0],
    run: info.run ?? '',
  };
  const bytes = g.toBytes({ metadata: metaToProps(meta), docString: `audiotag export of ${name}` });
  return { bytes, meta, quantized };
}

export interface ExportRunOptions extends ExportOptions {
  /** Fold indices (default: the only fold; a run with several needs `folds` or `allFolds`). */
  folds?: number[];
  allFolds?: boolean;
  checkpoint?: 'best' | 'last';
}

/** The trained folds of a run directory (fold<i>/<checkpoint>/model.safetensors). */
export function runFolds(runDir: string, checkpoint: 'best' | 'last' = 'best'): number[] {
  if (!existsSync(runDir)) throw new ExportError(`export: ${runDir}: no such directory`);
  return readdirSync(runDir)
    .map((d) => /^fold(\d+)$/.exec(d))
    .filter(
      (m): m is RegExpExecArray =>
        m !== null && existsSync(join(runDir, m[0], checkpoint, 'model.safetensors')),
    )
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

/** Exports a run directory written by `audiotag train` (or one checkpoint directory). */
export function exportRun(runDir: string, opts: ExportRunOptions = {}): ExportResult {
  const dir = resolve(runDir);
  const checkpoint = opts.checkpoint ?? 'best';
  let dirs: { dir: string; fold: number }[];
  if (existsSync(join(dir, 'model.safetensors')) && existsSync(join(dir, 'config.json'))) {
    dirs = [{ dir, fold: 0 }];
  } else {
    const trained = runFolds(dir, checkpoint);
    if (trained.length === 0)
      throw new ExportError(
        `export: ${runDir} is not a run directory (no fold*/${checkpoint}/model.safetensors)`,
      );
    let folds = opts.allFolds ? trained : (opts.folds ?? (trained.length === 1 ? trained : null));
    if (!folds)
      throw new ExportError(
        `${runDir} has ${trained.length} trained folds (${trained.join(', ')}); choose which (folds, or allFolds: true)`,
        'folds',
      );
    for (const f of folds)
      if (!trained.includes(f))
        throw new ExportError(
          `${runDir}/fold${f}/${checkpoint} holds no checkpoint (trained: ${trained.join(', ')})`,
          'folds',
        );
    folds = [...folds];
    dirs = folds.map((f) => ({ dir: join(dir, `fold${f}`, checkpoint), fold: f }));
  }
  const models: AudioModel[] = [];
  try {
    let cfg: Record<string, unknown> | null = null;
    for (const d of dirs) {
      const { model, config } = loadModel(d.dir);
      models.push(model);
      if (!cfg) cfg = config as Record<string, unknown>;
      else if (JSON.stringify(config.config) !== JSON.stringify(cfg.config) || config.model !== cfg.model)
        throw new ExportError(`export: the folds of ${runDir} have different models; export them one by one`);
    }
    const ck = cfg!;
    if (!Array.isArray(ck.classes)) throw new ExportError(`${dirs[0]!.dir}/config.json: no "classes" list`);
    if (ck.featureConfig === undefined)
      throw new ExportError(
        `${dirs[0]!.dir}/config.json: no "featureConfig"; was it written by audiotag train?`,
      );
    return exportModels(
      models,
      {
        name: String(ck.model),
        config: ck.config,
        classes: ck.classes as string[],
        activation: ck.activation === 'sigmoid' ? 'sigmoid' : 'softmax',
        aggregate: ck.aggregate === 'max' ? 'max' : 'mean',
        featureConfig: resolveFeatureConfig(ck.featureConfig as never),
        crop: (ck.crop ?? null) as ExportInfo['crop'],
        run: dir,
        folds: dirs.map((d) => d.fold),
      },
      opts,
    );
  } finally {
    for (const m of models) m.dispose();
  }
}
