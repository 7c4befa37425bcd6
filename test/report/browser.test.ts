// The reports as a person sees them: a tiny real FSDD run (2 digits, 3 speakers, 3 epochs), its
// report.html, `evaluate --report-dir` and `dataset inspect` on ESC-10, each opened in headless Chromium
// (Debian's, driven by playwright-core): every chart is an SVG whose marks have non-empty extents.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Browser, chromium } from 'playwright-core';
import YAML from 'yaml';
import { FSDD, runCli, SHARED, tempDir } from '../train/helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const dir = tempDir('audiotag-report-');
const run = join(dir, 'run');

const config = {
  seed: 5,
  data: {
    manifest: join(FSDD, 'meta.csv'),
    format: 'csv',
    csv: { pathCol: 'fname', labelCol: 'label', groupCol: 'speaker' },
    filter: { label: [0, 1], speaker: ['george', 'jackson', 'theo'] },
  },
  folds: { strategy: 'split' },
  features: { sampleRate: 8000, nFft: 256, hopLength: 128, nMels: 32, duration: 1, normalize: 'clip' },
  model: { name: 'small-cnn', config: { channels: [8, 16], convsPerBlock: 1, dropout: 0.1 } },
  loader: { batchSize: 16, cacheDir: join(dir, 'cache'), workers: 0 },
  train: { epochs: 3, optimizer: { name: 'adam', lr: 0.01 }, metrics: ['accuracy', 'f1_macro'], threads: 1 },
};

interface ChartFacts {
  id: string;
  marks: number;
  nonEmpty: number;
}

/** Opens a page and returns, per chart div, how many SVG marks it has and how many have an area. */
async function chartsOf(browser: Browser, file: string, shot: string): Promise<ChartFacts[]> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  try {
    await page.goto(`file://${file}`, { timeout: 20_000 });
    await page.screenshot({ path: shot, fullPage: true, timeout: 20_000 });
    return await page.$$eval('div.chart', (divs) =>
      divs.map((d) => {
        const marks = Array.from(
          d.querySelectorAll(
            'svg g.mark-rect path, svg g.mark-line path, svg g.mark-symbol path, svg g.mark-area path',
          ),
        );
        const nonEmpty = marks.filter((m) => {
          const b = (m as SVGGraphicsElement).getBBox();
          return b.width > 0 || b.height > 0;
        });
        return { id: d.id, marks: marks.length, nonEmpty: nonEmpty.length };
      }),
    );
  } finally {
    await page.close();
  }
}

function assertCharts(facts: ChartFacts[], expected: string[]): void {
  const ids = facts.map((f) => f.id);
  for (const e of expected)
    assert.ok(ids.includes(`chart-${e}`), `chart ${e} is on the page (got ${ids.join(', ')})`);
  for (const f of facts) assert.ok(f.nonEmpty > 0, `${f.id}: ${f.marks} mark(s), none with an extent`);
}

describe('reports in headless Chromium', { timeout: 180_000 }, () => {
  let browser: Browser;
  before(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, timeout: 30_000, args: ['--no-sandbox'] });
  });
  after(async () => {
    await browser?.close();
  });

  test('a training run writes report.html with curves and the out-of-fold evaluation', async () => {
    const cfg = join(dir, 'tiny.yaml');
    writeFileSync(cfg, YAML.stringify(config));
    const r = await runCli(['train', '--config', cfg, '--out', run, '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    const html = join(run, 'report.html');
    assert.ok(existsSync(html));
    const text = readFileSync(html, 'utf8');
    assert.doesNotMatch(
      text,
      /<script|https?:\/\/(?!www\.w3\.org)/,
      'self-contained: no scripts, no network',
    );
    assert.match(text, /last: fold 0 epoch 3/);
    assert.ok((text.match(/<td class="spec"><svg /g) ?? []).length >= 10, 'a log-mel figure per worst clip');
    for (const n of ['loss', 'lr', 'confusion']) {
      assert.ok(existsSync(join(run, 'charts', `${n}.svg`)), `${n}.svg`);
      assert.deepEqual([...readFileSync(join(run, 'charts', `${n}.png`)).subarray(1, 4)], [0x50, 0x4e, 0x47]);
    }
    const facts = await chartsOf(browser, html, join(dir, 'training.png'));
    assertCharts(facts, [
      'loss',
      'metrics',
      'lr',
      'confusion',
      'confusion-normalised',
      'pr',
      'roc',
      'calibration',
    ]);
  });

  test('evaluate --report-dir writes the evaluation section where asked', async () => {
    assert.ok(existsSync(join(run, 'fold0', 'best', 'model.safetensors')), 'needs the first test');
    const lines = readFileSync(join(FSDD, 'meta.csv'), 'utf8').trim().split('\n');
    const head = lines[0]!.split(',');
    const [fi, li, si] = ['fname', 'label', 'speaker'].map((c) => head.indexOf(c));
    const rows = lines.slice(1).filter((l) => {
      const f = l.split(',');
      return ['0', '1'].includes(f[li!]!) && f[si!] === 'yweweler';
    });
    assert.ok(rows.length >= 20 && fi! >= 0);
    const manifest = join(dir, 'held-out.csv');
    writeFileSync(manifest, `${lines[0]}\n${rows.join('\n')}\n`);
    const out = join(dir, 'eval-report');
    const r = await runCli([
      'evaluate',
      '--run',
      run,
      '--manifest',
      manifest,
      '--audio-dir',
      join(FSDD, 'audio'),
      '--out',
      join(dir, 'eval'),
      '--report-dir',
      out,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!existsSync(join(run, 'eval-held-out', 'report.html')));
    const facts = await chartsOf(browser, join(out, 'report.html'), join(dir, 'evaluate.png'));
    assertCharts(facts, ['confusion', 'pr', 'roc', 'calibration']);
    assert.match(
      readFileSync(join(out, 'report.html'), 'utf8'),
      new RegExp(`Evaluation \\(${rows.length} clips\\)`),
    );
  });

  test('dataset inspect on ESC-10: counts, durations, formats, flagged clips', async () => {
    const out = join(dir, 'eda.html');
    const r = await runCli([
      'dataset',
      'inspect',
      join(SHARED, 'esc10', 'meta.csv'),
      '--out',
      out,
      '--json',
      '--jobs',
      '2',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.summary.clips, 400);
    assert.equal(j.summary.classes, 10);
    assert.deepEqual(Object.keys(j.summary.formats), ['16000 Hz, 1 ch, flac']);
    assert.ok(Math.abs(j.summary.duration.median - 5) < 0.01);
    assert.ok(Array.isArray(j.clipped) && Array.isArray(j.silent) && Array.isArray(j.unusualLength));
    const facts = await chartsOf(browser, out, join(dir, 'eda.png'));
    assertCharts(facts, ['class-counts', 'durations', 'durations-per-class', 'peak-levels', 'formats']);
    const page = readFileSync(out, 'utf8');
    assert.equal(
      (page.match(/<div class="example"><div><svg /g) ?? []).length,
      10,
      'one example spectrogram per class',
    );
    assert.equal(
      (page.match(/<audio /g) ?? []).length,
      10 + j.clipped.length,
      'a player per example and flagged clip',
    );
  });

  test('dataset inspect: usage errors exit 2 and name the flag', async () => {
    const r = await runCli([
      'dataset',
      'inspect',
      join(SHARED, 'esc10', 'meta.csv'),
      '--out',
      join(dir, 'x.txt'),
    ]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--out .*\.html/);
    const none = await runCli(['dataset', 'inspect', join(SHARED, 'esc10', 'meta.csv')]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /--out/);
  });
});
