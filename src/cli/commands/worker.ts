// `audiotag worker --queue redis://HOST:PORT`: scores the files that `predict --queue` puts on the BullMQ
// queue, until SIGINT/SIGTERM (docs/distributed.md). Run it on any machine that has the models and the
// audio under the same paths.
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { parseNumber } from '../flags.js';

interface WorkerFlags {
  queue: string;
  concurrency?: string;
  lockMs?: string;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command('worker')
    .description('score files for `predict --queue` from a BullMQ queue on Redis (until stopped)')
    .requiredOption('--queue <url>', 'the Redis server: redis://HOST:PORT')
    .option('--concurrency <n>', 'jobs (files) at once (default 1)')
    .option(
      '--lock-ms <ms>',
      "a job's lock; a killed worker's job is retried after about this long (default 30000)",
    )
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
      const { redisConnection, runPredictWorker } = await import('../../distributed/bullmq-predict.js');
      try {
        redisConnection('--queue', flags.queue);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      await runPredictWorker(
        {
          url: flags.queue,
          concurrency,
          lockMs,
          onMessage: (s) => {
            if (!flags.quiet) process.stderr.write(`audiotag: ${s}\n`);
          },
        },
        stop.signal,
      );
    });
}
