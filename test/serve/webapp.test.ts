// The web app (web/, built by Vite into web/dist) served by `audiotag serve`, in headless Chromium
// (/usr/bin/chromium through playwright-core), on a tiny FSDD run: a real clip picked on the tag page
// shows the tagger's top tag and draws its waveform and spectrogram; a longer recording gets the timeline
// of detections, and clicking it seeks the player; the model page lists the classes and shows the
// training report's confusion matrix; the live page mounts; the static build works without the API. The
// routes behind the pages answer as documented. Screenshots go to /tmp/audiotag-web-shots/.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { extname, join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { type Browser, chromium, type Page } from 'playwright-core';
import { loadAudio, writeWav } from '../../src/audio/index.js';
import { concatFloat32 } from '../../src/core/ndarray.js';
import { readExportMeta } from '../../src/export/onnx-runtime.js';
import { Tagger } from '../../src/infer/tagger.js';
import { createServer, type JobOutput, type JobPayload, startWorker } from '../../src/serve/server.js';
import { SqliteJobQueue } from '../../src/serve/sqlite-queue.js';
import { FSDD_AUDIO, tempDir, tinyRun } from '../infer/helpers.js';
import { ensureWebBuild } from './web-build.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = '/tmp/audiotag-web-shots';
const skip = !existsSync(CHROMIUM) && `${CHROMIUM} is not installed`;
const dir = tempDir('audiotag-webapp-');
let run = '';
let tagger: Tagger;
let app: FastifyInstance;
let url = '';
let browser: Browser;
let webDist = '';

before(async () => {
  webDist = await ensureWebBuild();
  run = await tinyRun(dir, 'run', 7);
  tagger = await Tagger.load(run);
  app = await createServer(tagger, { modelPath: run, webDir: webDist });
  url = await app.listen({ port: 0, host: '127.0.0.1' });
  mkdirSync(SHOTS, { recursive: true });
  if (!skip)
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required'],
    });
});
after(async () => {
  await browser?.close();
  await app?.close();
  await tagger?.dispose();
});

async function newPage(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (e) => {
    throw e;
  });
  return page;
}

/** Pixels of a canvas that differ from its first pixel, and its distinct colours (capped scan). */
function canvasInk(page: Page, selector: string): Promise<{ ink: number; colours: number; total: number }> {
  return page
    .locator(selector)
    .first()
    .evaluate((c: HTMLCanvasElement) => {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      const colours = new Set<number>();
      let ink = 0;
      for (let i = 0; i < d.length; i += 4) {
        if (d[i] !== d[0] || d[i + 1] !== d[1] || d[i + 2] !== d[2]) ink++;
        if (colours.size < 5000) colours.add((d[i]! << 16) | (d[i + 1]! << 8) | d[i + 2]!);
      }
      return { ink, colours: colours.size, total: d.length / 4 };
    });
}

/** A clip of digit 0–2 the tiny model gets right, if any (else the first), and the tagger's top tag. */
async function pickClip(): Promise<{ clip: string; top: string; truth: string }> {
  let first: { clip: string; top: string; truth: string } | undefined;
  for (const name of ['0_george_5.wav', '1_george_5.wav', '2_george_5.wav', '0_theo_5.wav', '1_theo_5.wav']) {
    const clip = join(FSDD_AUDIO, name);
    const r = await tagger.tag(clip);
    const top = r.classes[r.clip.indexOf(Math.max(...r.clip))]!;
    const c = { clip, top, truth: name[0]! };
    first ??= c;
    if (top === c.truth) return c;
  }
  return first!;
}

/** Nine FSDD clips (digits 0, 1, 2 of george) with 0.3 s of silence between: about 7.3 s at 8 kHz. */
async function longRecording(): Promise<{ file: string; seconds: number }> {
  const file = join(dir, 'george-digits.wav');
  const parts: Float32Array[] = [];
  for (const d of [0, 1, 2, 0, 1, 2, 0, 1, 2]) {
    const a = await loadAudio(join(FSDD_AUDIO, `${d}_george_${[1, 2, 3][parts.length % 3]}.wav`));
    parts.push(a.channels[0]!, new Float32Array(2400));
  }
  const long = concatFloat32(parts);
  if (!existsSync(file)) await writeWav(file, { sampleRate: 8000, channels: [long] });
  return { file, seconds: long.length / 8000 };
}

test('tag page: a real FSDD clip shows the top tag, its waveform and spectrogram', {
  skip,
  timeout: 60_000,
}, async () => {
  const { clip, top } = await pickClip();
  const page = await newPage();
  await page.goto(url);
  await page.getByText(/Model run\/fold0: 3 classes \(0, 1, 2\)/).waitFor({ timeout: 20_000 });
  await page.getByLabel('Choose audio files').setInputFiles(clip);
  const first = page.locator('#results table.tags th.tag').first();
  await first.waitFor({ timeout: 20_000 });
  assert.equal(await first.textContent(), top);
  const score = Number(await page.locator('#results td.score').first().textContent());
  const want = await tagger.tag(clip);
  assert.ok(Math.abs(score - Math.max(...want.clip)) < 1e-3, `score ${score}`);
  await page.locator('article.clip[aria-busy="false"]').waitFor({ timeout: 20_000 });
  const wave = await canvasInk(page, 'canvas.waveform');
  const spec = await canvasInk(page, 'canvas.spectrogram');
  assert.ok(wave.ink > wave.total * 0.02, `waveform ink ${wave.ink}/${wave.total}`);
  assert.ok(spec.colours > 50, `spectrogram colours ${spec.colours}`);
  assert.ok(spec.ink > spec.total * 0.3, `spectrogram ink ${spec.ink}/${spec.total}`);
  // A 0.6-s clip is one window: no timeline.
  assert.equal(await page.locator('canvas.timeline').count(), 0);
  await page.screenshot({ path: join(SHOTS, 'tag.png'), fullPage: true });
  await page.close();
});

test('tag page: a long recording gets a timeline of detections; clicking it seeks the player', {
  skip,
  timeout: 60_000,
}, async () => {
  const { file, seconds: duration } = await longRecording();
  const page = await newPage();
  await page.goto(url);
  await page.getByLabel('Choose audio files').setInputFiles(file);
  const tl = page.locator('canvas.timeline');
  await tl.waitFor({ timeout: 30_000 });
  await page.locator('article.clip[aria-busy="false"]').waitFor({ timeout: 20_000 });
  const ink = await canvasInk(page, 'canvas.timeline');
  assert.ok(ink.ink > ink.total * 0.05, `timeline ink ${ink.ink}/${ink.total}`);
  assert.ok((await page.locator('.timeline-rows span').count()) >= 1);
  await page.waitForFunction(() => document.querySelector('audio')!.readyState >= 1);
  const box = (await tl.boundingBox())!;
  await tl.click({ position: { x: box.width * 0.75, y: box.height / 2 } });
  const t = await page.evaluate(() => document.querySelector('audio')!.currentTime);
  assert.ok(Math.abs(t - 0.75 * duration) < 0.3, `seeked to ${t} s, expected ${0.75 * duration}`);
  // Keyboard: the spectrogram is a slider over the play position.
  const slider = page.getByRole('slider', { name: /Play position on the mel spectrogram/ });
  await slider.focus();
  await slider.press('Home');
  await slider.press('ArrowRight');
  await slider.press('Shift+ArrowRight');
  await page.waitForFunction(
    () => Number(document.querySelector('canvas.spectrogram')!.getAttribute('aria-valuenow')) > 0,
  );
  const kt = await page.evaluate(() => document.querySelector('audio')!.currentTime);
  assert.ok(kt >= 5.9 && kt <= 6.5, `Home, →, Shift+→ went to ${kt} s`);
  const events = page.locator('ul.events button');
  if ((await events.count()) > 0) {
    const label = (await events.first().textContent())!;
    const start = Number(/▶ ([\d.]+)/.exec(label)![1]);
    await events.first().click();
    const t2 = await page.evaluate(() => document.querySelector('audio')!.currentTime);
    assert.ok(Math.abs(t2 - start) < 0.3, `event button seeked to ${t2}, expected ${start}`);
  }
  await page.screenshot({ path: join(SHOTS, 'tag-long.png'), fullPage: true });
  await page.close();
});

test('model page: classes, metrics and the confusion matrix of the training report', {
  skip,
  timeout: 60_000,
}, async () => {
  const page = await newPage();
  await page.goto(`${url}/#/models`);
  await page.getByRole('link', { name: 'run/fold0' }).click();
  await page.getByRole('heading', { name: 'Model run/fold0' }).waitFor({ timeout: 20_000 });
  assert.deepEqual(await page.locator('ul.classes li').allTextContents(), ['0', '1', '2']);
  assert.match((await page.locator('table.metrics').textContent()) ?? '', /accuracy/);
  const confusion = page.getByRole('img', { name: /^Confusion matrix \(counts/ });
  await confusion.waitFor({ timeout: 20_000 });
  await page.waitForFunction(() =>
    Array.from(document.querySelectorAll<HTMLImageElement>('figure.chart img')).every((i) => i.complete),
  );
  assert.ok((await confusion.evaluate((i: HTMLImageElement) => i.naturalWidth)) > 100);
  const names = await page.locator('figure.chart').evaluateAll((f) => f.map((x) => x.id));
  for (const c of ['confusion', 'pr', 'roc', 'loss']) assert.ok(names.includes(`chart-${c}`), names.join());
  await page.screenshot({ path: join(SHOTS, 'model.png'), fullPage: true });
  await page.close();
});

test('live page: the live pipeline mounts in its slot with the served model', {
  skip,
  timeout: 60_000,
}, async () => {
  const page = await newPage();
  await page.goto(`${url}/#/live`);
  await page.getByRole('heading', { name: 'Live microphone' }).waitFor({ timeout: 20_000 });
  await page.locator('#live-slot > *').first().waitFor({ timeout: 20_000 });
  assert.match((await page.locator('#live-model').textContent()) ?? '', /3 classes/);
  // The model comes from GET /v1/models/run/model.onnx and onnxruntime-web from the build's ort/ folder:
  // Start is enabled once both loaded in the worker.
  await page
    .getByRole('button', { name: 'Start' })
    .and(page.locator(':enabled'))
    .waitFor({ timeout: 30_000 });
  await page.screenshot({ path: join(SHOTS, 'live.png'), fullPage: true });
  await page.close();
});

test('with an API key and a duration limit: the key unlocks the pages, a long recording goes through a job', {
  skip,
  timeout: 60_000,
}, async () => {
  const queue = new SqliteJobQueue<JobPayload, JobOutput>(join(dir, 'jobs.db'));
  const key = 'test-key-123456';
  const locked = await createServer(tagger, {
    modelPath: run,
    webDir: webDist,
    apiKey: key,
    maxSeconds: 3,
    queue,
    jobDir: join(dir, 'job-files'),
  });
  const worker = startWorker(tagger, queue, { pollMs: 50 });
  const url2 = await locked.listen({ port: 0, host: '127.0.0.1' });
  try {
    const page = await newPage();
    await page.goto(url2);
    await page.getByText('Server: needs an API key').waitFor({ timeout: 20_000 });
    // The pages that need the server say where the key goes.
    for (const route of ['#/models/run', '#/live']) {
      await page.goto(`${url2}/${route}`);
      await page
        .getByText('The server needs an API key: enter it under "Server settings"')
        .waitFor({ timeout: 20_000 });
    }
    await page.goto(`${url2}/#/tag`);
    await page.locator('summary', { hasText: 'Server settings' }).click();
    await page.getByLabel('API key').fill(key);
    await page.getByLabel('API key').press('Tab');
    await page.getByText(/Model run\/fold0: 3 classes/).waitFor({ timeout: 20_000 });
    const { file } = await longRecording();
    await page.getByLabel('Choose audio files').setInputFiles(file);
    await page.locator('canvas.timeline').waitFor({ timeout: 40_000 });
    const want = await tagger.tag(file);
    const best = want.classes[want.clip.indexOf(Math.max(...want.clip))]!;
    assert.equal(await page.locator('#results table.tags th.tag').first().textContent(), best);
    assert.equal((await queue.counts()).done, 1);
    // The model page's charts come through fetch with the key (an <img src> alone would get a 401).
    await page.goto(`${url2}/#/models/run`);
    const confusion = page.getByRole('img', { name: /^Confusion matrix \(counts/ });
    await confusion.waitFor({ timeout: 20_000 });
    await page.waitForFunction(() =>
      Array.from(document.querySelectorAll<HTMLImageElement>('figure.chart img')).every((i) => i.complete),
    );
    assert.ok((await confusion.evaluate((i: HTMLImageElement) => i.naturalWidth)) > 100);
    await page.close();
  } finally {
    await locked.close();
    await worker.stop();
    await queue.close();
  }
});

test('static build: no API, the in-browser parts still work', { skip, timeout: 60_000 }, async () => {
  const types: Record<string, string> = {
    '.html': 'text/html',
    '.js': 'text/javascript',
    '.mjs': 'text/javascript',
    '.css': 'text/css',
    '.wasm': 'application/wasm',
  };
  // Any static file server; this one answers 404 for /v1/… like a plain web host.
  const server: Server = createHttpServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const file = join(webDist, path === '/' ? 'index.html' : path);
    if (!file.startsWith(webDist) || !existsSync(file) || path.startsWith('/v1/')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    const page = await newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.getByText('Static site: no API').waitFor({ timeout: 20_000 });
    await page.getByLabel('Choose audio files').setInputFiles(join(FSDD_AUDIO, '3_jackson_0.wav'));
    await page.locator('article.clip[aria-busy="false"]').waitFor({ timeout: 20_000 });
    assert.ok((await canvasInk(page, 'canvas.spectrogram')).colours > 50);
    assert.match((await page.locator('article.clip .note').textContent()) ?? '', /Tags need the tagging API/);
    await page.screenshot({ path: join(SHOTS, 'static.png'), fullPage: true });
    await page.goto(`http://127.0.0.1:${port}/#/models`);
    await page.getByText(/Model pages need the API/).waitFor({ timeout: 10_000 });
    // The live page takes an exported model file: its classes from the ONNX metadata, run in the browser.
    const onnx = join(dir, 'exported.onnx');
    writeFileSync(onnx, new Uint8Array(await (await fetch(`${url}/v1/models/run/model.onnx`)).arrayBuffer()));
    await page.goto(`http://127.0.0.1:${port}/#/live`);
    await page.getByLabel('Exported model (.onnx)').setInputFiles(onnx);
    await page
      .getByRole('button', { name: 'Start' })
      .and(page.locator(':enabled'))
      .waitFor({ timeout: 30_000 });
    assert.match((await page.locator('#live-slot').textContent()) ?? '', /Classes: 0, 1, 2/);
    await page.close();
  } finally {
    await new Promise((r) => server.close(r));
  }
});

test('routes: the ONNX model with its front-end, report data and charts, 404s; the basic page without a build', {
  timeout: 60_000,
}, async () => {
  const models = (await (await fetch(`${url}/v1/models`)).json()) as {
    models: { id: string; onnxUrl: string }[];
  };
  assert.equal(models.models[0]!.id, 'run');
  const r = await fetch(url + models.models[0]!.onnxUrl);
  assert.equal(r.status, 200);
  const meta = readExportMeta(new Uint8Array(await r.arrayBuffer()), 'served model');
  assert.equal(meta.frontend, true);
  assert.deepEqual(meta.classes, ['0', '1', '2']);
  assert.deepEqual(meta.folds, [0, 1]);
  const rep = (await (await fetch(`${url}/v1/models/run/report`)).json()) as {
    classes: string[];
    charts: { name: string; url: string }[];
    metrics: { metrics: Record<string, unknown> };
  };
  assert.deepEqual(rep.classes, ['0', '1', '2']);
  assert.equal(rep.charts[0]!.name, 'confusion');
  assert.ok('accuracy' in rep.metrics.metrics);
  const svg = await fetch(url + rep.charts[0]!.url);
  assert.equal(svg.headers.get('content-type'), 'image/svg+xml');
  assert.match(await svg.text(), /^<svg/);
  assert.equal((await fetch(`${url}/v1/models/run/charts/nope.svg`)).status, 404);
  assert.equal((await fetch(`${url}/v1/models/other/report`)).status, 404);
  assert.equal((await fetch(`${url}/v1/models/run/charts/..%2Fmetrics.json`)).status, 400);
  assert.equal((await fetch(`${url}/v1/models/run/report.html`)).status, 200);
  assert.equal(
    (await fetch(`${url}/ort/ort-wasm-simd-threaded.wasm`)).headers.get('content-type'),
    'application/wasm',
  );
  // Without a build the server still answers `/`, with the basic page and how to build the app.
  const bare = await createServer(tagger, { modelPath: run, webDir: join(dir, 'no-such-build') });
  try {
    const page = await bare.inject({ method: 'GET', url: '/' });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /The web app is not built .*npm run build:web/);
    assert.match(page.body, /choose audio files/);
  } finally {
    await bare.close();
  }
});
