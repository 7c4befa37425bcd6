// `audiotag worker --queue redis://…` (docs/distributed.md): one process serving every BullMQ queue of the
// project: predict's files and chunks, features' clips, and — given the served model — the jobs of
// `audiotag serve --queue` (on the same JobQueue the server's own job worker uses).
import { hostname } from 'node:os';
import { startFeatureWorker } from './bullmq-features.js';
import { reachRedis, startPredictWorker, type WorkerOptions } from './bullmq-predict.js';

export interface RunWorkerOptions extends WorkerOptions {
  /** Also run `serve --queue` jobs with this model (the one the server serves). */
  serveModel?: string;
  /** Seconds a serve job is held without a heartbeat before it is re-queued (serve's --job-lease). */
  serveLeaseS?: number;
}

/** Runs the workers until `signal` aborts. */
export async function runWorker(o: RunWorkerOptions, signal: AbortSignal): Promise<void> {
  const concurrency = o.concurrency ?? 1;
  const lockMs = o.lockMs ?? 30_000;
  const closers: (() => Promise<void>)[] = [];
  await reachRedis('--queue', o.url);
  try {
    closers.push((await startPredictWorker(o)).close);
    closers.push(startFeatureWorker({ url: o.url, concurrency, lockMs, onMessage: o.onMessage }).close);
    if (o.serveModel !== undefined) {
      const { Tagger } = await import('../infer/tagger.js');
      const { startWorker } = await import('../serve/server.js');
      const { BullmqJobQueue } = await import('./bullmq-queue.js');
      const tagger = await Tagger.load(o.serveModel);
      // biome-ignore lint/suspicious/noExplicitAny: the payload and result types are the server's
      const queue = await BullmqJobQueue.open<any, any>(o.url, { flag: '--queue' });
      const w = startWorker(tagger, queue, {
        leaseMs: (o.serveLeaseS ?? 30) * 1000,
        onJob: (id) => o.onMessage?.(`serve job ${id}`),
      });
      closers.push(async () => {
        await w.stop();
        await queue.close();
        await tagger.dispose();
      });
    }
    o.onMessage?.(
      `worker ${hostname()}:${process.pid} on ${o.url} (concurrency ${concurrency}; predict, features${o.serveModel ? ', serve' : ''})`,
    );
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    for (const c of closers.reverse()) await c();
  }
}
