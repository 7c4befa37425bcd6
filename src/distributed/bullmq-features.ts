// Feature extraction fanned out on BullMQ + Redis (docs/distributed.md): `features --out-dir D --queue …`
// and `dataset prepare --queue …` keep their own bookkeeping (index.csv, the cache's content hashes,
// resumability) and only hand each clip's computation to `audiotag worker` processes: one job per clip
// (its absolute path, the feature config, the spectrogram backend). The worker computes the clip with the
// same FeatureWorkerPool a local run uses, puts the .npy bytes in a Redis key of their own (not in the job's
// result, which travels through BullMQ's event stream) and returns the key; the coordinating process writes
// the bytes atomically where a local run would have written them. So the files are the local run's, byte
// for byte. Retries with backoff; a killed worker's job is retried by another after its lock expires.
import { createHash, randomUUID } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Job, Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { writeFileAtomic } from '../core/atomic-file.js';
import { canonicalConfig, type FeatureConfig } from '../features/config.js';
import { type FeatureBackend, FeatureWorkerPool, resolveBackend } from '../features/node/extract.js';
import { redisConnection } from './bullmq-predict.js';

export const FEATURES_QUEUE = 'audiotag-features';
const RESULT_TTL_S = 24 * 3600;

interface FeatureJob {
  path: string;
  config: FeatureConfig;
  backend: FeatureBackend;
  /** Redis key the worker stores the .npy bytes under. */
  key: string;
}
/** A clip's outcome: its .npy in `key` and its shape, or the reason it cannot be computed. */
type FeatureResult = { key: string; shape: number[] } | { error: string };

/**
 * The coordinator's side: `runToFile(path, out)` has a worker compute the clip and writes its .npy to `out`
 * (the same contract as FeatureWorkerPool.runToFile), for extractToDir/prepareCache's `runToFile` option.
 */
export class FeatureFanout {
  private readonly queue: Queue<FeatureJob, FeatureResult>;
  private readonly events: QueueEvents;
  private readonly redis: Redis;
  private readonly pending = new Map<
    string,
    { path: string; out: string; resolve: (s: number[]) => void; reject: (e: Error) => void }
  >();
  private readonly run = randomUUID().slice(0, 8);
  private readonly started: Promise<void>;

  constructor(
    url: string,
    private readonly config: FeatureConfig,
    private readonly backend: FeatureBackend,
    private readonly timing: { attempts?: number; backoffMs?: number } = {},
  ) {
    const connection = redisConnection('--queue', url);
    this.queue = new Queue<FeatureJob, FeatureResult>(FEATURES_QUEUE, {
      connection,
      streams: { events: { maxLen: 10_000 } },
    });
    this.events = new QueueEvents(FEATURES_QUEUE, { connection });
    this.redis = new Redis(connection);
    this.events.on('completed', ({ jobId, returnvalue }) => {
      const v = returnvalue as unknown;
      void this.settle(jobId, (typeof v === 'string' ? JSON.parse(v) : v) as FeatureResult);
    });
    this.events.on('failed', ({ jobId, failedReason }) => {
      const p = this.pending.get(jobId);
      if (!p) return;
      this.pending.delete(jobId);
      p.reject(new Error(`${p.path}: ${failedReason}`));
    });
    // Listening before any job is added: no completion can be missed.
    this.started = this.events.waitUntilReady().then(() => undefined);
  }

  private async settle(jobId: string, r: FeatureResult): Promise<void> {
    const p = this.pending.get(jobId);
    if (!p) return;
    this.pending.delete(jobId);
    try {
      if ('error' in r) throw new Error(`${p.path}: ${r.error}`);
      const bytes = await this.redis.getBuffer(r.key);
      if (!bytes) throw new Error(`${p.path}: the worker's result ${r.key} is gone from Redis`);
      writeFileAtomic(p.out, bytes);
      await this.redis.del(r.key);
      p.resolve(r.shape);
    } catch (e) {
      p.reject(e as Error);
    }
  }

  runToFile = async (path: string, out: string): Promise<number[]> => {
    await this.started;
    const abs = resolve(path);
    const jobId = `${this.run}-${createHash('sha256').update(`${abs}\n${out}`).digest('hex').slice(0, 24)}`;
    const done = new Promise<number[]>((res, rej) => {
      this.pending.set(jobId, { path, out, resolve: res, reject: rej });
    });
    await this.queue.add(
      'features',
      {
        path: abs,
        config: this.config,
        backend: this.backend,
        key: `audiotag:features:${jobId}`,
      },
      {
        jobId,
        attempts: this.timing.attempts ?? 3,
        backoff: { type: 'exponential', delay: this.timing.backoffMs ?? 1000 },
        removeOnComplete: true,
        removeOnFail: true,
      },
    );
    return done;
  };

  async close(): Promise<void> {
    await this.events.close();
    await this.queue.close();
    this.redis.disconnect();
  }
}

/** The worker's side: a BullMQ worker computing clips with one FeatureWorkerPool per config. */
export function startFeatureWorker(o: {
  url: string;
  concurrency: number;
  lockMs: number;
  onMessage?: (s: string) => void;
}): { close: () => Promise<void> } {
  const connection = redisConnection('--queue', o.url);
  const redis = new Redis(connection);
  const pools = new Map<string, Promise<FeatureWorkerPool>>();
  const poolFor = (config: FeatureConfig, backend: FeatureBackend) => {
    const k = `${backend}\n${canonicalConfig(config)}`;
    let p = pools.get(k);
    if (!p) {
      p = resolveBackend(backend, Number.POSITIVE_INFINITY).then(
        (b) => new FeatureWorkerPool(config, o.concurrency, { backend: b }),
      );
      pools.set(k, p);
    }
    return p;
  };
  const worker = new Worker<FeatureJob, FeatureResult>(
    FEATURES_QUEUE,
    async (job: Job<FeatureJob, FeatureResult>) => {
      const { path, config, backend, key } = job.data;
      const delay = Number(process.env.AUDIOTAG_TEST_JOB_DELAY_MS ?? 0);
      if (delay > 0) {
        o.onMessage?.(`started ${path}`);
        await new Promise((r) => setTimeout(r, delay));
      }
      const pool = await poolFor(config, backend);
      const tmp = join(tmpdir(), `audiotag-features-${process.pid}-${randomUUID().slice(0, 8)}.npy`);
      try {
        const shape = await pool.runToFile(path, tmp);
        await redis.set(key, await readFile(tmp), 'EX', RESULT_TTL_S);
        return { key, shape };
      } catch (e) {
        const msg = (e as Error).message;
        // A clip that cannot be read or computed is an answer, not a reason to retry; anything else
        // (a crashed pool, Redis) is thrown and retried.
        if (msg.startsWith(`${path}: `)) return { error: msg.slice(path.length + 2) };
        throw e;
      } finally {
        await rm(tmp, { force: true });
      }
    },
    { connection, concurrency: o.concurrency, lockDuration: o.lockMs, stalledInterval: o.lockMs },
  );
  worker.on('failed', (job, e) => o.onMessage?.(`${job?.data.path ?? '?'}: ${e.message}`));
  return {
    close: async () => {
      await worker.close();
      for (const p of pools.values()) await (await p).close();
      redis.disconnect();
    },
  };
}
