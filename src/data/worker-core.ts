// The work of one loader worker, free of any thread plumbing so it runs the same in a worker thread
// (worker.ts) and in-process (workers: 0): decode + features for the cache, and whole batches — per-row
// waveform augmentation (features then computed on the spot), crop, per-row spectrogram augmentation,
// stacking, and the batch-level mixing on the assembled batch. A batch is a pure function of its task
// (rows, seeds, starts) and the clip store, so which worker builds it does not matter.
import { loadAudio } from '../audio/index.js';
import {
  type AnyAugmentation,
  applyBatch,
  applySpectrogram,
  applyWaveform,
  augmentationFromSpec,
} from '../augment/index.js';
import { prepareAugmentation } from '../augment/node/index.js';
import type { NDArray } from '../core/ndarray.js';
import { Random } from '../core/random.js';
import { featuresFromSignal, prepareSignal } from '../features/compute.js';
import { type FeatureConfig, resolveFeatureConfig } from '../features/config.js';

export type PadMode = 'wrap' | 'constant';

export interface ResolvedCrop {
  frames: number;
  evalMode: 'center' | 'start' | 'windows';
  evalHop: number;
  pad: PadMode;
  padValue: number;
}

/** Augmentation specs (plain objects, as augmentationFromSpec reads them); null: none. */
export interface CoreSpecs {
  waveform: unknown;
  spectrogram: unknown;
  batch: unknown;
}

/** What every worker gets once (structured-cloned; `targets` shares its memory when SAB-backed). */
export interface CoreInit {
  config: FeatureConfig;
  /** Items are waveforms [1, samples] (a format of kind 'waveform' in the registry), not spectrograms. */
  waveformFormat: boolean;
  training: boolean;
  crop: ResolvedCrop | null;
  specs: CoreSpecs;
  /** Every dataset item's path (decoded on the spot when waveform augmentation is on). */
  paths: string[];
  /** Row-major [items, classes] targets. */
  targets: Float32Array;
  nClasses: number;
}

/** Per clip: its features (or prepared waveform) and their shape, channel axis first; null if not held. */
export interface ClipStore {
  data: (Float32Array | null)[];
  shapes: (number[] | null)[];
}

export interface BatchTask {
  /** Dataset index of each row's clip. */
  rows: Int32Array;
  /** Training: the seed of each row's Random. */
  seeds: Uint32Array | null;
  /** Evaluation: the crop start of each row (negative: padded in front). */
  starts: Int32Array | null;
  /** Seed of the batch-level mixing. */
  mixSeed: number;
}

export interface BatchResult {
  inputs: Float32Array;
  shape: number[];
  targets: Float32Array;
  /** Crop start of each row in its clip's frames (negative: the clip sits that far inside the window). */
  offsets: Int32Array;
}

export interface ComputeResult {
  data: Float32Array;
  shape: number[];
}

/** A stored item's shape as a row: 2-D features [mels, frames] get a channel axis of 1; waveforms are
 * stored as [1, samples] already. */
export function withChannelAxis(shape: readonly number[], waveform = false): number[] {
  return shape.length === 2 && !waveform ? [1, shape[0]!, shape[1]!] : [...shape];
}

/**
 * Copies a window of `frames` along the last axis of x, starting at `start` (may be negative or run past
 * the end), into out at outOffset. Outside the clip: 'wrap' repeats the clip (numpy.pad mode="wrap"),
 * 'constant' writes padValue.
 */
export function cropInto(
  x: NDArray,
  start: number,
  frames: number,
  pad: PadMode,
  padValue: number,
  out: Float32Array,
  outOffset: number,
): void {
  const t = x.shape[x.shape.length - 1]!;
  if (t === 0) throw new Error('crop: the clip has no frames');
  const rows = x.data.length / t;
  const lo = Math.max(0, -start);
  const hi = Math.min(frames, t - start);
  for (let r = 0; r < rows; r++) {
    const src = r * t;
    const dst = outOffset + r * frames;
    if (hi > lo) out.set(x.data.subarray(src + start + lo, src + start + hi), dst + lo);
    const padAt = (j: number) => {
      out[dst + j] = pad === 'constant' ? padValue : x.data[src + ((((start + j) % t) + t) % t)]!;
    };
    for (let j = 0; j < Math.min(lo, frames); j++) padAt(j);
    for (let j = Math.max(hi, lo); j < frames; j++) padAt(j);
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** A Float32Array that owns its whole (non-shared) buffer, so it can be transferred without a copy. */
function owned(a: Float32Array): Float32Array {
  return a.buffer instanceof ArrayBuffer && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength
    ? a
    : a.slice();
}

export class LoaderCore {
  readonly config: FeatureConfig;
  private readonly init: CoreInit;
  /** Features and waveforms go into SharedArrayBuffers when other threads will read them. */
  private readonly shared: boolean;
  private store: ClipStore = { data: [], shapes: [] };
  private waveAug: AnyAugmentation | null = null;
  private specAug: AnyAugmentation | null = null;
  private batchAug: AnyAugmentation | null = null;

  constructor(init: CoreInit, shared: boolean) {
    this.init = init;
    this.shared = shared;
    // Resolved already; resolving again restores the frozen, checked object a structured clone loses.
    this.config = resolveFeatureConfig(init.config);
  }

  /** Builds the pipelines and loads the files they need (noise clips, impulse responses). */
  async prepare(): Promise<void> {
    const { specs, training } = this.init;
    if (!training) return;
    const build = (s: unknown) => (s === null || s === undefined ? null : augmentationFromSpec(s));
    this.waveAug = build(specs.waveform);
    this.specAug = build(specs.spectrogram);
    this.batchAug = build(specs.batch);
    for (const a of [this.waveAug, this.specAug, this.batchAug])
      if (a) await prepareAugmentation(a, this.config.sampleRate);
  }

  setStore(store: ClipStore): void {
    this.store = store;
  }

  /** Decodes one clip and computes what the store holds for it: features, or the prepared waveform. */
  async compute(clip: number): Promise<ComputeResult> {
    const path = this.init.paths[clip]!;
    const audio = await loadAudio(path, { mono: true });
    let out: NDArray;
    try {
      const y = prepareSignal(audio.channels[0]!, audio.sampleRate, this.config);
      out = featuresFromSignal(y, this.config);
    } catch (e) {
      throw new Error(`${path}: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (!this.shared) return { data: out.data, shape: out.shape };
    const data = new Float32Array(new SharedArrayBuffer(out.data.byteLength));
    data.set(out.data);
    return { data, shape: out.shape };
  }

  /** The uncropped item of one row: from the store, or decoded and augmented on the spot. */
  private async source(clip: number, rng: Random | null): Promise<NDArray> {
    const held = this.store.data[clip];
    const heldShape = this.store.shapes[clip];
    const wave = this.waveAug;
    if (wave && rng) {
      const sr = this.config.sampleRate;
      if (this.init.waveformFormat) {
        if (!held) throw new Error(`loader: clip ${this.init.paths[clip]} is not in the store`);
        const y = applyWaveform(wave, held, sr, rng);
        return { data: y, shape: [1, y.length] };
      }
      // Features cannot be cached here: the waveform changes every time.
      const path = this.init.paths[clip]!;
      const audio = await loadAudio(path, { mono: true });
      try {
        const y = applyWaveform(
          wave,
          prepareSignal(audio.channels[0]!, audio.sampleRate, this.config),
          sr,
          rng,
        );
        const f = featuresFromSignal(y, this.config);
        return { data: f.data, shape: withChannelAxis(f.shape) };
      } catch (e) {
        throw new Error(`${path}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    if (!held || !heldShape) throw new Error(`loader: clip ${this.init.paths[clip]} is not in the store`);
    return { data: held, shape: withChannelAxis(heldShape, this.init.waveformFormat) };
  }

  /** One batch: rows built in order, stacked, then mixed. */
  async build(task: BatchTask): Promise<BatchResult> {
    const { crop, nClasses, targets } = this.init;
    const b = task.rows.length;
    let inputs: Float32Array | null = null;
    let rowShape: number[] = [];
    let rowSize = 0;
    const offsets = new Int32Array(b);
    for (let r = 0; r < b; r++) {
      const clip = task.rows[r]!;
      const rng = task.seeds ? new Random(task.seeds[r]!) : null;
      const x = await this.source(clip, rng);
      const augment = this.specAug && rng ? this.specAug : null;
      let item: NDArray = x;
      // Straight into the batch when nothing comes after the crop; through a row otherwise.
      let direct = false;
      if (crop) {
        const t = x.shape[x.shape.length - 1]!;
        let start: number;
        if (task.starts) start = task.starts[r]!;
        else if (!rng) start = 0;
        else if (t >= crop.frames) start = rng.int(0, t - crop.frames + 1);
        else start = -rng.int(0, crop.frames - t + 1);
        offsets[r] = start;
        const shape = [...x.shape.slice(0, -1), crop.frames];
        const size = (x.data.length / t) * crop.frames;
        direct = !augment && inputs !== null && sameShape(shape, rowShape);
        if (direct) cropInto(x, start, crop.frames, crop.pad, crop.padValue, inputs!, r * rowSize);
        else {
          item = { data: new Float32Array(size), shape };
          cropInto(x, start, crop.frames, crop.pad, crop.padValue, item.data, 0);
        }
      }
      if (direct) continue;
      if (augment && rng) item = applySpectrogram(augment, item, rng);
      if (inputs === null) {
        rowShape = [...item.shape];
        rowSize = item.data.length;
        inputs = new Float32Array(b * rowSize);
      } else if (!sameShape(item.shape, rowShape)) {
        throw new Error(
          `loader: ${this.init.paths[clip]} gives a row of shape [${item.shape.join(', ')}] but ${this.init.paths[task.rows[0]!]} gives [${rowShape.join(', ')}] in the same batch; set crop.frames or features.duration so clips share a length`,
        );
      }
      inputs.set(item.data, r * rowSize);
    }
    const y = new Float32Array(b * nClasses);
    for (let r = 0; r < b; r++) {
      const c = task.rows[r]!;
      y.set(targets.subarray(c * nClasses, (c + 1) * nClasses), r * nClasses);
    }
    let batch: NDArray = { data: inputs ?? new Float32Array(0), shape: [b, ...rowShape] };
    let tgt: NDArray = { data: y, shape: [b, nClasses] };
    if (this.batchAug && task.seeds) {
      const mixed = applyBatch(this.batchAug, batch, tgt, new Random(task.mixSeed), {
        sampleRate: this.config.sampleRate,
      });
      batch = mixed.batch;
      tgt = mixed.targets;
    }
    return { inputs: owned(batch.data), shape: [...batch.shape], targets: owned(tgt.data), offsets };
  }
}
