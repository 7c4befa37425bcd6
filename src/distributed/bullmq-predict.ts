// Distributed prediction on BullMQ + Redis (docs/distributed.md): `predict --queue redis://…` puts one job
// per file on the queue — or, for a recording longer than `chunkSeconds`, one job per chunk of whole windows
// — and gathers the raw scores workers return; `audiotag worker --queue redis://…` scores them. Retries with
// exponential backoff; a worker killed mid-job loses its lock and BullMQ's stalled-job check hands the job to
// another worker. Results are gathered (and written) by the one `predict` process, once per file.
//
// Chunks: chunk c of a file covers windows [cK, cK + K) (K windows of the model's plan), i.e. samples
// [cK·hop, cK·hop + (K−1)·hop + W) at the model's rate; the last chunk runs to the end of the file. A worker
// reads the file through the same streaming reader a local run uses (streamFile: same samples, also after
// resampling), keeps the chunk's samples and scores them as one recording, whose windows are then exactly
// the file's windows cK … cK + K − 1. The coordinator concatenates the chunks' window scores and rebuilds the
// window times and the duration as the local pipeline does.
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { type Job, Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { audioInfo } from '../audio/io.js';
import { OptionError } from '../core/errors.js';
import { concatFloat32 } from '../core/ndarray.js';
import { fromStored, type ScoreRunner, type ScoreSpec, type Stored, toStored } from '../infer/job.js';
import type { RawResult, TagInput } from '../infer/pipeline.js';
import { Tagger } from '../infer/tagger.js';
import { streamFile, type WindowPlan } from '../infer/windows.js';

export const PREDICT_QUEUE = 'audiotag-predict';

/** A job: one file (or the samples [from, to) of it at the model's rate), and how to score it. */
interface PredictJob {
  spec: ScoreSpec;
  input: { id: string; path: string };
  chunk?: { index: number; from: number; to: number | null };
}

/** Default length of the chunks long recordings are split into (`predict --chunk-seconds`). */
export const DEFAULT_CHUNK_SECONDS = 300;

/**
 * The chunks of a recording of `frames` samples at `nativeRate` under `plan`, as sample ranges at the
 * model's rate ([from, to), to null = to the end); one range when it is not longer than `chunkSeconds`.
 * Every chunk holds whole windows; the last at least one full window (two samples of slack for rounding in
 * resampling), so it never becomes a "shorter than one window" recording.
 */
export function chunkRanges(
  frames: number,
  nativeRate: number,
  plan: WindowPlan,
  chunkSeconds: number,
): { from: number; to: number | null }[] {
  const n = Math.floor((frames * plan.sampleRate) / nativeRate) - 2;
  const per = Math.max(1, Math.round((chunkSeconds * plan.sampleRate) / plan.hop));
  if (n < plan.length) return [{ from: 0, to: null }];
  const full = Math.floor((n - plan.length) / plan.hop) + 1;
  const count = Math.ceil(full / per);
  if (count <= 1) return [{ from: 0, to: null }];
  return Array.from({ length: count }, (_, c) => {
    const from = c * per * plan.hop;
    return { from, to: c === count - 1 ? null : from + (per - 1) * plan.hop + plan.length };
  });
}

/** The chunks' raw results (in order) joined into the file's, as the local pipeline would have made it. */
export function joinChunks(
  input: TagInput,
  plan: WindowPlan,
  parts: { from: number; r: RawResult }[],
): RawResult {
  const last = parts[parts.length - 1]!;
  const total = last.from + Math.round(last.r.duration * plan.sampleRate);
  const n = parts.reduce((a, p) => a + p.r.windows.length, 0);
  const windows = Array.from({ length: n }, (_, i) => ({
    start: total < plan.length ? 0 : (i * plan.hop) / plan.sampleRate,
    end: Math.min(i * plan.hop + plan.length, total) / plan.sampleRate,
  }));
  const r: RawResult = {
    input,
    duration: total / plan.sampleRate,
    windows,
    perModel: last.r.perModel.map((_, m) => concatFloat32(parts.map((p) => p.r.perModel[m]!))),
  };
  if (last.r.embeddings)
    r.embeddings = {
      dim: last.r.embeddings.dim,
      data: concatFloat32(parts.map((p) => p.r.embeddings!.data)),
    };
  return r;
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

/**
 * Checks that the Redis server of `url` answers (one connection, no retries, `timeoutMs`), so that a wrong
 * address is one clear error instead of a queue that reconnects forever. The error names `flag`.
 */
export async function reachRedis(flag: string, url: string, timeoutMs = 10_000): Promise<void> {
  const c = new Redis({
    ...redisConnection(flag, url),
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
    retryStrategy: () => null,
  });
  let cause = '';
  c.on('error', (e: Error) => {
    cause ||= e.message;
  });
  try {
    await c.connect();
    await c.ping();
  } catch (e) {
    throw new Error(`${flag}: cannot reach Redis at ${url} (${cause || (e as Error).message})`);
  } finally {
    c.disconnect();
  }
}

export interface QueueTiming {
  /** Tries per job (first run + retries). */
  attempts?: number;
  /** First retry delay; doubles each retry. */
  backoffMs?: number;
  /** Recordings longer than this many seconds go out as chunks of about this length (default 300). */
  chunkSeconds?: number;
}

/** The window plan (and whether chunks can be scored apart) of the models of a spec. */
async function chunkPlan(spec: ScoreSpec): Promise<WindowPlan | null> {
  const t = await Tagger.load(spec.models, spec.tagger);
  try {
    const p = t.plan;
    // TTA copies reach back before a chunk's first window; other rates have windows of other lengths.
    if (p.tta > 1 || t.models.some((m) => m.featureConfig.sampleRate !== p.sampleRate)) return null;
    return p;
  } finally {
    await t.dispose();
  }
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
    await reachRedis('--queue', url);
    const connection = redisConnection('url', url);
    const queue = new Queue<PredictJob, Stored>(PREDICT_QUEUE, { connection });
    const events = new QueueEvents(PREDICT_QUEUE, { connection });
    try {
      // Listening before the jobs are added: no completion can be missed.
      interface Pending {
        input: TagInput;
        parts: ({ from: number; r: RawResult } | undefined)[];
        left: number;
        plan: WindowPlan | null;
        failed: boolean;
      }
      const pending = new Map<string, { file: Pending; part: number; from: number }>();
      let open = 0;
      let finish: () => void = () => {};
      const allDone = new Promise<void>((res) => {
        finish = res;
      });
      const settle = (jobId: string, fn: (f: Pending, part: number, from: number) => void) => {
        const p = pending.get(jobId);
        if (!p) return;
        pending.delete(jobId);
        fn(p.file, p.part, p.from);
        if (pending.size === 0 && open === 0) finish();
      };
      events.on('completed', ({ jobId, returnvalue }) =>
        settle(jobId, (f, part, from) => {
          if (f.failed) return;
          const v = returnvalue as unknown;
          const r: RawResult = fromStored((typeof v === 'string' ? JSON.parse(v) : v) as Stored);
          r.input = f.input;
          f.parts[part] = { from, r };
          if (--f.left > 0) return;
          h.onResult(
            f.parts.length === 1
              ? r
              : joinChunks(
                  f.input,
                  f.plan!,
                  f.parts.map((x) => x!),
                ),
          );
        }),
      );
      events.on('failed', ({ jobId, failedReason }) =>
        settle(jobId, (f) => {
          if (f.failed) return;
          f.failed = true;
          // The file's other chunks are no longer needed.
          for (const [id, p] of pending) if (p.file === f) pending.delete(id);
          h.onError(f.input, new Error(failedReason));
        }),
      );
      await events.waitUntilReady();
      if (todo.length === 0) return;
      // Job ids from the job's content: adding the same file of the same job again is a no-op.
      const tag = createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 16);
      const chunkS = timing.chunkSeconds ?? DEFAULT_CHUNK_SECONDS;
      let plan: Promise<WindowPlan | null> | null = null;
      const entries: Parameters<typeof queue.addBulk>[0] = [];
      open = 1;
      for (const it of todo) {
        const path = it.path ? resolve(it.path) : '';
        const fileId = `${tag}-${createHash('sha256').update(`${it.id}\n${path}`).digest('hex').slice(0, 24)}`;
        let ranges: { from: number; to: number | null }[] = [{ from: 0, to: null }];
        const info = path ? await audioInfo(path).catch(() => null) : null;
        let p: WindowPlan | null = null;
        if (info && Number.isFinite(info.frames) && info.duration > chunkS) {
          plan ??= chunkPlan(spec);
          p = await plan;
          if (p) ranges = chunkRanges(info.frames, info.sampleRate, p, chunkS);
        }
        const file: Pending = {
          input: it,
          parts: ranges.map(() => undefined),
          left: ranges.length,
          plan: p,
          failed: false,
        };
        ranges.forEach((rg, c) => {
          const jobId = ranges.length === 1 ? fileId : `${fileId}-c${c}`;
          pending.set(jobId, { file, part: c, from: rg.from });
          entries.push({
            name: 'predict',
            data: {
              spec,
              input: { id: it.id, path },
              ...(ranges.length > 1 ? { chunk: { index: c, from: rg.from, to: rg.to } } : {}),
            },
            opts: {
              jobId,
              attempts: timing.attempts ?? 3,
              backoff: { type: 'exponential', delay: timing.backoffMs ?? 1000 },
              removeOnComplete: true,
              removeOnFail: true,
            },
          });
        });
      }
      for (let i = 0; i < entries.length; i += 500) await queue.addBulk(entries.slice(i, i + 500));
      open = 0;
      if (pending.size === 0) finish();
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

/** The samples [from, to) (to null: to the end) of a file at `sampleRate`, read as a local run reads it. */
async function readRange(
  path: string,
  sampleRate: number,
  from: number,
  to: number | null,
): Promise<Float32Array> {
  const stream = await streamFile(path, sampleRate);
  const parts: Float32Array[] = [];
  let at = 0;
  for await (const block of stream.blocks) {
    const lo = Math.max(from, at);
    const hi = to === null ? at + block.length : Math.min(to, at + block.length);
    if (hi > lo) parts.push(block.subarray(lo - at, hi - at));
    at += block.length;
    if (to !== null && at >= to) break;
  }
  return concatFloat32(parts);
}

/** Starts a worker of the predict queue; taggers are loaded once per distinct model spec. */
export async function startPredictWorker(o: WorkerOptions): Promise<{ close: () => Promise<void> }> {
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
      const { chunk } = job.data;
      const what = `${job.data.input.path}${chunk ? ` (chunk ${chunk.index})` : ''}`;
      // Tests stretch each job so that a worker can be killed in the middle of one.
      const delay = Number(process.env.AUDIOTAG_TEST_JOB_DELAY_MS ?? 0);
      if (delay > 0) {
        o.onMessage?.(`started ${what}`);
        await new Promise((r) => setTimeout(r, delay));
      }
      let out: Stored | null = null;
      let err: Error | null = null;
      const input: TagInput = { id: job.data.input.id, path: job.data.input.path };
      if (chunk) {
        const sr = tagger.plan.sampleRate;
        input.samples = await readRange(input.path!, sr, chunk.from, chunk.to);
        input.sampleRate = sr;
        delete input.path;
      }
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
      if (!out) throw new Error(`${what}: no result`);
      return out;
    },
    { connection, concurrency: o.concurrency ?? 1, lockDuration: lockMs, stalledInterval: lockMs },
  );
  worker.on('failed', (job, e) => o.onMessage?.(`${job?.data.input.path ?? '?'}: ${e.message}`));
  await worker.waitUntilReady();
  return {
    close: async () => {
      await worker.close();
      for (const t of taggers.values()) await (await t).dispose();
    },
  };
}
