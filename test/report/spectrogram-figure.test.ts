// The spectrogram figure of `features --png --axes` and `augment --png`: axis titles, ticks at round Hz
// and seconds, a dB colour bar, panel titles; a real ESC-10 clip's log-mel.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PNG } from 'pngjs';
import { loadAudio } from '../../src/audio/index.js';
import { computeFeatures } from '../../src/features/index.js';
import { renderSpectrogramFigurePng, spectrogramFigureSvg } from '../../src/report/spectrogram-figure.js';
import { SHARED } from '../train/helpers.js';

describe('spectrogram figure', () => {
  test('ESC-10 dog bark: round ticks in Hz and s, colour bar in dB, labelled panels', async () => {
    const a = await loadAudio(`${SHARED}/esc10/audio/1-100032-A-0.flac`);
    const cfg = { sampleRate: 16000, nFft: 1024, hopLength: 256, nMels: 64, fmin: 0, fmax: 8000 };
    const f = computeFeatures(a.channels[0]!, a.sampleRate, { ...cfg, format: 'mel' });
    const two = { data: new Float32Array([...f.data, ...f.data]), shape: [2, f.shape[0]!, f.shape[1]!] };
    const opts = {
      sampleRate: 16000,
      hopLength: 256,
      fmin: 0,
      fmax: 8000,
      panelTitles: ['original', 'augmented'],
    };
    const svg = spectrogramFigureSvg(two, opts);
    const texts = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);
    for (const t of ['frequency (Hz)', 'time (s)', 'dB', 'original', 'augmented', '1k', '2k', '500'])
      assert.ok(texts.includes(t), `"${t}" among ${texts.join('|')}`);
    // 5 s of audio: ticks 0..5 s at whole seconds; every Hz label is 1, 2 or 5 × 10^k.
    for (const s of ['0', '1', '2', '3', '4', '5']) assert.ok(texts.includes(s), `time tick ${s}`);
    const hz = texts.filter((t) => /^\d+(\.\d)?k?$/.test(t) && (t.endsWith('k') || Number(t) >= 50));
    for (const t of hz) {
      const v = t.endsWith('k') ? Number(t.slice(0, -1)) * 1000 : Number(t);
      assert.ok(/^[125]0*$/.test(String(v)) || v <= 5, `round tick ${t}`);
    }
    assert.match(svg, /linearGradient id="cbar"/);
    assert.equal((svg.match(/<image /g) ?? []).length, 2, 'one image per panel');
    const img = PNG.sync.read(Buffer.from(renderSpectrogramFigurePng(two, opts)));
    assert.ok(img.width >= 2 * 480 && img.height >= 2 * 2 * 160, `${img.width}x${img.height}`);
  });

  test('a bad shape names what was expected', () => {
    assert.throws(
      () => spectrogramFigureSvg({ data: new Float32Array(4), shape: [4] }),
      /expected \[bands, frames\]/,
    );
  });
});
