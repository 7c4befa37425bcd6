// The HTTP tagging service (Fastify): POST /v1/tag, jobs on a JobQueue, /v1/models, /healthz, /metrics,
// /openapi.json. Uploads are written to a temporary file the server names itself (never a path from the
// request), checked for size (413) and duration (413), tagged under a concurrency limit (429 when the wait
// queue is full) and a per-request timeout (503). See docs/serve.md.
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import multipart from '@fastify/multipart';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { writeWav } from '../audio/index.js';
import { audioInfo } from '../audio/io.js';
import { logger } from '../core/log.js';
import { AUDIO_EXTENSIONS } from '../data/index.js';
import type { Tagger, TagResult } from '../infer/tagger.js';
import { Metrics } from './metrics.js';
import { openApiDocument } from './openapi.js';
import type { JobQueue } from './queue.js';
import { modelLinks, registerWebApp } from './web-app.js';

export interface ServeOptions {
  /** Largest upload in bytes (default 50 MB). */
  maxBytes?: number;
  /** Longest recording in seconds for /v1/tag (default 600); jobs allow maxJobSeconds. */
  maxSeconds?: number;
  maxJobSeconds?: number;
  /** Requests tagged at once (default 2) and waiting beyond that (default 16) before 429. */
  concurrency?: number;
  maxWaiting?: number;
  /** Per-request time limit in ms (default 60 000): 503 after it. */
  timeoutMs?: number;
  /** When set, every /v1 request needs `Authorization: Bearer KEY` or `x-api-key: KEY` (401 otherwise). */
  apiKey?: string;
  /** Origins allowed by CORS (default none: CORS off). */
  corsOrigins?: string[];
  /** Job store; without one the /v1/jobs routes answer 404. */
  queue?: JobQueue<JobPayload, JobOutput>;
  /** Where job uploads are kept until their job ends (default a temporary folder). */
  jobDir?: string;
  /** Label of the model in /v1/models. */
  modelName?: string;
  /** The --model argument (run directory or .onnx): the web app's model page and ONNX export use it. */
  modelPath?: string;
  /** The built web app served at `/` (default web/dist of the package; the basic page when missing). */
  webDir?: string;
}

export interface JobPayload {
  file: string;
  name: string;
  topK: number;
  threshold: number;
}
export type JobOutput = ReturnType<typeof tagJson>;

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** A tag result as JSON: clip scores, top-k, per-window scores (when more than one window) and events. */
export function tagJson(r: TagResult, topK: number) {
  const clip = Object.fromEntries(r.classes.map((c, i) => [c, r.clip[i]!]));
  const top = r.classes
    .map((label, i) => ({ label, score: r.clip[i]! }))
    .sort((a, b) => b.score - a.score)
    .slice(0, topK);
  return {
    duration: r.duration,
    classes: r.classes,
    clip,
    top,
    windows:
      r.windows.length > 1
        ? r.windows.map((w) => ({ start: w.start, end: w.end, scores: Array.from(w.scores) }))
        : [],
    events: r.events,
  };
}

/** At most `limit` tasks at once, at most `waiting` more in line; beyond that a 429. */
class Limiter {
  active = 0;
  private readonly line: (() => void)[] = [];
  constructor(
    readonly limit: number,
    readonly waiting: number,
  ) {}
  get queued(): number {
    return this.line.length;
  }
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) {
      if (this.line.length >= this.waiting)
        throw new HttpError(
          429,
          `server busy: ${this.active} requests running and ${this.line.length} waiting; retry later`,
        );
      await new Promise<void>((res) => this.line.push(res));
    } else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.line.shift();
      if (next) next();
      else this.active--;
    }
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const timer = new Promise<never>((_, rej) => {
    t = setTimeout(
      () =>
        rej(new HttpError(503, `request took longer than the ${ms} ms limit; try a shorter clip or a job`)),
      ms,
    );
  });
  return Promise.race([p, timer]).finally(() => clearTimeout(t));
}

const TAG_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    topK: { type: 'integer', minimum: 1, maximum: 1000, default: 5 },
    threshold: { type: 'number', minimum: 0, maximum: 1, default: 0.5 },
    rate: { type: 'integer', minimum: 1000, maximum: 384000 },
    encoding: { type: 'string', enum: ['f32le', 's16le'], default: 'f32le' },
  },
} as const;

interface TagQuery {
  topK: number;
  threshold: number;
  rate?: number;
  encoding: 'f32le' | 's16le';
}

export async function createServer(tagger: Tagger, o: ServeOptions = {}): Promise<FastifyInstance> {
  const maxBytes = o.maxBytes ?? 50 * 1024 * 1024;
  const maxSeconds = o.maxSeconds ?? 600;
  const maxJobSeconds = o.maxJobSeconds ?? 4 * 3600;
  const timeoutMs = o.timeoutMs ?? 60_000;
  const limiter = new Limiter(o.concurrency ?? 2, o.maxWaiting ?? 16);
  const metrics = new Metrics();
  const scratch = mkdtempSync(join(tmpdir(), 'audiotag-serve-'));
  const jobDir = o.jobDir ?? join(scratch, 'jobs');
  mkdirSync(jobDir, { recursive: true });
  const app = Fastify({
    logger: false,
    bodyLimit: maxBytes,
    // Unknown query fields are refused (400), not silently dropped.
    ajv: { customOptions: { removeAdditional: false } },
  });
  await app.register(multipart, { limits: { fileSize: maxBytes, files: 1, fields: 10 } });
  if (o.corsOrigins && o.corsOrigins.length > 0) {
    const cors = (await import('@fastify/cors')).default;
    await app.register(cors, { origin: o.corsOrigins });
  }
  app.addContentTypeParser(
    'application/octet-stream',
    { parseAs: 'buffer', bodyLimit: maxBytes },
    (_req, body, done) => done(null, body),
  );

  app.addHook('onRequest', async (req: FastifyRequest) => {
    (req as FastifyRequest & { t0?: bigint }).t0 = process.hrtime.bigint();
    if (o.apiKey && req.url.startsWith('/v1/')) {
      const auth = req.headers.authorization;
      const given =
        (typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : undefined) ??
        (req.headers['x-api-key'] as string | undefined);
      const a = Buffer.from(given ?? '');
      const b = Buffer.from(o.apiKey);
      if (a.length !== b.length || !timingSafeEqual(a, b))
        throw new HttpError(
          401,
          'missing or wrong API key: send "Authorization: Bearer KEY" or "x-api-key: KEY"',
        );
    }
  });
  app.addHook('onResponse', async (req: FastifyRequest, reply: FastifyReply) => {
    const t0 = (req as FastifyRequest & { t0?: bigint }).t0;
    const s = t0 ? Number(process.hrtime.bigint() - t0) / 1e9 : 0;
    metrics.request(req.routeOptions.url ?? 'unknown', reply.statusCode, s);
  });
  app.setErrorHandler(
    (err: Error & { statusCode?: number; code?: string; validation?: unknown }, _req, reply) => {
      let status = err instanceof HttpError ? err.statusCode : (err.statusCode ?? 500);
      let message = err.message;
      if (!(err instanceof HttpError) && status === 413) {
        status = 413;
        message = `upload too large: the limit is ${maxBytes} bytes (${(maxBytes / 1048576).toFixed(1)} MB); send a shorter clip or use POST /v1/jobs`;
      }
      if (status >= 500 && status !== 503) logger().warn(`serve: ${err.stack ?? err.message}`);
      reply.code(status).send({ error: message, statusCode: status });
    },
  );

  /** The request's audio in a server-named temporary file (multipart upload or raw PCM). */
  async function receive(
    req: FastifyRequest,
    q: TagQuery,
    dir: string,
  ): Promise<{ path: string; name: string }> {
    if (req.isMultipart()) {
      const part = await req.file();
      if (!part)
        throw new HttpError(400, 'multipart body without a file part: send the audio as the "file" field');
      if (part.fieldname !== 'file')
        throw new HttpError(
          400,
          `multipart field "${part.fieldname}": expected the audio in a field named "file"`,
        );
      const buf = await part.toBuffer();
      const ext = extname(part.filename ?? '').toLowerCase();
      if (!AUDIO_EXTENSIONS.includes(ext))
        throw new HttpError(
          400,
          `file "${part.filename}": expected one of the audio extensions ${AUDIO_EXTENSIONS.join(', ')}`,
        );
      const path = join(dir, `${randomUUID()}${ext}`);
      writeFileSync(path, buf);
      return { path, name: part.filename ?? 'upload' };
    }
    const body = req.body;
    if (!Buffer.isBuffer(body))
      throw new HttpError(
        400,
        'expected a multipart upload (field "file") or raw PCM (Content-Type: application/octet-stream, ?rate=HZ)',
      );
    if (q.rate === undefined)
      throw new HttpError(400, 'raw PCM needs its sample rate: add ?rate=HZ (e.g. 16000)');
    const width = q.encoding === 's16le' ? 2 : 4;
    if (body.length === 0 || body.length % width !== 0)
      throw new HttpError(
        400,
        `raw ${q.encoding} PCM: expected a non-empty multiple of ${width} bytes, got ${body.length}`,
      );
    const n = body.length / width;
    const samples = new Float32Array(n);
    for (let i = 0; i < n; i++)
      samples[i] = width === 2 ? body.readInt16LE(i * 2) / 32768 : body.readFloatLE(i * 4);
    const path = join(dir, `${randomUUID()}.wav`);
    await writeWav(path, { sampleRate: q.rate, channels: [samples] });
    return { path, name: 'pcm' };
  }

  async function checkDuration(path: string, name: string, limit: number): Promise<number> {
    let d: number;
    try {
      d = (await audioInfo(path)).duration;
    } catch (e) {
      throw new HttpError(400, `${name}: not a readable audio file (${(e as Error).message})`);
    }
    if (d > limit)
      throw new HttpError(
        413,
        `${name}: ${d.toFixed(2)} s of audio, over the ${limit} s limit; use POST /v1/jobs for long files`,
      );
    return d;
  }

  async function tagFile(path: string, name: string, topK: number, threshold: number) {
    const t0 = process.hrtime.bigint();
    let r: TagResult;
    try {
      r = await tagger.tag(path, { id: name, threshold });
    } catch (e) {
      throw new HttpError(400, `${name}: could not be tagged (${(e as Error).message})`);
    }
    metrics.inference(Number(process.hrtime.bigint() - t0) / 1e9);
    return tagJson(r, topK);
  }

  registerWebApp(app, tagger, { webDir: o.webDir, modelPath: o.modelPath, modelName: o.modelName });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/openapi.json', async () => openApiDocument());
  app.get('/metrics', async (_req, reply) => {
    const jobs = o.queue ? await o.queue.counts() : null;
    reply.type('text/plain; version=0.0.4');
    return metrics.text({ active: limiter.active, waiting: limiter.queued, jobs });
  });
  app.get('/v1/models', async () => ({
    models: [
      {
        ...modelLinks(tagger, { modelPath: o.modelPath, modelName: o.modelName }),
        name: o.modelName ?? tagger.models[0]!.label,
        classes: tagger.classes,
        sampleRate: tagger.plan.sampleRate,
        windowSeconds: tagger.plan.length / tagger.plan.sampleRate,
        hopSeconds: tagger.plan.hop / tagger.plan.sampleRate,
        members: tagger.models.map((m) => ({ label: m.label, sed: m.sed })),
      },
    ],
  }));

  app.post('/v1/tag', { schema: { querystring: TAG_QUERY } }, async (req) => {
    const q = req.query as TagQuery;
    const dir = mkdtempSync(join(scratch, 'req-'));
    try {
      const { path, name } = await receive(req, q, dir);
      await checkDuration(path, name, maxSeconds);
      // The time limit covers the wait for a slot too; a timed-out recording keeps its slot until its
      // scoring ends, so timeouts cannot pile up more work than --concurrency.
      return await withTimeout(
        limiter.run(() => tagFile(path, name, q.topK, q.threshold)),
        timeoutMs,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  if (o.queue) {
    const queue = o.queue;
    app.post('/v1/jobs', { schema: { querystring: TAG_QUERY } }, async (req, reply) => {
      const q = req.query as TagQuery;
      const { path, name } = await receive(req, q, jobDir);
      try {
        await checkDuration(path, name, maxJobSeconds);
      } catch (e) {
        rmSync(path, { force: true });
        throw e;
      }
      const { id } = await queue.add({ file: path, name, topK: q.topK, threshold: q.threshold });
      reply.code(202);
      return { id, state: 'queued' };
    });
    app.get(
      '/v1/jobs/:id',
      {
        schema: {
          params: {
            type: 'object',
            properties: { id: { type: 'string', pattern: '^[0-9a-f-]{36}$' } },
            required: ['id'],
          },
        },
      },
      async (req) => {
        const { id } = req.params as { id: string };
        const j = await queue.get(id);
        if (!j) throw new HttpError(404, `no job with id ${id}`);
        return {
          id: j.id,
          state: j.state,
          progress: j.progress,
          attempts: j.attempts,
          result: j.result,
          error: j.error,
        };
      },
    );
  }
  app.addHook('onClose', async () => {
    rmSync(scratch, { recursive: true, force: true });
  });
  return app;
}

/** Runs queued jobs one at a time until stop() is called; a crashed worker's jobs come back after their lease. */
export function startWorker(
  tagger: Tagger,
  queue: JobQueue<JobPayload, JobOutput>,
  o: { leaseMs?: number; pollMs?: number; onJob?: (id: string) => void } = {},
): { stop: () => Promise<void> } {
  const worker = `${process.pid}-${randomUUID().slice(0, 8)}`;
  const leaseMs = o.leaseMs ?? 30_000;
  let stopped = false;
  const loop = (async () => {
    let lastSweep = 0;
    while (!stopped) {
      if (Date.now() - lastSweep > Math.min(leaseMs, 5000)) {
        await queue.requeueExpired();
        lastSweep = Date.now();
      }
      const job = await queue.claim(worker, leaseMs);
      if (!job) {
        await new Promise((r) => setTimeout(r, o.pollMs ?? 200));
        continue;
      }
      o.onJob?.(job.id);
      const p = job.payload;
      const beat = setInterval(() => void queue.progress(job.id, worker, 0.5, leaseMs), leaseMs / 3);
      try {
        await queue.progress(job.id, worker, 0.1, leaseMs);
        const r = await tagger.tag(p.file, { id: p.name, threshold: p.threshold });
        // The upload goes only with the result: a worker that lost its lease (the job is another's now)
        // must leave the file to the new holder.
        if (await queue.complete(job.id, worker, tagJson(r, p.topK))) rmSync(p.file, { force: true });
      } catch (e) {
        if (await queue.fail(job.id, worker, `${p.name}: ${(e as Error).message}`))
          rmSync(p.file, { force: true });
      } finally {
        clearInterval(beat);
      }
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}
