// The batch loader: turns a Dataset into batches for the trainer, keeping the engine busy.
//
// - Features are computed once per (file content, feature config) through the FeatureCache and held in
//   memory as one Float32Array per clip, in SharedArrayBuffers that every worker reads without a copy.
// - Whole batches are built in worker threads (worker.ts → worker-core.ts): waveform augmentation (then
//   features on the spot: they cannot be cached), crop, per-row spectrogram augmentation, stacking, and
//   batch-level mixing; the finished arrays come back transferred, so the main thread only wraps them.
// - Up to `prefetch` batches are handed out ahead. Engine calls block the main thread, so the work has to
//   be posted before the step starts; the workers run on while it computes.
// - Which clip fills which row, every row's seed, and every crop start in evaluation are fixed on the main
//   thread from (seed, epoch) (loader-plan.ts): batches are identical whatever the number of workers.
import { availableParallelism, homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { type AnyAugmentation, augmentationFromSpec, Compose } from '../augment/index.js';
import { loadAugmentationConfig } from '../augment/node/index.js';
import { warn } from '../core/log.js';
import type { NDArray } from '../core/ndarray.js';
import { mixSeed, STREAM } from '../core/random.js';
import { startWorker } from '../core/worker-thread.js';
import { type FeatureConfig, resolveFeatureConfig } from '../features/config.js';
import { isWaveformFormat } from '../features/formats.js';
import { FeatureCache } from '../features/node/cache.js';
import { labelIndexLists, targetMatrix } from './dataset.js';
import {
  batchCount,
  type EvalRow,
  evalRows,
  makeSampler,
  type Sampler,
  type SamplerName,
} from './loader-plan.js';
import type { Dataset } from './types.js';
import {
  type BatchResult,
  type BatchTask,
  type ClipStore,
  type ComputeResult,
  type CoreInit,
  type CoreSpecs,
  LoaderCore,
  type PadMode,
  type ResolvedCrop,
  withChannelAxis,
} from './worker-core.js';
import type { FromWorker, ToWorker } from './worker-protocol.js';

export interface Batch {
  /** [B, C, M, T] spectrogram crops, or [B, 1, S] waveforms when features.format is 'waveform'. */
  inputs: NDArray;
  /** [B, n_classes] one-/multi-hot (soft after mixing). */
  targets: NDArray;
  /** Item ids, one per row. */
  ids: string[];
  /** Index into dataset.items of each row; eval windows of one clip share it. */
  clipIndex: Int32Array;
  /** Per-row sample weights, when items carry weights (not with sampler 'weighted', which used them). */
  weights?: Float32Array;
  /** Start frame (samples for waveforms) of each row's crop in its clip; negative when the clip is
   * shorter and sits that far inside the padded window; 0 without a crop. */
  offsets: Int32Array;
}

export interface CropOptions {
  /** Frames per row (samples for waveform items), e.g. 128 = 2 s with fat2019. */
  frames: number;
  /** Evaluation: one centred crop (default), one from the start, or every window (clip-level averaging). */
  evalMode?: 'center' | 'start' | 'windows';
  /** Frames between window starts for 'windows' (default frames / 2); the last window ends at the clip's end. */
  evalHop?: number;
  /** How clips shorter than `frames` are filled: 'wrap' repeats the clip (default), 'constant' pads. */
  pad?: PadMode;
  /** The value of 'constant' padding (default 0; for unnormalised dB features the floor, e.g. -80). */
  padValue?: number;
}

export interface LoaderOptions {
  /** From src/features (resolved, or anything resolveFeatureConfig accepts); format 'waveform' gives
   * [1, samples] items. */
  features: FeatureConfig;
  /** FeatureCache location; default $XDG_CACHE_HOME or ~/.cache /audiotag/features, else <os tmp>/audiotag/features. */
  cacheDir?: string;
  batchSize: number;
  /** Training: shuffled (sampler), random crops, augmentation on; evaluation: dataset order, fixed crops, none. */
  training: boolean;
  crop?: CropOptions | null;
  /** Specs for augmentationFromSpec, a YAML/JSON file path, or built augmentations. A `batch` Compose's
   * leading per-item spectrogram transforms run per row (as before mixing); the mixers on the batch. */
  augment?: { waveform?: unknown; spectrogram?: unknown; batch?: unknown };
  /** Training only. balanced: classes equally likely per draw; weighted: by item.weight. Default shuffle. */
  sampler?: SamplerName;
  dropLast?: boolean;
  /** Worker threads (default cores − 1, at least 1); 0 builds batches on the main thread. */
  workers?: number;
  /** Batches built ahead of the consumer (default 4). */
  prefetch?: number;
  seed?: number;
  /** Feature pre-computation progress (cache hits count too). */
  onProgress?: (done: number, total: number) => void;
  /** Called once per clip that cannot be loaded; default: a warning through the logger (src/core/log.ts). */
  onSkip?: (item: SkippedItem) => void;
}

export interface BatchSource {
  /** Clips served per epoch (the dataset less skipped ones). */
  readonly size: number;
  readonly batchesPerEpoch: number;
  /** Seeded by (seed, index): the same index gives the same batches. */
  epoch(index: number): AsyncIterable<Batch>;
  close(): Promise<void>;
}

export interface SkippedItem {
  /** Index in dataset.items. */
  index: number;
  id: string;
  path: string;
  error: string;
}

export interface LoaderStats {
  /** Clips whose features came from the cache. */
  cached: number;
  /** Clips decoded and computed (then stored in the cache). */
  computed: number;
  skipped: number;
  /** Wall time of the pre-computation, ms. */
  precomputeMs: number;
}

export interface Loader extends BatchSource {
  /** Clips that failed to decode or compute, in dataset order; they are never served. */
  readonly skipped: readonly SkippedItem[];
  readonly stats: LoaderStats;
  /** Shape of one row ([C, M, frames] or [1, samples]); null when rows differ (no crop, clips of different lengths). */
  readonly inputShape: number[] | null;
  /** Worker threads started (0: in-process). */
  readonly workers: number;
  /** Worker threads still running (0 after close()). */
  readonly liveWorkers: number;
}

/** $XDG_CACHE_HOME/audiotag/features, ~/.cache/audiotag/features, or <os tmp>/audiotag/features. */
export function defaultCacheDir(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  if (xdg) return join(xdg, 'audiotag', 'features');
  let home = '';
  try {
    home = homedir();
  } catch {
    // No home directory (some containers): fall back to the temp folder.
  }
  return home ? join(home, '.cache', 'audiotag', 'features') : join(tmpdir(), 'audiotag', 'features');
}

// ---- options ------------------------------------------------------------------------------------

function int(key: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
    throw new Error(`loader: ${key} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return v;
}

function resolveCrop(crop: CropOptions | null | undefined): ResolvedCrop | null {
  if (crop === null || crop === undefined) return null;
  const frames = int('crop.frames', crop.frames, 1);
  const evalMode = crop.evalMode ?? 'center';
  if (!['center', 'start', 'windows'].includes(evalMode))
    throw new Error(
      `loader: crop.evalMode must be 'center', 'start' or 'windows', got ${JSON.stringify(evalMode)}`,
    );
  const pad = crop.pad ?? 'wrap';
  if (pad !== 'wrap' && pad !== 'constant')
    throw new Error(`loader: crop.pad must be 'wrap' or 'constant', got ${JSON.stringify(pad)}`);
  const padValue = crop.padValue ?? 0;
  if (!Number.isFinite(padValue))
    throw new Error(`loader: crop.padValue must be a finite number, got ${padValue}`);
  const evalHop = int('crop.evalHop', crop.evalHop ?? Math.max(1, Math.floor(frames / 2)), 1);
  if (evalHop > frames)
    throw new Error(
      `loader: crop.evalHop (${evalHop}) must be at most crop.frames (${frames}), or windows leave gaps`,
    );
  return { frames, evalMode, evalHop, pad, padValue };
}

/** An augmentation option as a pipeline: a spec, a YAML/JSON file, or an object with toSpec(). */
async function pipelineOf(key: string, v: unknown): Promise<AnyAugmentation | null> {
  if (v === null || v === undefined) return null;
  try {
    if (typeof v === 'string') return await loadAugmentationConfig(v);
    if (typeof v === 'object' && typeof (v as { toSpec?: unknown }).toSpec === 'function')
      return augmentationFromSpec((v as { toSpec: () => unknown }).toSpec());
    return augmentationFromSpec(v);
  } catch (e) {
    throw new Error(`loader: augment.${key}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Whether a pipeline (or any pipeline nested in it) holds a transform of this kind. */
function holdsKind(a: AnyAugmentation, kind: string): boolean {
  if (a.kind === kind) return true;
  const children = (a as { transforms?: readonly AnyAugmentation[] }).transforms;
  return children?.some((t) => holdsKind(t, kind)) ?? false;
}

function joinSpecs(specs: unknown[]): unknown {
  if (specs.length === 0) return null;
  return specs.length === 1 ? specs[0] : { name: 'Compose', transforms: specs };
}

/**
 * Checks the kinds of the three pipelines and moves the per-item part of the batch pipeline into the
 * rows: a spectrogram-only batch pipeline entirely, or the leading spectrogram transforms of a plain
 * Compose (p 1, not shuffled). They run item by item before any mixer either way, so the result is the
 * same kind of draw; they just run in the workers' per-row pass.
 */
export async function resolveAugment(
  augment: LoaderOptions['augment'],
  waveformItems: boolean,
): Promise<CoreSpecs> {
  const wave = await pipelineOf('waveform', augment?.waveform);
  const spec = await pipelineOf('spectrogram', augment?.spectrogram);
  const batch = await pipelineOf('batch', augment?.batch);
  if (wave && wave.kind !== 'waveform' && wave.kind !== 'empty')
    throw new Error(
      `loader: augment.waveform: ${wave.name} is a ${wave.kind} augmentation, expected waveform transforms`,
    );
  if (spec && spec.kind !== 'spectrogram' && spec.kind !== 'empty')
    throw new Error(
      `loader: augment.spectrogram: ${spec.name} is a ${spec.kind} augmentation, expected spectrogram transforms`,
    );
  if (spec && spec.kind === 'spectrogram' && waveformItems)
    throw new Error(
      'loader: augment.spectrogram: the items are waveforms (features.format), not spectrograms',
    );
  if (batch && batch.kind === 'waveform')
    throw new Error(
      `loader: augment.batch: ${batch.name} is a waveform pipeline; put it under augment.waveform`,
    );
  if (batch && waveformItems && holdsKind(batch, 'spectrogram'))
    throw new Error(
      `loader: augment.batch: ${batch.name} holds spectrogram transforms, but the items are waveforms (features.format)`,
    );
  const rowSpecs: unknown[] = spec ? [spec.toSpec()] : [];
  let batchSpec: unknown = null;
  if (batch && batch.kind === 'spectrogram' && !waveformItems) {
    rowSpecs.push(batch.toSpec());
  } else if (batch && batch.kind !== 'empty') {
    let rest: readonly AnyAugmentation[] = [batch];
    if (batch instanceof Compose && batch.p >= 1 && !batch.options.shuffle && !waveformItems) {
      const lead = batch.transforms.findIndex((t) => t.kind !== 'spectrogram');
      const cut = lead < 0 ? batch.transforms.length : lead;
      rowSpecs.push(...batch.transforms.slice(0, cut).map((t) => t.toSpec()));
      rest = batch.transforms.slice(cut);
    }
    batchSpec =
      rest.length === 1 && rest[0] === batch ? batch.toSpec() : joinSpecs(rest.map((t) => t.toSpec()));
  }
  return {
    waveform: wave && wave.kind !== 'empty' ? wave.toSpec() : null,
    spectrogram: joinSpecs(rowSpecs),
    batch: batchSpec,
  };
}

// ---- worker pool ----------------------------------------------------------------------------------

interface Slot {
  worker: Worker;
  pending: number;
  alive: boolean;
}

interface Waiter {
  slot: Slot;
  resolve: (m: FromWorker) => void;
  reject: (e: Error) => void;
}

/** A fixed set of loader workers; each request goes to the least busy one. Idle workers are unref'd, so
 * a forgotten close() does not keep the process alive. */
class Pool {
  private readonly slots: Slot[] = [];
  private readonly waiting = new Map<number, Waiter>();
  private nextId = 0;
  private failure: Error | null = null;
  private closing = false;

  private constructor() {}

  static async start(count: number, init: CoreInit): Promise<Pool> {
    const pool = new Pool();
    const ready: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      const worker = startWorker(import.meta.url, 'worker', { workerData: { init } });
      const slot: Slot = { worker, pending: 0, alive: true };
      pool.slots.push(slot);
      ready.push(
        new Promise<void>((resolve, reject) => {
          const first = (m: FromWorker) => {
            if (m.type === 'ready') resolve();
            else if (m.type === 'init-error') reject(new Error(`loader worker: ${m.message}`));
            if (m.type === 'ready' || m.type === 'init-error') worker.off('message', first);
          };
          worker.on('message', first);
          worker.once('error', reject);
          worker.once('exit', (code) =>
            reject(new Error(`loader worker exited with code ${code} while starting`)),
          );
        }),
      );
      worker.on('message', (m: FromWorker) => pool.onMessage(slot, m));
      worker.on('error', (e) => pool.fail(e));
      worker.on('exit', (code) => {
        slot.alive = false;
        if (!pool.closing) pool.fail(new Error(`loader worker exited unexpectedly (code ${code})`));
      });
    }
    try {
      await Promise.all(ready);
    } catch (e) {
      await pool.close();
      throw e;
    }
    for (const s of pool.slots) s.worker.unref();
    return pool;
  }

  get size(): number {
    return this.slots.length;
  }

  get live(): number {
    return this.slots.filter((s) => s.alive).length;
  }

  private onMessage(slot: Slot, m: FromWorker): void {
    if (m.type === 'ready' || m.type === 'init-error') return;
    const w = this.waiting.get(m.id);
    if (!w) return;
    this.waiting.delete(m.id);
    if (--slot.pending === 0) slot.worker.unref();
    if (m.type === 'failed') w.reject(new Error(m.message));
    else w.resolve(m);
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const w of this.waiting.values()) w.reject(this.failure);
    this.waiting.clear();
  }

  request(msg: { type: 'compute'; clip: number } | { type: 'batch'; task: BatchTask }): Promise<FromWorker> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new Error('loader: closed'));
    let slot = this.slots[0]!;
    for (const s of this.slots) if (s.pending < slot.pending) slot = s;
    const id = this.nextId++;
    return new Promise<FromWorker>((resolve, reject) => {
      this.waiting.set(id, { slot, resolve, reject });
      if (slot.pending++ === 0) slot.worker.ref();
      slot.worker.postMessage({ ...msg, id } as ToWorker);
    });
  }

  broadcast(msg: ToWorker): void {
    for (const s of this.slots) s.worker.postMessage(msg);
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const w of this.waiting.values()) w.reject(new Error('loader: closed'));
    this.waiting.clear();
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    for (const s of this.slots) s.alive = false;
  }
}

// ---- pre-computation --------------------------------------------------------------------------------

/** Runs fn over items with at most `limit` in flight. */
async function eachLimit<T>(items: readonly T[], limit: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
}

function toShared(a: Float32Array): Float32Array {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const s = new Float32Array(new SharedArrayBuffer(a.byteLength));
  s.set(a);
  return s;
}

// ---- the loader -----------------------------------------------------------------------------------

interface BatchLoaderOptions {
  batchSize: number;
  training: boolean;
  dropLast: boolean;
  prefetch: number;
  seed: number;
  usable: Int32Array;
  sampler: Sampler | null;
  evalRows: EvalRow[] | null;
  weights: Float32Array | null;
}

class BatchLoader implements Loader {
  readonly size: number;
  readonly batchesPerEpoch: number;
  readonly skipped: readonly SkippedItem[];
  readonly stats: LoaderStats;
  readonly inputShape: number[] | null;
  private closed = false;

  constructor(
    private readonly dataset: Dataset,
    private readonly pool: Pool | null,
    private readonly core: LoaderCore | null,
    private readonly o: BatchLoaderOptions,
    info: { skipped: SkippedItem[]; stats: LoaderStats; inputShape: number[] | null },
  ) {
    this.size = o.usable.length;
    const rows = o.evalRows ? o.evalRows.length : o.usable.length;
    this.batchesPerEpoch = batchCount(rows, o.batchSize, o.dropLast);
    this.skipped = info.skipped;
    this.stats = info.stats;
    this.inputShape = info.inputShape;
  }

  get workers(): number {
    return this.pool?.size ?? 0;
  }

  get liveWorkers(): number {
    return this.pool?.live ?? 0;
  }

  epoch(index: number): AsyncIterable<Batch> {
    int('epoch index', index, 0);
    return { [Symbol.asyncIterator]: () => this.iterate(index) };
  }

  /** The rows of an epoch: clip per row, and crop starts in evaluation (training draws them per row). */
  private plan(epoch: number): { clips: Int32Array; starts: Int32Array | null } {
    if (this.o.evalRows) {
      const rows = this.o.evalRows;
      return { clips: Int32Array.from(rows, (r) => r.clip), starts: Int32Array.from(rows, (r) => r.start) };
    }
    return { clips: this.o.sampler!.draw(this.o.seed, epoch), starts: null };
  }

  private async *iterate(epoch: number): AsyncGenerator<Batch> {
    if (this.closed) throw new Error('loader: epoch() after close()');
    const plan = this.plan(epoch);
    const n = this.batchesPerEpoch;
    const queue: Promise<Batch>[] = [];
    let next = 0;
    const fill = () => {
      while (next < n && queue.length < this.o.prefetch) {
        const p = this.runBatch(plan, epoch, next++);
        // Handled now so a batch failing while an earlier one is awaited is not an unhandled rejection;
        // awaiting it later still throws.
        p.catch(() => {});
        queue.push(p);
      }
    };
    for (let i = 0; i < n; i++) {
      fill();
      const batch = await queue.shift()!;
      fill();
      yield batch;
    }
  }

  private async runBatch(
    plan: { clips: Int32Array; starts: Int32Array | null },
    epoch: number,
    k: number,
  ): Promise<Batch> {
    const { batchSize, seed, training } = this.o;
    const lo = k * batchSize;
    const hi = Math.min(lo + batchSize, plan.clips.length);
    const rows = plan.clips.slice(lo, hi);
    const task: BatchTask = {
      rows,
      // Slots count across the epoch: a clip drawn twice (balanced/weighted) gets two different crops.
      seeds: training
        ? Uint32Array.from({ length: hi - lo }, (_, r) => mixSeed(seed, epoch, STREAM.item, lo + r))
        : null,
      starts: plan.starts ? plan.starts.slice(lo, hi) : null,
      mixSeed: mixSeed(seed, epoch, STREAM.mix, k),
    };
    let r: BatchResult;
    if (this.pool) {
      const m = await this.pool.request({ type: 'batch', task });
      if (m.type !== 'batch') throw new Error(`loader: unexpected worker reply ${m.type}`);
      r = m.result;
    } else r = await this.core!.build(task);
    const items = this.dataset.items;
    const batch: Batch = {
      inputs: { data: r.inputs, shape: r.shape },
      targets: { data: r.targets, shape: [rows.length, this.dataset.classes.length] },
      ids: Array.from(rows, (c) => items[c]!.id),
      clipIndex: rows,
      offsets: r.offsets,
    };
    const w = this.o.weights;
    if (w) batch.weights = Float32Array.from(rows, (c) => w[c]!);
    return batch;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool?.close();
  }
}

// ---- the plan: every option resolved, before any clip is touched ------------------------------------

/**
 * What a loader loads with, resolved: the feature config, the augmentation specs (files read), the
 * opened cache and checked numbers. `openLoader` resolves nothing and reads no config file, so a
 * pipeline resolves once (resolveLoaderOptions or its own) and opens several loaders from it.
 */
export interface LoaderPlan {
  /** Resolved (resolveFeatureConfig). */
  features: FeatureConfig;
  /** Items are waveforms [1, samples] (the format's kind in the registry). */
  waveformItems: boolean;
  /** Worker-ready augmentation specs (resolveAugment); all null in evaluation. */
  augment: CoreSpecs;
  /** The opened feature cache; null: compute every clip (waveform items are never cached). */
  cache: FeatureCache | null;
  batchSize: number;
  training: boolean;
  crop: ResolvedCrop | null;
  sampler: SamplerName;
  dropLast: boolean;
  workers: number;
  prefetch: number;
  seed: number;
  onProgress?: (done: number, total: number) => void;
  onSkip?: (item: SkippedItem) => void;
}

const NO_AUGMENT: CoreSpecs = { waveform: null, spectrogram: null, batch: null };

/** Checks the loader options and resolves features, augmentation (reading files) and the cache. */
export async function resolveLoaderOptions(opts: LoaderOptions): Promise<LoaderPlan> {
  const batchSize = int('batchSize', opts.batchSize, 1);
  if (typeof opts.training !== 'boolean')
    throw new Error(`loader: training must be true or false, got ${JSON.stringify(opts.training)}`);
  const workers = int('workers', opts.workers ?? Math.max(1, availableParallelism() - 1), 0);
  const prefetch = int('prefetch', opts.prefetch ?? 4, 1);
  const seed = opts.seed ?? 0;
  if (!Number.isInteger(seed)) throw new Error(`loader: seed must be an integer, got ${seed}`);
  const crop = resolveCrop(opts.crop);
  const sampler: SamplerName = opts.sampler ?? 'shuffle';
  if (!['shuffle', 'balanced', 'weighted'].includes(sampler))
    throw new Error(
      `loader: sampler must be 'shuffle', 'balanced' or 'weighted', got ${JSON.stringify(sampler)}`,
    );
  if (!opts.features || typeof opts.features !== 'object')
    throw new Error('loader: features must be a FeatureConfig (see resolveFeatureConfig)');
  const features = resolveFeatureConfig(opts.features);
  const waveformItems = isWaveformFormat(features.format);
  const augment = opts.training ? await resolveAugment(opts.augment, waveformItems) : NO_AUGMENT;
  return {
    features,
    waveformItems,
    augment,
    cache: await openFeatureCache(features, opts.cacheDir),
    batchSize,
    training: opts.training,
    crop,
    sampler,
    dropLast: opts.dropLast ?? false,
    workers,
    prefetch,
    seed,
    onProgress: opts.onProgress,
    onSkip: opts.onSkip,
  };
}

/** The feature cache of a resolved config (null for waveform formats, which are not cached). */
export async function openFeatureCache(
  features: FeatureConfig,
  cacheDir: string | undefined,
): Promise<FeatureCache | null> {
  return isWaveformFormat(features.format)
    ? null
    : FeatureCache.open(cacheDir ?? defaultCacheDir(), features);
}

// ---- opening a loader: start the builders, fill the store, lay out the epochs --------------------------

/** The builders of one loader: a worker pool, or the in-process core (workers: 0). */
async function startBuilders(
  dataset: Dataset,
  plan: LoaderPlan,
): Promise<{ core: LoaderCore; pool: Pool | null; shared: boolean }> {
  const shared = plan.workers > 0;
  const targets = targetMatrix(dataset);
  const init: CoreInit = {
    config: plan.features,
    waveformFormat: plan.waveformItems,
    training: plan.training,
    crop: plan.crop,
    specs: plan.augment,
    paths: dataset.items.map((it) => it.path),
    targets: shared ? toShared(targets) : targets,
    nClasses: dataset.classes.length,
  };
  const core = new LoaderCore(init, shared);
  if (!shared) {
    await core.prepare();
    return { core, pool: null, shared };
  }
  return { core, pool: await Pool.start(plan.workers, init), shared };
}

/** With waveform augmentation, spectrogram features are computed per row in the workers; the cache then
 * only serves as the decode check (and for evaluation loaders over the same clips). */
function featuresOnTheFly(plan: LoaderPlan): boolean {
  return plan.training && plan.augment.waveform !== null && !plan.waveformItems;
}

interface Precomputed {
  store: ClipStore;
  skipped: SkippedItem[];
  stats: LoaderStats;
  /** Shape of the first clip stored (before any crop). */
  firstShape: number[] | null;
  usable: Int32Array;
}

/** What the precomputation records as clips come in: the store, the skipped clips and the counts. */
class StoreFill {
  readonly store: ClipStore;
  readonly skipped: SkippedItem[] = [];
  readonly stats: LoaderStats = { cached: 0, computed: 0, skipped: 0, precomputeMs: 0 };
  firstShape: number[] | null = null;
  private done = 0;

  constructor(
    private readonly dataset: Dataset,
    private readonly plan: LoaderPlan,
    private readonly shared: boolean,
  ) {
    const n = dataset.items.length;
    this.store = { data: new Array(n).fill(null), shapes: new Array(n).fill(null) };
  }

  /** One clip finished (stored, skipped or found missing in the cache): progress. */
  tick(): void {
    this.plan.onProgress?.(++this.done, this.dataset.items.length);
  }

  keep(i: number, data: Float32Array, shape: number[]): void {
    this.firstShape ??= shape;
    if (featuresOnTheFly(this.plan)) return;
    this.store.data[i] = this.shared ? toShared(data) : data;
    this.store.shapes[i] = shape;
  }

  /** A clip that cannot be loaded: reported once (onSkip, else a warning through the logger) and never
   * served. */
  skip(i: number, e: unknown): void {
    const it = this.dataset.items[i]!;
    const item: SkippedItem = {
      index: i,
      id: it.id,
      path: it.path,
      error: e instanceof Error ? e.message : String(e),
    };
    this.skipped.push(item);
    if (this.plan.onSkip) this.plan.onSkip(item);
    else warn(`loader: skipping ${item.path}: ${item.error}`);
  }
}

/** Cache lookups of every clip; returns the misses, in dataset order. */
async function lookupCache(dataset: Dataset, cache: FeatureCache, fill: StoreFill): Promise<number[]> {
  const misses: number[] = [];
  await eachLimit(Array.from(dataset.items.keys()), 8, async (i) => {
    try {
      const f = await cache.get(dataset.items[i]!.path);
      if (!f) return void misses.push(i);
      fill.keep(i, f.data, f.shape);
      fill.stats.cached++;
    } catch (e) {
      fill.skip(i, e);
    }
    fill.tick();
  });
  return misses.sort((a, b) => a - b);
}

/** Decodes and computes the missing clips on the builders, caching each result at once. */
async function computeMisses(
  dataset: Dataset,
  misses: readonly number[],
  plan: LoaderPlan,
  builders: { core: LoaderCore; pool: Pool | null },
  fill: StoreFill,
): Promise<void> {
  const { pool, core } = builders;
  await eachLimit(misses, pool ? 2 * pool.size : 1, async (i) => {
    try {
      const r = await computeClip(i, core, pool);
      if (plan.cache) await plan.cache.put(dataset.items[i]!.path, r);
      fill.keep(i, r.data, r.shape);
      fill.stats.computed++;
    } catch (e) {
      fill.skip(i, e);
    }
    fill.tick();
  });
  await plan.cache?.flush();
}

/**
 * Fills the clip store: cache lookups first, then the misses on the builders (each result cached at once).
 * Clips that fail are reported once (onSkip) and left out.
 */
async function precompute(
  dataset: Dataset,
  plan: LoaderPlan,
  builders: { core: LoaderCore; pool: Pool | null; shared: boolean },
): Promise<Precomputed> {
  const fill = new StoreFill(dataset, plan, builders.shared);
  const misses = plan.cache ? await lookupCache(dataset, plan.cache, fill) : Array.from(dataset.items.keys());
  await computeMisses(dataset, misses, plan, builders, fill);
  const { store, skipped, stats, firstShape } = fill;
  skipped.sort((a, b) => a.index - b.index);
  stats.skipped = skipped.length;
  const bad = new Set(skipped.map((s) => s.index));
  const usable = Int32Array.from(Array.from(dataset.items.keys()).filter((i) => !bad.has(i)));
  if (usable.length === 0)
    throw new Error(`loader: no clip could be loaded (first: ${skipped[0]?.path}: ${skipped[0]?.error})`);
  return { store, skipped, stats, firstShape, usable };
}

async function computeClip(i: number, core: LoaderCore, pool: Pool | null): Promise<ComputeResult> {
  if (!pool) return core.compute(i);
  const m = await pool.request({ type: 'compute', clip: i });
  if (m.type !== 'computed') throw new Error(`loader: unexpected worker reply ${m.type}`);
  return { data: m.data, shape: m.shape };
}

/** The shape of every row, when all rows share one (a crop, or clips of one length); else null. */
function rowShape(plan: LoaderPlan, pre: Precomputed): number[] | null {
  const first = pre.firstShape;
  if (!first) return null;
  const s = withChannelAxis(first, plan.waveformItems);
  if (plan.crop) return [...s.slice(0, -1), plan.crop.frames];
  // Features made on the fly (waveform augmentation) are not in the store: their shapes are unknown here.
  if (featuresOnTheFly(plan)) return null;
  const same = [...pre.usable].every((i) => pre.store.shapes[i]?.join() === first.join());
  return same ? s : null;
}

/** How epochs are laid out: a sampler in training, fixed evaluation rows otherwise, and row weights. */
function epochLayout(dataset: Dataset, plan: LoaderPlan, pre: Precomputed): BatchLoaderOptions {
  const { items } = dataset;
  const hasWeights = items.some((it) => it.weight !== undefined);
  const itemWeights = Float64Array.from(items, (it) => it.weight ?? 1);
  const { store, usable } = pre;
  return {
    batchSize: plan.batchSize,
    training: plan.training,
    dropLast: plan.dropLast,
    prefetch: plan.prefetch,
    seed: plan.seed,
    usable,
    sampler: plan.training
      ? makeSampler(plan.sampler, {
          usable,
          labels: labelIndexLists(dataset),
          weights: itemWeights,
          ids: items.map((it) => it.id),
        })
      : null,
    evalRows: plan.training
      ? null
      : evalRows(usable, (c) => store.shapes[c]![store.shapes[c]!.length - 1]!, plan.crop),
    // Weighted sampling has used the weights already.
    weights:
      hasWeights && !(plan.training && plan.sampler === 'weighted') ? Float32Array.from(itemWeights) : null,
  };
}

/**
 * A batch source over `dataset` from a resolved plan (see resolveLoaderOptions). Features are
 * pre-computed (or read from the plan's cache) first, with `onProgress`; clips that fail to decode are
 * reported once and skipped (`loader.skipped`).
 */
export async function openLoader(dataset: Dataset, plan: LoaderPlan): Promise<Loader> {
  const t0 = performance.now();
  if (dataset.items.length === 0) throw new Error('loader: the dataset has no items');
  const builders = await startBuilders(dataset, plan);
  try {
    const pre = await precompute(dataset, plan, builders);
    if (builders.pool) builders.pool.broadcast({ type: 'store', store: pre.store });
    else builders.core.setStore(pre.store);
    pre.stats.precomputeMs = Math.round(performance.now() - t0);
    return new BatchLoader(
      dataset,
      builders.pool,
      builders.pool ? null : builders.core,
      epochLayout(dataset, plan, pre),
      {
        skipped: pre.skipped,
        stats: pre.stats,
        inputShape: rowShape(plan, pre),
      },
    );
  } catch (e) {
    await builders.pool?.close();
    throw e;
  }
}

/**
 * A batch source over `dataset`: resolveLoaderOptions then openLoader.
 * @example
 *   const loader = await createLoader(ds, { features: resolveFeatureConfig('fat2019'), batchSize: 32,
 *     training: true, crop: { frames: 128 }, augment: { batch: 'configs/augment/fat2019-8th.yaml' } });
 *   for await (const b of loader.epoch(0)) step(b.inputs, b.targets);
 *   await loader.close();
 */
export async function createLoader(dataset: Dataset, opts: LoaderOptions): Promise<Loader> {
  return openLoader(dataset, await resolveLoaderOptions(opts));
}
