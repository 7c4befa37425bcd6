// The JobQueue of src/serve/queue.ts on BullMQ + Redis (`audiotag serve --queue redis://…`): jobs live in
// Redis, so they survive a restart of the server, and any process holding the same queue (the server's own
// job worker, `audiotag worker --queue … --model …` on other machines) can run them.
//
// Mapping: add → Queue.add (a UUID job id, kept 7 days after it ends); claim → a manual BullMQ Worker's
// getNextJob(token = the caller's worker name), which locks the job for leaseMs; progress → extendLock (the
// lease) + updateProgress; complete/fail → moveToCompleted/moveToFailed, which BullMQ refuses unless the
// token still holds the lock, so a result is written once. A job whose lock ran out (its worker died) is put
// back in the wait list by BullMQ's stalled-job checker, which runs in every claiming process every
// leaseMs; requeueExpired therefore has nothing to do here.
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Job, Queue, Worker } from 'bullmq';
import type { JobQueue, JobRecord, JobState } from '../serve/queue.js';
import { reachRedis, redisConnection } from './bullmq-predict.js';

export const SERVE_QUEUE = 'audiotag-serve';

/** Seconds a finished job (and its result) is kept for GET /v1/jobs/:id. */
const KEEP_S = 7 * 24 * 3600;

/** Default folder of `serve --queue URL`'s waiting uploads: one per Redis server and database, kept
 * across restarts of the server (the jobs in Redis point into it). */
export function serveJobDir(url: string): string {
  const c = redisConnection('--queue', url);
  return join(tmpdir(), `audiotag-serve-jobs-${c.host.replace(/[^\w.-]/g, '_')}-${c.port}-${c.db ?? 0}`);
}

function stateOf(s: string): JobState {
  if (s === 'active') return 'running';
  if (s === 'completed') return 'done';
  if (s === 'failed') return 'failed';
  return 'queued';
}

export interface BullmqQueueOptions {
  /** BullMQ queue name (default audiotag-serve). */
  name?: string;
  /** How often a died worker's job can be put back before it fails (default 5). */
  maxStalled?: number;
}

export class BullmqJobQueue<P = unknown, R = unknown> implements JobQueue<P, R> {
  private readonly queue: Queue<P, R>;
  private worker: Worker<P, R> | null = null;
  private workerLease = 0;
  private readonly connection: ReturnType<typeof redisConnection>;
  readonly name: string;

  /** `url`: redis://HOST:PORT[/DB]; errors name `flag`. BullmqJobQueue.open checks Redis first. */
  constructor(
    readonly url: string,
    private readonly o: BullmqQueueOptions & { flag?: string } = {},
  ) {
    this.connection = redisConnection(o.flag ?? 'url', url);
    this.name = o.name ?? SERVE_QUEUE;
    this.queue = new Queue<P, R>(this.name, {
      connection: this.connection,
      streams: { events: { maxLen: 1000 } },
    });
    this.queue.on('error', () => {});
  }

  /** A queue on `url` once its Redis server answers (an error naming `o.flag` otherwise). */
  static async open<P, R>(
    url: string,
    o: BullmqQueueOptions & { flag?: string } = {},
  ): Promise<BullmqJobQueue<P, R>> {
    await reachRedis(o.flag ?? 'url', url);
    const q = new BullmqJobQueue<P, R>(url, o);
    await q.queue.waitUntilReady();
    return q;
  }

  async add(payload: P): Promise<{ id: string }> {
    const id = randomUUID();
    // biome-ignore lint/suspicious/noExplicitAny: BullMQ's name type is derived from the data type
    await this.queue.add('job' as any, payload as any, {
      jobId: id,
      attempts: 1,
      removeOnComplete: { age: KEEP_S },
      removeOnFail: { age: KEEP_S },
    });
    return { id };
  }

  /** The manual worker that claims jobs (and checks for stalled ones every leaseMs). */
  private async claimer(leaseMs: number): Promise<Worker<P, R>> {
    if (this.worker && this.workerLease === leaseMs) return this.worker;
    await this.worker?.close();
    const w = new Worker<P, R>(this.name, null, {
      connection: this.connection,
      autorun: false,
      lockDuration: leaseMs,
      stalledInterval: leaseMs,
      maxStalledCount: this.o.maxStalled ?? 5,
    });
    w.on('error', () => {});
    await w.waitUntilReady();
    void w.startStalledCheckTimer();
    this.worker = w;
    this.workerLease = leaseMs;
    return w;
  }

  async claim(worker: string, leaseMs: number): Promise<JobRecord<P, R> | null> {
    const w = await this.claimer(leaseMs);
    const job = await w.getNextJob(worker, { block: false });
    if (!job) return null;
    return this.record(job, 'running', worker);
  }

  private async job(id: string): Promise<Job<P, R> | undefined> {
    return (await this.queue.getJob(id)) as Job<P, R> | undefined;
  }

  async progress(id: string, worker: string, progress: number, leaseMs = 60_000): Promise<boolean> {
    const job = await this.job(id);
    if (!job) return false;
    if ((await job.extendLock(worker, leaseMs)) !== 1) return false;
    await job.updateProgress(Math.min(1, Math.max(0, progress)));
    return true;
  }

  async complete(id: string, worker: string, result: R): Promise<boolean> {
    const job = await this.job(id);
    if (!job) return false;
    try {
      await job.moveToCompleted(result, worker, false);
      return true;
    } catch {
      // Not this worker's lock any more (it expired and the job went back to the queue).
      return false;
    }
  }

  async fail(id: string, worker: string, error: string): Promise<boolean> {
    const job = await this.job(id);
    if (!job) return false;
    try {
      await job.moveToFailed(new Error(error), worker, false);
      return true;
    } catch {
      return false;
    }
  }

  private record(job: Job<P, R>, state: JobState, worker: string | null): JobRecord<P, R> {
    const progress = typeof job.progress === 'number' ? job.progress : 0;
    return {
      id: job.id!,
      state,
      payload: job.data,
      progress: state === 'done' ? 1 : progress,
      result: state === 'done' ? (job.returnvalue ?? null) : null,
      error: state === 'failed' ? (job.failedReason ?? 'failed') : null,
      attempts: job.attemptsStarted ?? job.attemptsMade,
      createdAt: job.timestamp,
      updatedAt: job.finishedOn ?? job.processedOn ?? job.timestamp,
      worker,
      leaseUntil: null,
    };
  }

  async get(id: string): Promise<JobRecord<P, R> | null> {
    let job = await this.job(id);
    if (!job) return null;
    const state = stateOf(await job.getState());
    // The job was read before its state: it may have finished in between, so read it again for the result.
    if (state === 'done' || state === 'failed') job = (await this.job(id)) ?? job;
    return this.record(job, state, state === 'running' ? (job.token ?? null) : null);
  }

  async requeueExpired(): Promise<number> {
    // BullMQ's stalled-job checker (started by the first claim) does this.
    return 0;
  }

  async counts(): Promise<Record<JobState, number>> {
    const c = await this.queue.getJobCounts(
      'waiting',
      'prioritized',
      'delayed',
      'active',
      'completed',
      'failed',
    );
    return {
      queued: (c.waiting ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0),
      running: c.active ?? 0,
      done: c.completed ?? 0,
      failed: c.failed ?? 0,
    };
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
  }
}
