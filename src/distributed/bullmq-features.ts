// Feature extraction fanned out on BullMQ + Redis (docs/distributed.md): `features --out-dir D --queue …`
// and `dataset prepare --queue …` keep their own bookkeeping (index.csv, the cache's content hashes,
// resumability) and only hand the clips' computation to `audiotag worker` processes: one job per batch of up
// to 8 clips (absolute paths, the feature config, the spectrogram backend). The worker computes each clip with the
// same FeatureWorkerPool a local run uses, puts the .npy bytes in a Redis key of their own (not in the job's
// result, which travels through BullMQ's event stream) and returns the key; the coordinating process writes
// the bytes atomically where a local run would have written them. So the files are the local run's, byte
// for byte. Retries with backoff; a killed worker's job is retried by another after its lock expires.
import { randomUUID } from 'node:crypto';
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
  /** The clips, with the Redis key the worker stores each .npy under. */
  clips: { path: string; key: string }[];
  config: FeatureConfig;
  backend: FeatureBackend;
}
/** A clip's outcome: its .npy in `key` and its shape, or the reason it cannot be computed. */
type ClipResult = { key: string; shape: number[] } | { error: string };
type FeatureResult = ClipResult[];

interface Waiting {
  path: string;
  out: string;
  resolve: (s: number[]) => void;
  reject: (e: Error) => void;
}

/**
 * The coordinator's side: `runToFile(path, out)` has a worker compute the clip and writes its .npy to `out`
 * (the same contract as FeatureWorkerPool.runToFile), for extractToDir/prepareCache's `runToFile` option.
 * Clips asked for within a few milliseconds of each other go out together, up to `batch` per job, so the
 * queue's per-job cost (Redis round trips, an event) is paid once per batch, not per clip.
 */
export class FeatureFanout {
  private readonly queue: Queue<FeatureJob, FeatureResult>;
  private readonly events: QueueEvents;
  private readonly redis: Redis;
  private readonly pending = new Map<string, Waiting[]>();
  private readonly run = randomUUID().slice(0, 8);
  private readonly started: Promise<void>;
  private next: Waiting[] = [];
  private timer: NodeJS.Timeout | null = null;
  private seq = 0;

  constructor(
    url: string,
    private readonly config: FeatureConfig,
    private readonly backend: FeatureBackend,
    private readonly o: { attempts?: number; backoffMs?: number; batch?: number } = {},
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
      const ws = this.pending.get(jobId);
      if (!ws) return;
      this.pending.delete(jobId);
      for (const w of ws) w.reject(new Error(`${w.path}: ${failedReason}`));
    });
    // Listening before any job is added: no completion can be missed.
    this.started = this.events.waitUntilReady().then(() => undefined);
  }

  private async settle(jobId: string, results: FeatureResult): Promise<void> {
    const ws = this.pending.get(jobId);
    if (!ws) return;
    this.pending.delete(jobId);
    await Promise.all(
      ws.map(async (w, i) => {
        try {
          const r = results[i];
          if (!r) throw new Error(`${w.path}: the worker sent no result for it`);
          if ('error' in r) throw new Error(`${w.path}: ${r.error}`);
          const bytes = await this.redis.getBuffer(r.key);
          if (!bytes) throw new Error(`${w.path}: the worker's result ${r.key} is gone from Redis`);
          writeFileAtomic(w.out, bytes);
          await this.redis.del(r.key);
          w.resolve(r.shape);
        } catch (e) {
          w.reject(e as Error);
        }
      }),
    );
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const ws = this.next;
    this.next = [];
    if (ws.length === 0) return;
    const jobId = `${this.run}-${this.seq++}`;
    this.pending.set(jobId, ws);
    this.queue
      .add(
        'features',
        {
          clips: ws.map((w, i) => ({ path: resolve(w.path), key: `audiotag:features:${jobId}:${i}` })),
          config: this.config,
          backend: this.backend,
        },
        {
          jobId,
          attempts: this.o.attempts ?? 3,
          backoff: { type: 'exponential', delay: this.o.backoffMs ?? 1000 },
          removeOnComplete: true,
          removeOnFail: true,
        },
      )
      .catch((e: Error) => {
        this.pending.delete(jobId);
        for (const w of ws) w.reject(e);
      });
  }

  runToFile = async (path: string, out: string): Promise<number[]> => {
    await this.started;
    return new Promise<number[]>((res, rej) => {
      this.next.push({ path, out, resolve: res, reject: rej });
      if (this.next.length >= (this.o.batch ?? 8)) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), 10);
    });
  };

  async close(): Promise<void> {
    this.flush();
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
      const { clips, config, backend } = job.data;
      const delay = Number(process.env.AUDIOTAG_TEST_JOB_DELAY_MS ?? 0);
      if (delay > 0) {
        o.onMessage?.(`started ${clips.map((c) => c.path).join(' ')}`);
        await new Promise((r) => setTimeout(r, delay));
      }
      const pool = await poolFor(config, backend);
      return Promise.all(
        clips.map(async ({ path, key }): Promise<ClipResult> => {
          const tmp = join(tmpdir(), `audiotag-features-${process.pid}-${randomUUID().slice(0, 8)}.npy`);
          try {
            const shape = await pool.runToFile(path, tmp);
            await redis.set(key, await readFile(tmp), 'EX', RESULT_TTL_S);
            return { key, shape };
          } catch (e) {
            const msg = (e as Error).message;
            // A clip that cannot be read or computed is an answer, not a reason to retry; anything else
            // (a crashed pool, Redis) is thrown and the whole job retried.
            if (msg.startsWith(`${path}: `)) return { error: msg.slice(path.length + 2) };
            throw e;
          } finally {
            await rm(tmp, { force: true });
          }
        }),
      );
    },
    { connection, concurrency: o.concurrency, lockDuration: o.lockMs, stalledInterval: o.lockMs },
  );
  worker.on('failed', (job, e) =>
    o.onMessage?.(`${job?.data.clips.map((c) => c.path).join(' ') ?? '?'}: ${e.message}`),
  );
  return {
    close: async () => {
      await worker.close();
      for (const p of pools.values()) await (await p).close();
      redis.disconnect();
    },
  };
}
