// The HTTP service in-process on 127.0.0.1:0 with a tiny FSDD run: a real clip tagged over HTTP gives the
// same scores as Tagger.tag, raw PCM too; 400 for bad fields, 401 without the key, 413 for big or long
// uploads, 429 when the slots and the waiting line are full, and the metrics and OpenAPI routes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { loadAudio } from '../../src/audio/index.js';
import { Tagger } from '../../src/infer/tagger.js';
import { createServer, startWorker } from '../../src/serve/server.js';
import { SqliteJobQueue } from '../../src/serve/sqlite-queue.js';
import { FSDD_AUDIO, tempDir, tinyRun } from '../infer/helpers.js';

const dir = tempDir('audiotag-serve-');
const clip = join(FSDD_AUDIO, '2_theo_0.wav');
let tagger: Tagger;
const apps: FastifyInstance[] = [];

async function start(o: Parameters<typeof createServer>[1] = {}, t: Tagger = tagger): Promise<string> {
  const app = await createServer(t, o);
  apps.push(app);
  return app.listen({ port: 0, host: '127.0.0.1' });
}

function upload(path: string, name = 'clip.wav', field = 'file'): FormData {
  const f = new FormData();
  f.append(field, new Blob([readFileSync(path)]), name);
  return f;
}

before(async () => {
  const run = await tinyRun(dir, 'run', 3);
  tagger = await Tagger.load(run);
});
after(async () => {
  for (const a of apps) await a.close();
  await tagger.dispose();
});

describe('serve', { timeout: 120_000 }, () => {
  test('a real FSDD clip: the same scores as Tagger.tag, top-k sorted', async () => {
    const url = await start();
    const res = await fetch(`${url}/v1/tag?topK=2`, { method: 'POST', body: upload(clip) });
    assert.equal(res.status, 200);
    const body = (await res.json()) as {
      classes: string[];
      clip: Record<string, number>;
      top: { label: string; score: number }[];
      duration: number;
    };
    const want = await tagger.tag(clip);
    assert.deepEqual(body.classes, ['0', '1', '2']);
    for (const [i, c] of want.classes.entries()) assert.ok(Math.abs(body.clip[c]! - want.clip[i]!) < 1e-6, c);
    assert.equal(body.top.length, 2);
    const best = want.classes[want.clip.indexOf(Math.max(...want.clip))];
    assert.equal(body.top[0]!.label, best);
    assert.ok(body.top[0]!.score >= body.top[1]!.score);
    assert.ok(Math.abs(body.duration - want.duration) < 1e-3);

    // The same samples as raw little-endian float32 PCM.
    const a = await loadAudio(clip);
    const pcm = Buffer.from(a.channels[0]!.buffer, a.channels[0]!.byteOffset, a.channels[0]!.byteLength);
    const raw = await fetch(`${url}/v1/tag?rate=${a.sampleRate}`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: new Uint8Array(pcm),
    });
    assert.equal(raw.status, 200);
    const rb = (await raw.json()) as { clip: Record<string, number> };
    for (const c of want.classes) assert.ok(Math.abs(rb.clip[c]! - body.clip[c]!) < 1e-4, `pcm ${c}`);

    const models = (await (await fetch(`${url}/v1/models`)).json()) as { models: { classes: string[] }[] };
    assert.deepEqual(models.models[0]!.classes, ['0', '1', '2']);
    const doc = (await (await fetch(`${url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    assert.ok(doc.paths['/v1/tag'] && doc.paths['/v1/jobs/{id}']);
    const m = await (await fetch(`${url}/metrics`)).text();
    assert.match(m, /audiotag_http_requests_total\{route="\/v1\/tag",status="200"\} 2/);
    assert.match(m, /audiotag_inference_seconds_count 2/);
    assert.match(m, /audiotag_queue_depth 0/);
  });

  test('400 for bad fields, bad audio and missing rate, naming the problem', async () => {
    const url = await start();
    const cases: [string, RequestInit, RegExp][] = [
      ['topK=0', { method: 'POST', body: upload(clip) }, /topK must be >= 1/],
      [
        'topK=2&path=/etc/passwd',
        { method: 'POST', body: upload(clip) },
        /must NOT have additional properties/,
      ],
      ['', { method: 'POST', body: upload(clip, 'clip.wav', 'audio') }, /field named "file"/],
      ['', { method: 'POST', body: upload(clip, 'notes.txt') }, /notes\.txt.*audio extensions/],
      [
        '',
        { method: 'POST', body: upload(join(FSDD_AUDIO, '..', 'meta.csv'), 'x.wav') },
        /x\.wav: not a readable audio file/,
      ],
      [
        '',
        { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.alloc(64) },
        /rate=HZ/,
      ],
    ];
    for (const [q, init, re] of cases) {
      const r = await fetch(`${url}/v1/tag?${q}`, init);
      const b = (await r.json()) as { error: string };
      assert.equal(r.status, 400, `${q} ${b.error}`);
      assert.match(b.error, re);
    }
  });

  test('401 without the API key, 200 with it', async () => {
    const url = await start({ apiKey: 'secret-key-123' });
    const no = await fetch(`${url}/v1/tag`, { method: 'POST', body: upload(clip) });
    assert.equal(no.status, 401);
    assert.match(((await no.json()) as { error: string }).error, /API key/);
    const wrong = await fetch(`${url}/v1/models`, { headers: { 'x-api-key': 'secret-key-124' } });
    assert.equal(wrong.status, 401);
    const ok = await fetch(`${url}/v1/tag`, {
      method: 'POST',
      body: upload(clip),
      headers: { authorization: 'Bearer secret-key-123' },
    });
    assert.equal(ok.status, 200);
    assert.equal((await fetch(`${url}/healthz`)).status, 200, 'health needs no key');
  });

  test('413 for an upload over the size limit and for audio over the duration limit', async () => {
    const url = await start({ maxBytes: 1000 });
    const big = await fetch(`${url}/v1/tag`, { method: 'POST', body: upload(clip) });
    assert.equal(big.status, 413);
    assert.match(
      ((await big.json()) as { error: string }).error,
      /upload too large: the limit is 1000 bytes/,
    );
    const url2 = await start({ maxSeconds: 0.1 });
    const long = await fetch(`${url2}/v1/tag`, { method: 'POST', body: upload(clip) });
    assert.equal(long.status, 413);
    assert.match(((await long.json()) as { error: string }).error, /s of audio, over the 0\.1 s limit/);
  });

  test('429 when the slot and the waiting line are taken; 503 past the time limit', async () => {
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const slow = Object.create(tagger) as Tagger;
    slow.tag = async (...a: Parameters<Tagger['tag']>) => {
      await gate;
      return tagger.tag(...a);
    };
    const url = await start({ concurrency: 1, maxWaiting: 1 }, slow);
    const first = fetch(`${url}/v1/tag`, { method: 'POST', body: upload(clip) });
    const second = fetch(`${url}/v1/tag`, { method: 'POST', body: upload(clip) });
    // Wait until both hold the slot and the line.
    for (let i = 0; i < 100; i++) {
      const m = await (await fetch(`${url}/metrics`)).text();
      if (/audiotag_queue_depth 1/.test(m)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const third = await fetch(`${url}/v1/tag`, { method: 'POST', body: upload(clip) });
    assert.equal(third.status, 429);
    assert.match(((await third.json()) as { error: string }).error, /server busy/);
    release();
    assert.equal((await first).status, 200);
    assert.equal((await second).status, 200);

    const stuck = Object.create(tagger) as Tagger;
    stuck.tag = () => new Promise(() => {});
    const url2 = await start({ timeoutMs: 300 }, stuck);
    const t = await fetch(`${url2}/v1/tag`, { method: 'POST', body: upload(clip) });
    assert.equal(t.status, 503);
    assert.match(((await t.json()) as { error: string }).error, /300 ms limit/);
  });

  test('jobs: queued over HTTP, run by the worker, result equal to /v1/tag; 404 and 400 for bad ids', async () => {
    const queue = new SqliteJobQueue<never, never>(join(dir, 'jobs.db'));
    const url = await start({ queue, jobDir: join(dir, 'job-files') });
    const worker = startWorker(tagger, queue, { pollMs: 20 });
    try {
      const r = await fetch(`${url}/v1/jobs?topK=3`, { method: 'POST', body: upload(clip) });
      assert.equal(r.status, 202);
      const { id } = (await r.json()) as { id: string };
      let job: { state: string; progress: number; result: { clip: Record<string, number> } | null } = {
        state: '',
        progress: 0,
        result: null,
      };
      for (let i = 0; i < 200 && job.state !== 'done'; i++) {
        job = (await (await fetch(`${url}/v1/jobs/${id}`)).json()) as typeof job;
        if (job.state !== 'done') await new Promise((res) => setTimeout(res, 50));
      }
      assert.equal(job.state, 'done');
      assert.equal(job.progress, 1);
      const want = await tagger.tag(clip);
      for (const [i, c] of want.classes.entries())
        assert.ok(Math.abs(job.result!.clip[c]! - want.clip[i]!) < 1e-6);
      const missing = await fetch(`${url}/v1/jobs/00000000-0000-0000-0000-000000000000`);
      assert.equal(missing.status, 404);
      assert.match(((await missing.json()) as { error: string }).error, /no job with id/);
      assert.equal((await fetch(`${url}/v1/jobs/..%2F..%2Fetc`)).status, 400);
    } finally {
      await worker.stop();
      await queue.close();
    }
  });
});
