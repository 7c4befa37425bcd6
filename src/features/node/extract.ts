// Bulk feature extraction on worker threads. Features are CPU-bound pure JS, so N workers give close to
// N× on N free cores; one clip per message keeps the load balanced, and results come back with their
// buffers transferred. Small jobs (or workers ≤ 1) run in-process: starting a worker costs more than a
// few clips.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { loadAudio } from '../../audio/index.js';
import type { NDArray } from '../../core/ndarray.js';
import { computeFeatures } from '../compute.js';
import { type FeatureConfig, type FeatureConfigInput, resolveFeatureConfig } from '../config.js';
import type { WorkerReply, WorkerTask } from './protocol.js';

type Task =
  | { kind: 'path'; path: string; load?: { offset?: number; duration?: number } }
  | {
      kind: 'samples';
      samples: Float32Array;
      sampleRate: number;
    };

/**
 * How to start worker.ts: compiled (dist/…/worker.js) directly; from sources (.ts, under tsx) through a
 * tiny bootstrap that registers tsx's ESM hooks inside the worker first, because Node 20 workers do
 * not inherit the parent's module hooks (an inherited `--import tsx` does not apply to the worker's entry).
 */
function workerEntry(): { script: string | URL; eval: boolean; entry: string; tsxApi: string | null } {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) {
    const url = new URL('./worker.js', here);
    return { script: url, eval: false, entry: url.href, tsxApi: null };
  }
  const req = createRequire(here);
  const pkgPath = req.resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as {
    exports: Record<string, { import?: { default?: string } }>;
  };
  const rel = pkg.exports['./esm/api']?.import?.default;
  if (!rel) throw new Error(`extract: cannot find tsx's ESM API in ${pkgPath} to run the .ts worker`);
  const tsxApi = pathToFileURL(join(dirname(pkgPath), rel)).href;
  const script = `const { workerData } = require('node:worker_threads');
import(workerData.tsxApi)
  .then((m) => { m.register(); return import(workerData.entry); })
  .catch((e) => setImmediate(() => { throw e; }));`;
  return { script, eval: true, entry: new URL('./worker.ts', here).href, tsxApi };
}

interface Pending {
  resolve: (a: NDArray) => void;
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

  constructor(config: FeatureConfigInput | FeatureConfig, size = availableParallelism()) {
    if (!Number.isInteger(size) || size < 1)
      throw new Error(`FeatureWorkerPool: size must be ≥ 1, got ${size}`);
    this.size = size;
    this.config = resolveFeatureConfig(config);
    const spec = workerEntry();
    for (let i = 0; i < size; i++) {
      const w = new Worker(spec.script, {
        eval: spec.eval,
        workerData: { config: this.config, entry: spec.entry, tsxApi: spec.tsxApi },
      });
      w.on('message', (m: WorkerReply) => this.onReply(w, m));
      w.on('error', (e) => this.fail(w, e));
      w.on('exit', (code) => {
        if (code !== 0 && !this.closing) this.fail(w, new Error(`feature worker exited with code ${code}`));
      });
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  /** Features of one clip (a file path, or samples at a rate). */
  run(task: Task): Promise<NDArray> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new Error('FeatureWorkerPool: the pool is closed'));
    return new Promise<NDArray>((resolve, reject) => {
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

export interface ExtractOptions {
  /** Worker threads; default: one per core when there are at least 8 clips, else in-process. */
  workers?: number;
  /** Called after each clip. */
  onProgress?: (done: number, total: number) => void;
}

async function runAll(tasks: Task[], config: FeatureConfig, opts: ExtractOptions): Promise<NDArray[]> {
  const workers = opts.workers ?? (tasks.length >= 8 ? Math.min(availableParallelism(), tasks.length) : 1);
  let done = 0;
  const tick = () => opts.onProgress?.(++done, tasks.length);
  if (workers <= 1) {
    const out: NDArray[] = [];
    for (const t of tasks) {
      if (t.kind === 'path') {
        const audio = await loadAudio(t.path, { mono: true, ...t.load });
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
