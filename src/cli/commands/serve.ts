// `audiotag serve --model RUN_DIR|model.onnx`: the HTTP tagging service (src/serve, docs/serve.md). Runs
// until SIGINT/SIGTERM; jobs are kept in a SQLite file (--jobs-db) and resumed after a restart.
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import type { JobOutput, JobPayload } from '../../serve/server.js';
import { UsageError } from '../errors.js';
import { numberArg, parseList, requireQueueUrl } from '../flags.js';

const PORT = { int: true, min: 0, max: 65535 };
const POSITIVE = { above: 0 };
const COUNT = { int: true, min: 1 };

interface ServeFlags {
  model: string;
  port: number;
  host: string;
  maxMb: number;
  maxSeconds: number;
  concurrency: number;
  maxWaiting: number;
  timeout: number;
  apiKey?: string;
  cors?: string;
  jobsDb?: string;
  queue?: string;
  jobsDir?: string;
  jobLease: number;
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('serve a model over HTTP: POST /v1/tag, jobs, /v1/models, /healthz, /metrics, /openapi.json')
    .requiredOption('--model <path>', 'run directory written by audiotag train, or an exported model.onnx')
    .option('--port <n>', 'TCP port (0: any free port)', numberArg('--port', PORT), 8080)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--max-mb <n>', 'largest upload in MB (413 above)', numberArg('--max-mb', POSITIVE), 50)
    .option(
      '--max-seconds <s>',
      'longest recording for /v1/tag in seconds (413 above)',
      numberArg('--max-seconds', POSITIVE),
      600,
    )
    .option('--concurrency <n>', 'recordings tagged at once', numberArg('--concurrency', COUNT), 2)
    .option(
      '--max-waiting <n>',
      'requests waiting for a slot before 429',
      numberArg('--max-waiting', { int: true, min: 0 }),
      16,
    )
    .option(
      '--timeout <s>',
      'per-request time limit in seconds (503 after it)',
      numberArg('--timeout', POSITIVE),
      60,
    )
    .option('--api-key <key>', 'require this key on /v1 routes (or set AUDIOTAG_API_KEY)')
    .option('--cors <origins>', 'comma-separated origins allowed by CORS (default: CORS off)')
    .option('--jobs-db <file>', 'SQLite file of the job queue (default: no /v1/jobs)')
    .option(
      '--queue <url>',
      'keep the job queue in Redis instead (redis://HOST:PORT[/DB], BullMQ; docs/distributed.md)',
    )
    .option(
      '--jobs-dir <dir>',
      'with --queue: where uploads wait for their job (workers elsewhere need it at the same path)',
    )
    .option(
      '--job-lease <s>',
      'seconds a job worker holds a job without a heartbeat before it is re-queued',
      numberArg('--job-lease', { min: 0.5 }),
      30,
    )
    .action(async (flags: ServeFlags) => {
      if (!existsSync(flags.model)) throw new UsageError(`--model: ${flags.model} does not exist`);
      const apiKey = flags.apiKey ?? process.env.AUDIOTAG_API_KEY;
      if (apiKey !== undefined && apiKey.length < 8)
        throw new UsageError('--api-key must be at least 8 characters');
      const cors = parseList('--cors', flags.cors);
      if (flags.queue !== undefined && flags.jobsDb !== undefined)
        throw new UsageError('--queue and --jobs-db both name a job queue; give one');
      if (flags.jobsDir !== undefined && flags.queue === undefined)
        throw new UsageError('--jobs-dir goes with --queue (with --jobs-db uploads wait beside the file)');
      const { Tagger } = await import('../../infer/tagger.js');
      const { createServer, startWorker } = await import('../../serve/server.js');
      const tagger = await Tagger.load(flags.model);
      let queue: import('../../serve/queue.js').JobQueue<JobPayload, JobOutput> | undefined;
      let worker: { stop: () => Promise<void> } | undefined;
      let jobDir: string | undefined;
      if (flags.jobsDb) {
        const { SqliteJobQueue } = await import('../../serve/sqlite-queue.js');
        queue = new SqliteJobQueue<JobPayload, JobOutput>(flags.jobsDb);
        jobDir = `${flags.jobsDb}.files`;
      } else if (flags.queue !== undefined) {
        const { BullmqJobQueue, serveJobDir } = await import('../../distributed/bullmq-queue.js');
        await requireQueueUrl('--queue', flags.queue);
        const q = await BullmqJobQueue.open<JobPayload, JobOutput>(flags.queue, { flag: '--queue' });
        queue = q;
        jobDir = flags.jobsDir ?? serveJobDir(flags.queue);
      }
      const app = await createServer(tagger, {
        maxBytes: Math.round(flags.maxMb * 1024 * 1024),
        maxSeconds: flags.maxSeconds,
        concurrency: flags.concurrency,
        maxWaiting: flags.maxWaiting,
        timeoutMs: flags.timeout * 1000,
        apiKey,
        corsOrigins: cors,
        queue,
        modelPath: flags.model,
        jobDir,
      });
      if (queue) worker = startWorker(tagger, queue, { leaseMs: flags.jobLease * 1000 });
      const address = await app.listen({ port: flags.port, host: flags.host });
      process.stderr.write(`audiotag serve: listening on ${address}\n`);
      await new Promise<void>((res) => {
        const stop = () => res();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await app.close();
      await worker?.stop();
      await queue?.close();
      await tagger.dispose();
    });
}
