// The scoring pipeline shared by Tagger and `audiotag predict`: one producer reads recordings (streamed
// in chunks, see windows.ts) and cuts windows, whose features are computed by a pool of worker threads
// (src/features/node's FeatureWorkerPool; in-process with workers = 0) while one consumer stacks the
// ready windows — from any number of files — into batches and runs every model of the ensemble on them.
// A bounded queue between the two keeps memory flat. Each file's window scores are accumulated per model
// (TTA copies averaged, classes in the ensemble's order) and handed over when its last window is scored.
import type { SpectrogramAugmentation, WaveformAugmentation } from '../augment/base.js';
import { mixSeed, Random } from '../core/random.js';
import { computeFeatures } from '../features/compute.js';
import { type FeatureConfig, resolveFeatureConfig } from '../features/config.js';
import { FeatureWorkerPool } from '../features/node/extract.js';
import type { BatchInput, ScoringBackend } from './backend.js';
import { cutWindows, type SampleStream, streamFile, streamSamples, type WindowPlan } from './windows.js';

/** A recording to tag: a file, or samples in memory. */
export interface TagInput {
  /** How it is named in outputs. */
  id: string;
  path?: string;
  samples?: Float32Array;
  sampleRate?: number;
}

/** One model of the ensemble, mapped onto the ensemble's class order. */
export interface Member {
  backend: ScoringBackend;
  /** map[j] = the backend's output index of ensemble class j. */
  map: Int32Array;
}

/** Models that share windows and inputs (same rate, window and feature config). */
export interface Group {
  plan: WindowPlan;
  /** The per-window feature config (trim and duration off), or null for waveform models. */
  features: FeatureConfig | null;
  members: Member[];
  pool: FeatureWorkerPool | null;
}

/** A file's scores before ensembling and post-processing. */
export interface RawResult {
  input: TagInput;
  /** Seconds. */
  duration: number;
  windows: { start: number; end: number }[];
  /** One [windows, C] matrix per model (groups in order, members in order), TTA copies averaged. */
  perModel: Float32Array[];
  /** Frame-wise scores of the first frame-wise model, per window [T, C] (when asked). */
  frames?: { perWindow: Float32Array[]; count: number; hopSeconds: number };
  /** The first model's embeddings [windows, dim] (when asked). */
  embeddings?: { data: Float32Array; dim: number };
}

/** Augmentation of the TTA copies after the first: on the window's waveform, or on its features. */
export type TtaAugment = WaveformAugmentation | SpectrogramAugmentation;

export interface PipelineOptions {
  classes: number;
  /** Applied to TTA copies 1..tta-1 (seeded by file id, window and copy, so reruns agree). */
  ttaAugment?: TtaAugment | null;
  /** Windows per model call (default 32). */
  batchSize?: number;
  embeddings?: boolean;
  frames?: boolean;
  /** Called when a file is scored; awaited. */
  onResult: (r: RawResult) => Promise<void> | void;
  /** Called when a file cannot be read or scored; it is skipped. */
  onError: (input: TagInput, error: Error) => Promise<void> | void;
  /** Called after each batch with the windows scored so far. */
  onBatch?: (windows: number) => void;
}

/** Groups models by what they need as input; builds the feature pools. */
export function makeGroups(members: Member[], plans: WindowPlan[], workers: number): Group[] {
  const groups: Group[] = [];
  const keys: string[] = [];
  members.forEach((m, i) => {
    const info = m.backend.info;
    const plan = plans[i]!;
    const features =
      info.input === 'waveform'
        ? null
        : resolveFeatureConfig({ ...info.featureConfig, trim: null, duration: null });
    const key = JSON.stringify([plan, features]);
    const k = keys.indexOf(key);
    if (k >= 0) groups[k]!.members.push(m);
    else {
      keys.push(key);
      groups.push({
        plan,
        features,
        members: [m],
        pool: features && workers > 0 ? new FeatureWorkerPool(features, workers) : null,
      });
    }
  });
  return groups;
}

export async function closeGroups(groups: Group[]): Promise<void> {
  await Promise.all(groups.map((g) => g.pool?.close()));
}

/** A growable Float32Array. */
class Grow {
  data = new Float32Array(256);
  ensure(n: number): Float32Array {
    if (n > this.data.length) {
      const d = new Float32Array(Math.max(n, this.data.length * 2));
      d.set(this.data);
      this.data = d;
    }
    return this.data;
  }
}

class FileState {
  failed: Error | null = null;
  producing = true;
  put = 0;
  consumed = 0;
  /** Window count per group. */
  windows: number[];
  samples: number[];
  acc: Grow[];
  frames: Float32Array[] = [];
  frameCount = 0;
  emb = new Grow();
  embDim = 0;
  constructor(
    readonly input: TagInput,
    groups: number,
    models: number,
  ) {
    this.windows = new Array(groups).fill(0);
    this.samples = new Array(groups).fill(0);
    this.acc = Array.from({ length: models }, () => new Grow());
  }
}

interface Item {
  state: FileState;
  group: number;
  index: number;
  /** TTA copy (0 first). */
  copy: number;
  job: Promise<BatchInput>;
}

/** A bounded FIFO between the producer and the consumer. */
class Queue<T> {
  private items: T[] = [];
  private closed = false;
  private waitTake: (() => void) | null = null;
  private waitPut: (() => void) | null = null;
  constructor(private readonly capacity: number) {}
  async put(x: T): Promise<void> {
    while (this.items.length >= this.capacity) await new Promise<void>((r) => (this.waitPut = r));
    this.items.push(x);
    this.waitTake?.();
    this.waitTake = null;
  }
  async take(): Promise<T | null> {
    while (this.items.length === 0) {
      if (this.closed) return null;
      await new Promise<void>((r) => (this.waitTake = r));
    }
    const x = this.items.shift()!;
    this.waitPut?.();
    this.waitPut = null;
    return x;
  }
  close(): void {
    this.closed = true;
    this.waitTake?.();
    this.waitTake = null;
  }
}

/** FNV-1a of a string, for per-file seeds. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

const NO_INPUT: Promise<BatchInput> = Promise.resolve({ data: new Float32Array(0), shape: [0] });

function errorOf(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/** Scores every input; see the file comment. */
export async function runPipeline(
  groups: Group[],
  inputs: AsyncIterable<TagInput> | Iterable<TagInput>,
  o: PipelineOptions,
): Promise<void> {
  const B = o.batchSize ?? 32;
  const C = o.classes;
  const models = groups.reduce((a, g) => a + g.members.length, 0);
  const firstModel = groups.map((_, gi) => groups.slice(0, gi).reduce((a, g) => a + g.members.length, 0));
  const framewiseAt = (() => {
    for (let gi = 0; gi < groups.length; gi++) {
      const mi = groups[gi]!.members.findIndex((m) => m.backend.info.framewise);
      if (mi >= 0) return { gi, mi };
    }
    return null;
  })();
  const queue = new Queue<Item>(Math.max(2 * B, 8));
  let scored = 0;

  const aug = o.ttaAugment ?? null;
  for (const g of groups)
    if (aug?.kind === 'spectrogram' && !g.features)
      throw new Error(
        `TTA augmentation ${aug.name} works on spectrograms; ${g.members[0]!.backend.info.label} takes the waveform (use a waveform augmentation)`,
      );
  const featuresOf = (g: Group, samples: Float32Array, rng: Random | null): Promise<BatchInput> => {
    if (rng && aug?.kind === 'waveform') samples = aug.apply(samples, g.plan.sampleRate, rng);
    if (!g.features) return Promise.resolve({ data: samples, shape: [samples.length] });
    if (rng && aug?.kind === 'spectrogram') {
      const spec = aug;
      const r = rng;
      return featuresOf(g, samples, null).then((x) => {
        const y = spec.apply(x, r);
        return { data: y.data as Float32Array, shape: y.shape };
      });
    }
    if (g.pool)
      return g.pool
        .run({ kind: 'samples', samples, sampleRate: g.plan.sampleRate })
        .then((f) => ({ data: f.data as Float32Array, shape: f.shape }));
    try {
      const f = computeFeatures(samples, g.plan.sampleRate, g.features);
      return Promise.resolve({ data: f.data as Float32Array, shape: f.shape });
    } catch (e) {
      return Promise.reject(errorOf(e));
    }
  };

  const finish = async (s: FileState) => {
    if (s.producing || s.consumed < s.put) return;
    if (s.failed) {
      await o.onError(s.input, s.failed);
      return;
    }
    const g0 = groups[0]!.plan;
    const n = Math.max(...s.windows);
    if (n === 0) {
      await o.onError(s.input, new Error('no samples to score'));
      return;
    }
    const total = s.samples[0]!;
    const windows = Array.from({ length: n }, (_, i) => {
      const start = (i * g0.hop) / g0.sampleRate;
      const end = Math.min(i * g0.hop + g0.length, total) / g0.sampleRate;
      return { start: total < g0.length ? 0 : start, end };
    });
    const perModel = s.acc.map((a, m) => {
      let gi = 0;
      while (gi + 1 < groups.length && firstModel[gi + 1]! <= m) gi++;
      const tta = groups[gi]!.plan.tta;
      const out = a.ensure(n * C).slice(0, n * C);
      for (let i = 0; i < out.length; i++) out[i]! /= tta;
      // A group with fewer windows (another rate rounding the end differently): repeat its last window.
      const have = s.windows[gi]!;
      for (let i = have; i < n; i++) out.copyWithin(i * C, (have - 1) * C, have * C);
      return out;
    });
    const r: RawResult = { input: s.input, duration: total / g0.sampleRate, windows, perModel };
    if (o.frames && framewiseAt && s.frames.length > 0) {
      const p = groups[framewiseAt.gi]!.plan;
      r.frames = {
        perWindow: s.frames,
        count: s.frameCount,
        hopSeconds: p.length / p.sampleRate / s.frameCount,
      };
    }
    if (o.embeddings)
      r.embeddings = { data: s.emb.ensure(n * s.embDim).slice(0, n * s.embDim), dim: s.embDim };
    await o.onResult(r);
  };

  const batches: { item: Item; input: BatchInput }[][] = groups.map(() => []);
  const runBatch = async (gi: number) => {
    const rows = batches[gi]!;
    batches[gi] = [];
    if (rows.length === 0) return;
    const g = groups[gi]!;
    const shape = rows[0]!.input.shape;
    const per = rows[0]!.input.data.length;
    const data = new Float32Array(rows.length * per);
    rows.forEach((r, i) => {
      if (r.input.data.length !== per)
        throw new Error(
          `windows of one batch differ in shape: [${shape.join(', ')}] and [${r.input.shape.join(', ')}]`,
        );
      data.set(r.input.data, i * per);
    });
    const batch = { data, shape: [rows.length, ...shape] };
    for (let mi = 0; mi < g.members.length; mi++) {
      const m = g.members[mi]!;
      const model = firstModel[gi]! + mi;
      const wantEmb = !!o.embeddings && model === 0;
      const wantFrames = !!o.frames && framewiseAt?.gi === gi && framewiseAt.mi === mi;
      const out = await m.backend.run(batch, { embedding: wantEmb, frames: wantFrames });
      const bc = m.backend.info.classes.length;
      rows.forEach(({ item }, r) => {
        const s = item.state;
        if (s.failed) return;
        const a = s.acc[model]!.ensure((item.index + 1) * C);
        for (let j = 0; j < C; j++) a[item.index * C + j]! += out.clip[r * bc + m.map[j]!]!;
        if (wantEmb && out.embedding && item.index >= 0) {
          const d = out.embedding.dim;
          s.embDim = d;
          // The first TTA copy's embedding.
          const e = s.emb.ensure((item.index + 1) * d);
          if (item.copy === 0) e.set(out.embedding.data.subarray(r * d, (r + 1) * d), item.index * d);
        }
        if (wantFrames && out.frames && item.copy === 0) {
          const t = out.frames.frames;
          s.frameCount = t;
          const f = new Float32Array(t * C);
          for (let k = 0; k < t; k++)
            for (let j = 0; j < C; j++) f[k * C + j] = out.frames.data[(r * t + k) * bc + m.map[j]!]!;
          s.frames[item.index] = f;
        }
      });
    }
    scored += rows.length;
    for (const { item } of rows) item.state.consumed++;
    o.onBatch?.(scored);
    for (const s of new Set(rows.map((r) => r.item.state))) await finish(s);
  };

  const producer = (async () => {
    try {
      for await (const input of inputs) {
        const s = new FileState(input, groups.length, models);
        const idSeed = hashString(input.id);
        try {
          for (let gi = 0; gi < groups.length && !s.failed; gi++) {
            const g = groups[gi]!;
            let stream: SampleStream;
            if (input.samples) {
              if (!input.sampleRate) throw new Error(`${input.id}: samples given without their sampleRate`);
              stream = streamSamples(input.samples, input.sampleRate, g.plan.sampleRate);
            } else stream = await streamFile(input.path!, g.plan.sampleRate);
            for await (const w of cutWindows(stream.blocks, g.plan, (n) => (s.samples[gi] = n))) {
              if (s.failed) break;
              s.windows[gi] = Math.max(s.windows[gi]!, w.index + 1);
              const rng = aug && w.copy > 0 ? new Random(mixSeed(idSeed, gi, w.index, w.copy)) : null;
              const job = featuresOf(g, w.samples, rng);
              job.catch(() => {});
              s.put++;
              await queue.put({ state: s, group: gi, index: w.index, copy: w.copy, job });
            }
          }
        } catch (e) {
          s.failed ??= errorOf(e);
        }
        s.producing = false;
        // Nothing in flight for it (failed before its first window, or already all scored).
        if (s.consumed === s.put) await queue.put({ state: s, group: -1, index: -1, copy: 0, job: NO_INPUT });
      }
    } finally {
      queue.close();
    }
  })();

  try {
    for (;;) {
      const item = await queue.take();
      if (item === null) break;
      if (item.group < 0) {
        // A marker: the file's last window was already scored (or it had none).
        await finish(item.state);
        continue;
      }
      let input: BatchInput;
      try {
        input = await item.job;
      } catch (e) {
        item.state.failed ??= errorOf(e);
        item.state.consumed++;
        await finish(item.state);
        continue;
      }
      if (item.state.failed) {
        item.state.consumed++;
        await finish(item.state);
        continue;
      }
      const b = batches[item.group]!;
      b.push({ item, input });
      // A partial batch waits for the next files' windows; the last one runs when the queue ends.
      if (b.length >= B) await runBatch(item.group);
    }
    for (let gi = 0; gi < groups.length; gi++) await runBatch(gi);
  } finally {
    await producer;
  }
}
