// The basic page at `/` (served when the web app is not built) in headless Chromium (Debian's
// /usr/bin/chromium through playwright-core): the page says how to build the app, loads the model's
// classes, and a real FSDD clip picked in the file input shows the tagger's top tag. The built app:
// webapp.test.ts.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { chromium } from 'playwright-core';
import { Tagger } from '../../src/infer/tagger.js';
import { createServer } from '../../src/serve/server.js';
import { FSDD_AUDIO, tempDir, tinyRun } from '../infer/helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const dir = tempDir('audiotag-serve-web-');
let tagger: Tagger;
let app: FastifyInstance;
let url = '';

before(async () => {
  tagger = await Tagger.load(await tinyRun(dir, 'run', 7));
  app = await createServer(tagger, { webDir: join(dir, 'no-web-build') });
  url = await app.listen({ port: 0, host: '127.0.0.1' });
});
after(async () => {
  await app?.close();
  await tagger?.dispose();
});

test('pick a real clip in the page: the top tag appears', {
  skip: !existsSync(CHROMIUM) && `${CHROMIUM} is not installed`,
  timeout: 120_000,
}, async () => {
  const clip = join(FSDD_AUDIO, '0_george_5.wav');
  const want = await tagger.tag(clip);
  const best = want.classes[want.clip.indexOf(Math.max(...want.clip))]!;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage();
    await page.goto(url);
    await page.getByText(/Model .*: 3 classes \(0, 1, 2\)/).waitFor({ timeout: 30_000 });
    await page.getByText(/The web app is not built .* run "npm run build:web" or "make web"/).waitFor();
    await page.getByLabel('choose audio files').setInputFiles(clip);
    const first = page.locator('#results td.tag').first();
    await first.waitFor({ timeout: 30_000 });
    assert.equal(await first.textContent(), best);
    assert.match((await page.locator('#results h2').first().textContent()) ?? '', /0_george_5\.wav/);
    await page.screenshot({ path: join(dir, 'page.png') });
  } finally {
    await browser.close();
  }
});
