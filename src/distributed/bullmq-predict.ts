// Distributed prediction on BullMQ + Redis (docs/distributed.md): `predict --queue redis://…` puts one job
// per file on the queue and gathers the raw scores workers return; `audiotag worker --queue redis://…`
// scores them. Retries with exponential backoff; a worker killed mid-job loses its lock and BullMQ's
// stalled-job check hands the job to another worker. Results are gathered (and written) by the one
// `predict` process, once per file.
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { type Job, Queue, QueueEvents, Worker } from 'bullmq';
import { OptionError } from '../core/errors.js';
import { fromStored, type ScoreRunner, type ScoreSpec, type Stored, toStored } from '../infer/job.js';
import type { RawResult, TagInput } from '../infer/pipeline.js';
import { Tagger } from '../infer/tagger.js';

export const PREDICT_QUEUE = 'audiotag-predict';

/** A job: one file, and how to score it. */
interface PredictJob {
  spec: ScoreSpec;
  input: { id: string; path: string };
}

/** ioredis options from `redis://[user:pass@]HOST:PORT[/DB]`; the error names the flag. */
export function redisConnection(
  flag: string,
  url: string,
): {
  host: string;
  port: number;
  db?: number;
  username?: string;
  password?: string;
  maxRetriesPerRequest: null;
} {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RangeError(`${flag} must be redis://HOST:PORT, got "${url}"`);
  }
  if (u.protocol !== 'redis:' || u.hostname === '')
    throw new RangeError(`${flag} must be redis://HOST:PORT, got "${url}"`);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined;
  if (db !== undefined && !(Number.isInteger(db) && db >= 0))
    throw new RangeError(
      `${flag}: the database after the port must be a number, got "${u.pathname.slice(1)}"`,
    );
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: u.port ? Number(u.port) : 6379,
    ...(db !== undefined ? { db } : {}),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    maxRetriesPerRequest: null,
  };
}

export interface QueueTiming {
  /** Tries per job (first run + retries). */
  attempts?: number;
  /** First retry delay; doubles each retry. */
  backoffMs?: number;
}

/** A ScoreRunner that fans the files out over the queue and waits for every one. */
export function bullmqRunner(url: string, timing: QueueTiming = {}): ScoreRunner {
  return async (todo, given, h) => {
    // Absolute paths: workers may run in another folder (or on machines that mount the same paths).
    const spec: ScoreSpec = { ...given, models: given.models.map((m) => resolve(m)) };
    if (
      spec.tagger.ttaAugment !== undefined &&
      spec.tagger.ttaAugment !== null &&
      typeof spec.tagger.ttaAugment !== 'string'
    )
      throw new OptionError('tagger.ttaAugment', 'must be given as a spec string to be sent to workers');
    const connection = redisConnection('url', url);
    const queue = new Queue<PredictJob, Stored>(PREDICT_QUEUE, { connection });
    const events = new QueueEvents(PREDICT_QUEUE, { connection });
    try {
      // Listening before the jobs are added: no completion can be missed.
      const pending = new Map<string, TagInput>();
      let finish: () => void = () => {};
      const allDone = new Promise<void>((res) => {
        finish = res;
      });
      const settle = (jobId: string, fn: (input: TagInput) => void) => {
        const input = pending.get(jobId);
        if (!input) return;
        pending.delete(jobId);
        fn(input);
        if (pending.size === 0) finish();
      };
      events.on('completed', ({ jobId, returnvalue }) =>
        settle(jobId, (input) => {
          const v = returnvalue as unknown;
          const r: RawResult = fromStored((typeof v === 'string' ? JSON.parse(v) : v) as Stored);
          r.input = input;
          h.onResult(r);
        }),
      );
      events.on('failed', ({ jobId, failedReason }) =>
        settle(jobId, (input) => h.onError(input, new Error(failedReason))),
      );
      await events.waitUntilReady();
      if (todo.length === 0) return;
      // Job ids from the job's content: adding the same file of the same job again is a no-op.
      const tag = createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 16);
      const entries = todo.map((it) => {
        const path = it.path ? resolve(it.path) : '';
        const jobId = `${tag}-${createHash('sha256').update(`${it.id}\n${path}`).digest('hex').slice(0, 24)}`;
        pending.set(jobId, it);
        return {
          name: 'predict',
          data: { spec, input: { id: it.id, path } },
          opts: {
            jobId,
            attempts: timing.attempts ?? 3,
            backoff: { type: 'exponential', delay: timing.backoffMs ?? 1000 },
            removeOnComplete: true,
            removeOnFail: true,
          },
        };
      });
      for (let i = 0; i < entries.length; i += 500) await queue.addBulk(entries.slice(i, i + 500));
      await allDone;
    } finally {
      await events.close();
      await queue.close();
    }
  };
}

export interface WorkerOptions {
  url: string;
  concurrency?: number;
  /** How long a job's lock lasts without renewal: a killed worker's job is retried after about this. */
  lockMs?: number;
  onMessage?: (s: string) => void;
}

/** Runs a worker until `signal` aborts; taggers are loaded once per distinct model spec. */
export async function runPredictWorker(o: WorkerOptions, signal: AbortSignal): Promise<void> {
  const connection = redisConnection('url', o.url);
  const taggers = new Map<string, Promise<Tagger>>();
  const taggerFor = (spec: ScoreSpec) => {
    const key = JSON.stringify([spec.models, spec.tagger]);
    let t = taggers.get(key);
    if (!t) {
      t = Tagger.load(spec.models, spec.tagger);
      taggers.set(key, t);
    }
    return t;
  };
  const lockMs = o.lockMs ?? 30_000;
  const worker = new Worker<PredictJob, Stored>(
    PREDICT_QUEUE,
    async (job: Job<PredictJob, Stored>) => {
      const tagger = await taggerFor(job.data.spec);
      // Tests stretch each job so that a worker can be killed in the middle of one.
      const delay = Number(process.env.AUDIOTAG_TEST_JOB_DELAY_MS ?? 0);
      if (delay > 0) {
        o.onMessage?.(`started ${job.data.input.path}`);
        await new Promise((r) => setTimeout(r, delay));
      }
      let out: Stored | null = null;
      let err: Error | null = null;
      const input: TagInput = { id: job.data.input.id, path: job.data.input.path };
      await tagger.run([input], {
        embeddings: job.data.spec.embeddings,
        onResult: (r) => {
          out = toStored(r);
        },
        onError: (_i, e) => {
          err = e;
        },
      });
      if (err) throw err;
      if (!out) throw new Error(`${input.path}: no result`);
      return out;
    },
    { connection, concurrency: o.concurrency ?? 1, lockDuration: lockMs, stalledInterval: lockMs },
  );
  worker.on('failed', (job, e) => o.onMessage?.(`${job?.data.input.path ?? '?'}: ${e.message}`));
  await worker.waitUntilReady();
  o.onMessage?.(`worker ${hostname()}:${process.pid} on ${o.url} (concurrency ${o.concurrency ?? 1})`);
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await worker.close();
  for (const t of taggers.values()) await (await t).dispose();
}
