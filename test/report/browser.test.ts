// The reports as a person sees them: a tiny real FSDD run (2 digits, 3 speakers, 3 epochs), its
// report.html (with the UMAP map of the validation embeddings), `evaluate --report-dir`, `predict
// --format report` on a recording made of FSDD clips, and `dataset inspect` on ESC-10, each opened in
// headless Chromium (Debian's, driven by playwright-core): every chart is an SVG whose marks have
// non-empty extents, and a click on the prediction timeline seeks the player to the clicked time.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Browser, chromium } from 'playwright-core';
import YAML from 'yaml';
import { loadAudio, writeWav } from '../../src/audio/index.js';
import { concatFloat32 } from '../../src/core/ndarray.js';
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

describe('reports in headless Chromium', { timeout: 300_000 }, () => {
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
      'embeddings',
    ]);
    // The map: one point per validation clip of the fold, in both classes.
    const oofRows =
      readFileSync(join(run, 'fold0', 'oof.csv'), 'utf8')
        .trim()
        .split('\n').length - 1;
    const map = JSON.parse(readFileSync(join(run, 'fold0', 'embedding-map.json'), 'utf8')) as {
      points: { label: string; x: number; y: number }[];
    };
    assert.equal(map.points.length, oofRows);
    assert.deepEqual([...new Set(map.points.map((p) => p.label))].sort(), ['0', '1']);
    assert.ok(map.points.every((p) => Number.isFinite(p.x) && Number.isFinite(p.y)));
    assert.ok(facts.find((f) => f.id === 'chart-embeddings')!.nonEmpty >= oofRows, 'a mark per clip');
  });

  test('predict --format report: spectrogram, detection lanes, click on the timeline plays from there', async () => {
    assert.ok(existsSync(join(run, 'fold0', 'best', 'model.safetensors')), 'needs the first test');
    // A recording of 12 FSDD clips (digits 0 and 1 of a held-out speaker), 0.3 s of silence between.
    const parts: Float32Array[] = [];
    for (let i = 0; i < 6; i++)
      for (const d of [0, 1]) {
        const a = await loadAudio(join(FSDD, 'audio', `${d}_yweweler_${i}.wav`), { mono: true });
        assert.equal(a.sampleRate, 8000);
        parts.push(a.channels[0]!, new Float32Array(2400));
      }
    const samples = concatFloat32(parts);
    const wav = join(dir, 'recording.wav');
    await writeWav(wav, { sampleRate: 8000, channels: [samples] });
    const duration = samples.length / 8000;
    const out = join(dir, 'predicted');
    const r = await runCli([
      'predict',
      '--model',
      run,
      wav,
      '--out',
      out,
      '--format',
      'events,report',
      '--quiet',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const html = join(out, 'report', 'recording.html');
    assert.ok(existsSync(join(out, 'report', 'recording.charts', 'timeline.png')));
    const text = readFileSync(html, 'utf8');
    assert.doesNotMatch(text, /https?:\/\/(?!www\.w3\.org)/, 'no network');
    assert.match(
      text,
      /<audio id="audio"[^>]* src="\.\.\/\.\.\/recording\.wav"/,
      'the player links the file',
    );
    const events = readFileSync(join(out, 'events.csv'), 'utf8').trim().split('\n').length - 1;
    assert.ok(events > 0, 'a 2-class softmax model detects something');
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    try {
      await page.goto(`file://${html}`, { timeout: 20_000 });
      await page.screenshot({ path: join(dir, 'prediction.png'), fullPage: true });
      const facts = await page.$$eval('div.chart', (divs) =>
        divs.map((d) => ({
          id: d.id,
          marks: d.querySelectorAll('svg g.mark-rect path').length,
          nonEmpty: Array.from(d.querySelectorAll('svg g.mark-rect path')).filter((m) => {
            const b = (m as SVGGraphicsElement).getBBox();
            return b.width > 0 && b.height > 0;
          }).length,
        })),
      );
      assertCharts(facts, ['clip-scores']);
      // (No named inner functions: tsx would wrap them in a helper the page does not have.)
      const t = await page.$eval('#timeline', (svg) => ({
        spectrogram: Array.from(svg.querySelectorAll('image'), (e) =>
          (e as SVGGraphicsElement).getBBox(),
        ).filter((b) => b.width > 0 && b.height > 0).length,
        lanes: svg.querySelectorAll('g.lane').length,
        events: Array.from(svg.querySelectorAll('rect.event'), (e) =>
          (e as SVGGraphicsElement).getBBox(),
        ).filter((b) => b.width > 0 && b.height > 0).length,
      }));
      assert.ok(t.spectrogram >= 1 + t.lanes, 'the spectrogram and a score strip per lane are drawn');
      assert.ok(t.lanes >= 1 && t.lanes <= 2, `lanes: ${t.lanes}`);
      assert.equal(t.events, events, 'every event of events.csv is a bar with an extent');
      // The player found the recording (relative link, no network).
      await page.waitForFunction(
        () => (document.getElementById('audio') as HTMLAudioElement).readyState >= 1,
        null,
        {
          timeout: 10_000,
        },
      );
      const d = await page.$eval('#audio', (a) => (a as HTMLAudioElement).duration);
      assert.ok(Math.abs(d - duration) < 0.05, `player duration ${d} vs ${duration}`);
      for (const want of [duration * 0.7, duration * 0.25]) {
        // Where `want` seconds is on screen: the figure's time axis runs from x0 over `width` user units.
        const pt = await page.$eval(
          '#timeline',
          (svg, w) => {
            const s = svg as SVGSVGElement;
            const x0 = Number(s.dataset.x0);
            const width = Number(s.dataset.width);
            const dur = Number(s.dataset.duration);
            const p = s.createSVGPoint();
            p.x = x0 + (w / dur) * width;
            p.y = 200;
            const q = p.matrixTransform(s.getScreenCTM()!);
            return { x: q.x, y: q.y };
          },
          want,
        );
        await page.mouse.click(pt.x, pt.y);
        const now = await page.$eval('#audio', (a) => {
          const el = a as HTMLAudioElement;
          el.pause();
          return el.currentTime;
        });
        assert.ok(Math.abs(now - want) < 0.25, `clicked at ${want.toFixed(2)} s, the player is at ${now} s`);
      }
    } finally {
      await page.close();
    }
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
      '--test-fold',
      '5',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.summary.clips, 400);
    assert.equal(j.summary.classes, 10);
    assert.deepEqual(Object.keys(j.summary.formats), ['16000 Hz, 1 ch, flac']);
    assert.ok(Math.abs(j.summary.duration.median - 5) < 0.01);
    assert.ok(Array.isArray(j.clipped) && Array.isArray(j.silent) && Array.isArray(j.unusualLength));
    assert.deepEqual(
      Object.entries(j.summary.splits as Record<string, { clips: number }>).map(([k, v]) => [k, v.clips]),
      [
        ['train', 320],
        ['test', 80],
      ],
    );
    const facts = await chartsOf(browser, out, join(dir, 'eda.png'));
    assertCharts(facts, [
      'class-counts',
      'durations',
      'durations-by-split',
      'durations-per-class',
      'peak-levels',
      'formats',
    ]);
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
    const fold = await runCli([
      'dataset',
      'inspect',
      join(SHARED, 'esc10', 'meta.csv'),
      '--json',
      '--test-fold',
      '9',
    ]);
    assert.equal(fold.code, 2);
    assert.match(fold.stderr, /--test-fold 9: expected one of the manifest's folds \(1, 2, 3, 4, 5\)/);
  });
});
