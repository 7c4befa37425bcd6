// Bulk feature extraction on worker threads. Features are CPU-bound pure JS, so N workers give close to
// N× on N free cores; one clip per message keeps the load balanced, and results come back with their
// buffers transferred. Small jobs (or workers ≤ 1) run in-process: starting a worker costs more than a
// few clips. With the native addon, bulk jobs go through the engine backend instead (./engine.ts:
// torch.stft and BLAS, in-process, libtorch's threads), which is faster (bench/features.ts).
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { loadAudio } from '../../audio/index.js';
import type { NDArray } from '../../core/ndarray.js';
import { startWorker } from '../../core/worker-thread.js';
import { computeFeatures, prepareSignal } from '../compute.js';
import { type FeatureConfig, type FeatureConfigInput, resolveFeatureConfig } from '../config.js';
import type { WorkerReply, WorkerSetup, WorkerTask } from './protocol.js';

type Task =
  | { kind: 'path'; path: string; load?: { offset?: number; duration?: number }; out?: string }
  | {
      kind: 'samples';
      samples: Float32Array;
      sampleRate: number;
    };

interface Pending {
  /** data is null when the worker wrote the features to the task's `out` file. */
  resolve: (a: { data: Float32Array | null; shape: number[] }) => void;
  reject: (e: Error) => void;
  label: string;
}

/**
 * A fixed pool of feature workers for one config.
 * @example const pool = new FeatureWorkerPool('fat2019', 2); await pool.run({ kind: 'path', path }); await pool.close()
 */
export class FeatureWorkerPool {
  readonly size: number;
  readonly config: FeatureConfig;
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: { task: Task; pending: Pending }[] = [];
  private readonly inFlight = new Map<Worker, { id: number; pending: Pending }>();
  private nextId = 0;
  private failure: Error | null = null;
  private closing = false;

  /** Resolves when every worker has started (and loaded the engine, for that backend). */
  readonly ready: Promise<void>;

  /**
   * @param backend 'js' (default): the TypeScript features; 'engine': libtorch's STFT and filterbank, one
   *   libtorch thread per worker (a worker that cannot load it uses the TypeScript path).
   */
  constructor(
    config: FeatureConfigInput | FeatureConfig,
    size = availableParallelism(),
    opts: { backend?: 'engine' | 'js' } = {},
  ) {
    if (!Number.isInteger(size) || size < 1)
      throw new Error(`FeatureWorkerPool: size must be ≥ 1, got ${size}`);
    this.size = size;
    this.config = resolveFeatureConfig(config);
    const setup: WorkerSetup = { config: this.config, backend: opts.backend ?? 'js' };
    const ready: Promise<void>[] = [];
    for (let i = 0; i < size; i++) {
      const w = startWorker(import.meta.url, 'worker', { workerData: setup });
      ready.push(
        new Promise<void>((res) => {
          const onReady = (m: unknown) => {
            if ((m as { ready?: boolean }).ready) {
              w.off('message', onReady);
              res();
            }
          };
          w.on('message', onReady);
          w.once('exit', () => res());
        }),
      );
      w.on('message', (m: WorkerReply | { ready: true }) => {
        if (!('ready' in m)) this.onReply(w, m);
      });
      w.on('error', (e) => this.fail(w, e));
      w.on('exit', (code) => {
        if (code !== 0 && !this.closing) this.fail(w, new Error(`feature worker exited with code ${code}`));
      });
      this.workers.push(w);
      this.idle.push(w);
    }
    this.ready = Promise.all(ready).then(() => undefined);
  }

  /** Features of one clip (a file path, or samples at a rate). */
  async run(task: Task): Promise<NDArray> {
    const r = await this.submit({ ...task, ...(task.kind === 'path' ? { out: undefined } : {}) });
    return { data: r.data!, shape: r.shape };
  }

  /** Computes one file's features and writes them to `out` (.npy, atomically); resolves with the shape. */
  async runToFile(
    path: string,
    out: string,
    load?: { offset?: number; duration?: number },
  ): Promise<number[]> {
    return (await this.submit({ kind: 'path', path, out, ...(load ? { load } : {}) })).shape;
  }

  private submit(task: Task): Promise<{ data: Float32Array | null; shape: number[] }> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new Error('FeatureWorkerPool: the pool is closed'));
    return new Promise((resolve, reject) => {
      const label = task.kind === 'path' ? task.path : 'samples';
      this.queue.push({ task, pending: { resolve, reject, label } });
      this.pump();
    });
  }

  private pump(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const w = this.idle.pop()!;
      const { task, pending } = this.queue.shift()!;
      const id = this.nextId++;
      this.inFlight.set(w, { id, pending });
      const msg: WorkerTask = { id, ...task } as WorkerTask;
      // Samples are copied (structured clone) so the caller keeps its array.
      w.postMessage(msg);
    }
  }

  private onReply(w: Worker, m: WorkerReply): void {
    const job = this.inFlight.get(w);
    this.inFlight.delete(w);
    this.idle.push(w);
    if (job && job.id === m.id) {
      if (m.error !== undefined) job.pending.reject(new Error(`${job.pending.label}: ${m.error}`));
      else job.pending.resolve({ data: m.data, shape: m.shape });
    }
    this.pump();
  }

  private fail(w: Worker, e: Error): void {
    this.failure ??= e;
    const job = this.inFlight.get(w);
    this.inFlight.delete(w);
    job?.pending.reject(e);
    for (const q of this.queue.splice(0)) q.pending.reject(e);
  }

  /** Stops the workers (pending work is rejected). */
  async close(): Promise<void> {
    this.closing = true;
    for (const q of this.queue.splice(0)) q.pending.reject(new Error('FeatureWorkerPool: closed'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Which code computes the spectrograms: see ExtractOptions.backend. */
export type FeatureBackend = 'auto' | 'engine' | 'js';
export const FEATURE_BACKENDS: readonly FeatureBackend[] = ['auto', 'engine', 'js'];

/**
 * 'auto' takes the engine from this many clips: loading libtorch costs ~0.6 s once per process, which
 * the engine wins back (~5 ms per 5 s clip at 44.1 kHz) only over a few dozen clips.
 */
export const AUTO_ENGINE_MIN_CLIPS = 32;

export interface ExtractOptions {
  /**
   * Parallelism. JS backend: worker threads; default one per core when there are at least 8 clips, else
   * in-process. Engine backend: libtorch intra-op threads for the call (restored afterwards); default 1:
   * on a shared, oversubscribed machine libgomp's spin-waiting makes 2 threads 3× slower than 1
   * (bench/README.md), and one engine thread already outruns JS on every core there.
   */
  workers?: number;
  /** Called after each clip. */
  onProgress?: (done: number, total: number) => void;
  /**
   * 'js': the TypeScript code (browser-identical results). 'engine': STFT and filterbank through the
   * native addon (src/features/node/engine.ts; results agree with 'js' within float32 rounding, see
   * test/features/engine-backend.test.ts), an error when the addon cannot load. 'auto' (default): the
   * engine from AUTO_ENGINE_MIN_CLIPS clips up when the addon loads, else 'js', with no error.
   */
  backend?: FeatureBackend;
}

type EngineModule = typeof import('./engine.js');
let engineLoad: Promise<{ module: EngineModule } | { error: Error }> | null = null;

/** The engine backend, imported once (a missing or broken addon is remembered, not retried). */
function loadEngine(): Promise<{ module: EngineModule } | { error: Error }> {
  engineLoad ??= import('./engine.js').then(
    (module) => ({ module }),
    (e: unknown) => ({ error: e instanceof Error ? e : new Error(String(e)) }),
  );
  return engineLoad;
}

/** Whether this process has imported the engine backend (and so loaded libtorch) through this module. */
export function engineImported(): boolean {
  return engineLoad !== null;
}

/**
 * The backend extractMany/extractSamples use for `clips` clips: 'js' or 'engine' (see
 * ExtractOptions.backend). Throws only for an explicit 'engine' without a working addon.
 */
export async function resolveBackend(backend: FeatureBackend = 'auto', clips = 0): Promise<'engine' | 'js'> {
  if (!FEATURE_BACKENDS.includes(backend))
    throw new Error(`extract: backend must be one of ${FEATURE_BACKENDS.join(', ')}, got "${backend}"`);
  if (backend === 'js' || (backend === 'auto' && clips < AUTO_ENGINE_MIN_CLIPS)) return 'js';
  const r = await loadEngine();
  if ('module' in r) return 'engine';
  if (backend === 'engine')
    throw new Error(`extract: backend "engine" needs the native addon: ${r.error.message}`);
  return 'js';
}

/** Decodes (a few files at a time) and prepares clips, then runs them through the engine in chunks. */
async function runEngine(
  engine: EngineModule,
  tasks: Task[],
  config: FeatureConfig,
  opts: ExtractOptions,
  tick: () => void,
): Promise<NDArray[]> {
  // Chunks bound the memory of decoded clips; equal-length clips within a chunk share stft calls.
  const CHUNK = 32;
  const DECODERS = 4;
  const out: NDArray[] = [];
  for (let s = 0; s < tasks.length; s += CHUNK) {
    const part = tasks.slice(s, s + CHUNK);
    const prepared = new Array<Float32Array>(part.length);
    let next = 0;
    const lane = async () => {
      while (next < part.length) {
        const i = next++;
        const t = part[i]!;
        if (t.kind === 'samples') {
          prepared[i] = prepareSignal(t.samples, t.sampleRate, config);
          continue;
        }
        try {
          const audio = await loadAudio(t.path, { mono: true, sampleRate: config.sampleRate, ...t.load });
          prepared[i] = prepareSignal(audio.channels[0]!, audio.sampleRate, config);
        } catch (e) {
          throw new Error(`${t.path}: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(DECODERS, part.length) }, lane));
    const labels = part.map((t) => (t.kind === 'path' ? t.path : ''));
    const feats = engine.featuresFromSignalsEngine(prepared, config, {
      threads: opts.workers ?? 1,
      labels: labels.some((l) => l !== '') ? labels : undefined,
    });
    for (const f of feats) {
      out.push(f);
      tick();
    }
  }
  return out;
}

async function runAll(tasks: Task[], config: FeatureConfig, opts: ExtractOptions): Promise<NDArray[]> {
  let done = 0;
  const tick = () => opts.onProgress?.(++done, tasks.length);
  if ((await resolveBackend(opts.backend, tasks.length)) === 'engine') {
    const r = await loadEngine();
    if ('module' in r) return runEngine(r.module, tasks, config, opts, tick);
  }
  const workers = opts.workers ?? (tasks.length >= 8 ? Math.min(availableParallelism(), tasks.length) : 1);
  if (workers <= 1) {
    const out: NDArray[] = [];
    for (const t of tasks) {
      if (t.kind === 'path') {
        const audio = await loadAudio(t.path, { mono: true, sampleRate: config.sampleRate, ...t.load });
        try {
          out.push(computeFeatures(audio.channels[0]!, audio.sampleRate, config));
        } catch (e) {
          throw new Error(`${t.path}: ${e instanceof Error ? e.message : String(e)}`);
        }
      } else out.push(computeFeatures(t.samples, t.sampleRate, config));
      tick();
    }
    return out;
  }
  const pool = new FeatureWorkerPool(config, Math.min(workers, tasks.length));
  try {
    return await Promise.all(
      tasks.map(async (t) => {
        const r = await pool.run(t);
        tick();
        return r;
      }),
    );
  } finally {
    await pool.close();
  }
}

/**
 * Features of many files (decoded with loadAudio, mono), in order.
 * @example const feats = await extractMany(paths, 'fat2019', { workers: 2 })
 */
export function extractMany(
  paths: readonly string[],
  config: FeatureConfigInput | FeatureConfig,
  opts: ExtractOptions = {},
): Promise<NDArray[]> {
  const c = resolveFeatureConfig(config);
  return runAll(
    paths.map((path) => ({ kind: 'path', path })),
    c,
    opts,
  );
}

/** Features of many in-memory clips, in order (the bench uses this to leave decoding out). */
export function extractSamples(
  clips: readonly { samples: Float32Array; sampleRate: number }[],
  config: FeatureConfigInput | FeatureConfig,
  opts: ExtractOptions = {},
): Promise<NDArray[]> {
  const c = resolveFeatureConfig(config);
  return runAll(
    clips.map((x) => ({ kind: 'samples', samples: x.samples, sampleRate: x.sampleRate })),
    c,
    opts,
  );
}
