// Building a feature cache at dataset scale: every core, streaming, resumable.
//
//   const cache = await FeatureCache.open(dir, config);
//   const r = await prepareCache(cache, paths, { threads: 2, onProgress: (p) => bar.update(p.done) });
//
// - All cores: a pool of worker threads, each decoding (libsndfile + soxr in the thread pool when the audio
//   addon is built, else WAV natively / ffmpeg), computing the features (TypeScript by default, libtorch's
//   STFT on request) and writing its .npy straight into the cache.
// - Streaming: clips are hashed, looked up and handed out a few per worker at a time; nothing waits for the
//   whole list, and no features travel back to the main thread.
// - Resumable: each entry is written atomically (tmp + rename) the moment it is done, and the path → hash
//   memo is saved every few seconds, so after a crash a rerun finds the finished clips and skips them.
// - Bad clips are reported once (onBad, and in the result) with their reason and skipped; the rest finish.
import { access } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type { FeatureCache } from './cache.js';
import { engineImported, type FeatureBackend, FeatureWorkerPool, resolveBackend } from './extract.js';

export interface PrepareProgress {
  /** Clips finished (computed, found in the cache, or failed) of `total`. */
  done: number;
  total: number;
  computed: number;
  cached: number;
  failed: number;
  /** Clips per second since the start, and the estimated seconds left. */
  clipsPerS: number;
  etaS: number;
}

export interface PrepareOptions {
  /** Worker threads (default: one per core, at most one per clip to compute). */
  threads?: number;
  /**
   * Spectrogram backend of the workers: 'js' (default) or 'engine' (libtorch's STFT in each worker;
   * 'auto' = 'engine' when it loads). The engine pays only with one OpenMP thread per worker: call
   * preferOneOpenMpThread() first in a process dedicated to preparation (bench/README.md).
   */
  backend?: FeatureBackend;
  /** After every clip. */
  onProgress?: (p: PrepareProgress) => void;
  /** Once per clip that cannot be decoded or featurised, with the reason. */
  onBad?: (path: string, reason: string) => void;
  /** Once the worker threads are up (before the first clip is computed). */
  onStarted?: () => void;
  /** Seconds between saves of the content-hash memo (default 5). */
  flushEveryS?: number;
  /** Computes a clip elsewhere (a job queue: src/distributed/bullmq-features.ts) instead of on the worker
   * pool; writes the entry atomically and resolves with the shape, as FeatureWorkerPool.runToFile. */
  runToFile?: (path: string, out: string) => Promise<number[]>;
}

export interface PrepareResult extends PrepareProgress {
  failures: { path: string; reason: string }[];
  seconds: number;
  /** Seconds spent starting the workers (and loading libtorch in them), included in `seconds`. */
  startupS: number;
  backend: 'engine' | 'js';
  threads: number;
}

/**
 * For a process dedicated to preparation (the CLI's `dataset prepare`, `features --out-dir`, `bench
 * prepare`): sets OMP_NUM_THREADS=1 unless it is set, before libtorch loads, so that each worker's engine
 * runs on one OpenMP thread. libtorch's per-call thread limit does not hold in worker threads: with it
 * alone the engine spent 42 ms of CPU per fat2019 clip, with OMP_NUM_THREADS=1 17.7 ms (TypeScript: 25–29;
 * bench/README.md). Returns whether the engine can be used that way (false: libtorch was loaded already,
 * or the variable says otherwise; then prefer the 'js' backend).
 */
export function preferOneOpenMpThread(): boolean {
  if (process.env.OMP_NUM_THREADS === undefined && !engineImported()) process.env.OMP_NUM_THREADS = '1';
  return process.env.OMP_NUM_THREADS === '1';
}

export async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * Progress over `total` clips started at `t0` (performance.now()): the counters, and `report()`, which
 * updates the rate and the estimated time left and hands a copy to `onProgress`.
 */
export function clipProgress(total: number, t0: number, onProgress?: (p: PrepareProgress) => void) {
  const p: PrepareProgress = {
    done: 0,
    total,
    computed: 0,
    cached: 0,
    failed: 0,
    clipsPerS: 0,
    etaS: Number.NaN,
  };
  const report = () => {
    const s = (performance.now() - t0) / 1000;
    p.clipsPerS = s > 0 ? p.done / s : 0;
    p.etaS = p.clipsPerS > 0 ? (total - p.done) / p.clipsPerS : Number.NaN;
    onProgress?.({ ...p });
  };
  return { p, report };
}

/** Why `path` failed: the error's message without the file name worker and decode errors start with. */
export function failureReason(path: string, e: unknown): string {
  let reason = e instanceof Error ? e.message : String(e);
  while (reason.startsWith(`${path}: `)) reason = reason.slice(path.length + 2);
  return reason;
}

/** Computes and stores the cache entries of every path not in the cache yet. */
export async function prepareCache(
  cache: FeatureCache,
  paths: readonly string[],
  opts: PrepareOptions = {},
): Promise<PrepareResult> {
  const t0 = performance.now();
  const total = paths.length;
  const threads = Math.max(1, Math.min(opts.threads ?? availableParallelism(), Math.max(1, total)));
  if (!Number.isInteger(threads))
    throw new Error(`prepareCache: threads must be an integer ≥ 1, got ${opts.threads}`);
  const backend = await resolveBackend(opts.backend ?? 'js', Number.POSITIVE_INFINITY);
  const { p, report } = clipProgress(total, t0, opts.onProgress);
  const failures: { path: string; reason: string }[] = [];
  const bad = (path: string, e: unknown) => {
    const reason = failureReason(path, e);
    failures.push({ path, reason });
    p.failed++;
    opts.onBad?.(path, reason);
  };

  // Workers start while the first clips are hashed; a run where everything is cached never starts them.
  let pool: FeatureWorkerPool | null = null;
  let startupS = 0;
  const getPool = async (): Promise<FeatureWorkerPool> => {
    if (pool === null) {
      const s = performance.now();
      pool = new FeatureWorkerPool(cache.config, threads, { backend });
      await pool.ready;
      startupS = (performance.now() - s) / 1000;
      opts.onStarted?.();
    }
    return pool;
  };
  let lastFlush = performance.now();
  const flushEvery = (opts.flushEveryS ?? 5) * 1000;
  let next = 0;
  const lane = async () => {
    while (next < paths.length) {
      const path = paths[next++]!;
      try {
        const entry = cache.entryFile(await cache.contentHash(path));
        if (await exists(entry)) p.cached++;
        else {
          if (opts.runToFile) await opts.runToFile(path, entry);
          else await (await getPool()).runToFile(path, entry);
          p.computed++;
        }
      } catch (e) {
        bad(path, e);
      }
      p.done++;
      report();
      if (performance.now() - lastFlush > flushEvery) {
        lastFlush = performance.now();
        await cache.flush();
      }
    }
  };
  try {
    // Two clips in flight per worker keep every worker busy while the main thread hashes the next.
    await Promise.all(Array.from({ length: Math.min(2 * threads, Math.max(1, total)) }, lane));
  } finally {
    await cache.flush();
    await (pool as FeatureWorkerPool | null)?.close();
  }
  if (total === 0) report();
  return { ...p, failures, seconds: (performance.now() - t0) / 1000, startupS, backend, threads };
}
