// `audiotag worker --queue redis://HOST:PORT`: runs the jobs that `predict --queue`, `features --queue` and
// `dataset prepare --queue` (and, with --model, `serve --queue`) put on BullMQ queues, until SIGINT/SIGTERM
// (docs/distributed.md). Run it on any machine that has the models and the audio under the same paths.
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { parseNumber, requireQueueUrl } from '../flags.js';

interface WorkerFlags {
  queue: string;
  concurrency?: string;
  lockMs?: string;
  model?: string;
  jobLease?: string;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command('worker')
    .description(
      'run the jobs of `predict/features/dataset prepare --queue` (and `serve --queue`) from Redis (until stopped)',
    )
    .requiredOption('--queue <url>', 'the Redis server: redis://HOST:PORT')
    .option('--concurrency <n>', 'jobs (files) at once (default 1)')
    .option(
      '--lock-ms <ms>',
      "a job's lock; a killed worker's job is retried after about this long (default 30000)",
    )
    .option('--model <path>', 'also run `serve --queue` jobs with this model (the one the server serves)')
    .option('--job-lease <s>', 'with --model: as serve --job-lease (default 30)')
    .option('--quiet', 'no messages')
    .action(async (flags: WorkerFlags) => {
      const concurrency =
        flags.concurrency === undefined
          ? 1
          : parseNumber('--concurrency', flags.concurrency, { int: true, min: 1 });
      const lockMs =
        flags.lockMs === undefined
          ? 30_000
          : parseNumber('--lock-ms', flags.lockMs, { int: true, min: 1000 });
      const jobLease =
        flags.jobLease === undefined ? 30 : parseNumber('--job-lease', flags.jobLease, { min: 0.5 });
      if (flags.jobLease !== undefined && flags.model === undefined)
        throw new UsageError('--job-lease goes with --model (it is the lease of serve jobs)');
      if (flags.model !== undefined && !existsSync(flags.model))
        throw new UsageError(`--model: ${flags.model} does not exist`);
      await requireQueueUrl('--queue', flags.queue);
      const { runWorker } = await import('../../distributed/bullmq-worker.js');
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      await runWorker(
        {
          url: flags.queue,
          concurrency,
          lockMs,
          serveModel: flags.model,
          serveLeaseS: jobLease,
          onMessage: (s) => {
            if (!flags.quiet) process.stderr.write(`audiotag: ${s}\n`);
          },
        },
        stop.signal,
      );
    });
}
