// What an exported audiotag ONNX file says about itself, in its metadata_props: classes, activation,
// feature config, windowing, input layout and outputs. Written by the exporter, read by OnnxModel.
// Browser-safe.

import type { FeatureConfig } from '../features/config.js';

/** Metadata key prefix; every key below is `audiotag.<name>`. */
export const META_PREFIX = 'audiotag.';
export const META_VERSION = 1;

/** How the run scored windows of a clip (the run config's `crop`), with the same numbers in seconds. */
export interface WindowSpec {
  /** Frames per window (samples for waveform models). */
  frames: number;
  /** 'windows': overlapping windows every `hopFrames`; 'center'/'start': one crop. */
  evalMode: 'center' | 'start' | 'windows';
  hopFrames: number;
  /** frames × hop / sampleRate (samples / sampleRate for waveform models). */
  seconds: number;
  hopSeconds: number;
  /** Waveform samples of one window: they give exactly `frames` frames (front-end graphs take these). */
  samples: number;
  /** How short clips were padded to a window ('wrap' repeats the clip, 'constant' pads with padValue). */
  pad: 'wrap' | 'constant';
  padValue: number;
}

export interface ExportMeta {
  version: number;
  /** Registry name and resolved config of the architecture. */
  model: string;
  modelConfig: unknown;
  classes: string[];
  /** Turns `clipwise`/`framewise` logits into scores. */
  activation: 'softmax' | 'sigmoid';
  /** How window scores combine into a clip score in the run ('mean' or 'max'). */
  aggregate: 'mean' | 'max';
  /** The resolved feature config of the run. Trim/duration/resampling are NOT in the graph. */
  featureConfig: FeatureConfig;
  /** null: the run scored whole clips (features.duration sets their length). */
  window: WindowSpec | null;
  /** True when the graph starts from the waveform (STFT, mel, dB, format and normalisation inside). */
  frontend: boolean;
  /** The graph input: 'waveform' [batch, samples] (front-end or waveform model: [batch, 1, samples]) or 'features'. */
  inputName: string;
  inputKind: 'waveform' | 'features';
  /** Input dims; strings are symbolic ('batch', 'frames', 'samples'). */
  inputDims: (number | string)[];
  sampleRate: number;
  /** Graph outputs present: 'clipwise' always, 'framewise' for SED/CRNN, 'embedding'. */
  outputs: string[];
  /** Width of the embedding output. */
  embeddingSize: number;
  /** 'int8': weight-only int8 (DequantizeLinear on int8 initialisers); null: float32 weights. */
  quantize: 'int8' | null;
  /** Fold models in the graph (their scores averaged inside; see docs/export.md). */
  folds: number[];
  /** The run directory it came from (informative). */
  run: string;
}

/** ExportMeta → metadata_props (one key per field, JSON values). */
export function metaToProps(m: ExportMeta): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m)) out[`${META_PREFIX}${k}`] = JSON.stringify(v);
  return out;
}

/** metadata_props → ExportMeta; throws naming the file and the missing key for a non-audiotag model. */
export function metaFromProps(props: Record<string, string>, what = 'model'): ExportMeta {
  const get = (k: keyof ExportMeta) => {
    const raw = props[`${META_PREFIX}${k}`];
    if (raw === undefined)
      throw new Error(
        `${what}: not an audiotag export (metadata key "${META_PREFIX}${k}" missing); export it with audiotag export`,
      );
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      throw new Error(`${what}: metadata "${META_PREFIX}${k}" is not JSON: ${raw.slice(0, 60)}`);
    }
  };
  const version = get('version') as number;
  if (version !== META_VERSION)
    throw new Error(`${what}: audiotag metadata version ${version}, this build reads ${META_VERSION}`);
  const keys: (keyof ExportMeta)[] = [
    'version',
    'model',
    'modelConfig',
    'classes',
    'activation',
    'aggregate',
    'featureConfig',
    'window',
    'frontend',
    'inputName',
    'inputKind',
    'inputDims',
    'sampleRate',
    'outputs',
    'embeddingSize',
    'quantize',
    'folds',
    'run',
  ];
  const m: Record<string, unknown> = {};
  for (const k of keys) m[k] = get(k);
  return m as unknown as ExportMeta;
}
