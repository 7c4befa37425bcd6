// The prediction report's spectrogram stays bounded for long recordings: a 75 s recording of ESC-10 clips
// with 10 s of silence in the middle (long enough to be streamed in 30 s chunks) is pooled into exactly
// `maxColumns` columns covering its whole length, the silent columns sit at the floor, and the page
// written from a hand-made result holds that many columns and a bar per event.
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadAudio, writeWav } from '../../src/audio/index.js';
import { concatFloat32 } from '../../src/core/ndarray.js';
import type { TagResult } from '../../src/infer/tagger.js';
import { longSpectrogram, writePredictionReport } from '../../src/report/prediction.js';
import { SHARED, tempDir } from '../train/helpers.js';

const dir = tempDir('audiotag-prediction-report-');

test('a long recording: pooled spectrogram, silence at the floor, a light page', async () => {
  const sr = 16000;
  const clips = ['1-100032-A-0', '1-116765-A-41', '1-17150-A-12', '1-172649-A-40', '1-187207-A-20'];
  const parts: Float32Array[] = [];
  for (const [i, c] of [...clips, ...clips, ...clips.slice(0, 3)].entries()) {
    if (i === 7) parts.push(new Float32Array(10 * sr)); // 35–45 s: silence
    const a = await loadAudio(join(SHARED, 'esc10', 'audio', `${c}.flac`), { mono: true });
    assert.equal(a.sampleRate, sr);
    parts.push(a.channels[0]!);
  }
  const x = concatFloat32(parts);
  const duration = x.length / sr;
  assert.ok(duration > 70, `${duration} s: long enough to be read in chunks`);
  const wav = join(dir, 'long.wav');
  await writeWav(wav, { sampleRate: sr, channels: [x] });

  const s = await longSpectrogram(wav, duration, { sampleRate: sr, nMels: 32, maxColumns: 300 });
  assert.equal(s.columns, 300);
  assert.equal(s.data.length, 32 * 300);
  assert.ok(Math.abs(s.columns * s.secondsPerColumn - duration) < 1e-6);
  // Column means: the silent stretch (35–45 s) is at the floor, the clips well above it.
  const colMean = (c: number) => {
    let m = 0;
    for (let b = 0; b < 32; b++) m += s.data[b * 300 + c]!;
    return m / 32;
  };
  const col = (t: number) => Math.floor(t / s.secondsPerColumn);
  const floor = Math.min(...s.data);
  for (let t = 36; t < 44; t += 0.5) assert.ok(colMean(col(t)) - floor < 1, `silence at ${t} s`);
  // Every 5 s clip has columns well above the floor (ESC-10 clips hold digital silence too).
  const loud = [0, 5, 10, 15, 20, 25, 30, 45, 50, 55, 60, 65, 70].map((t0) => {
    let m = Number.NEGATIVE_INFINITY;
    for (let c = col(t0); c < Math.min(300, col(t0 + 5)); c++) m = Math.max(m, colMean(c) - floor);
    return m;
  });
  assert.ok(
    loud.every((v) => v > 20),
    `sound well above the floor: ${loud.map((v) => v.toFixed(1))}`,
  );

  // The page from a hand-made result: 1 s windows, two events.
  const classes = ['dog', 'silence'];
  const windows = Array.from({ length: Math.ceil(duration) }, (_, i) => {
    const quiet = i >= 35 && i < 45;
    return { start: i, end: Math.min(i + 1, duration), scores: Float32Array.from(quiet ? [0, 1] : [1, 0]) };
  });
  const r: TagResult = {
    id: 'long.wav',
    duration,
    classes,
    clip: Float32Array.from([0.85, 0.15]),
    windows,
    events: [
      { start: 0, end: 35, label: 'dog', confidence: 1 },
      { start: 35, end: 45, label: 'silence', confidence: 0.9 },
    ],
  };
  const page = await writePredictionReport(join(dir, 'report', 'long.html'), r, wav, { maxColumns: 300 });
  const html = readFileSync(page, 'utf8');
  assert.ok(statSync(page).size < 400_000, `a light page: ${statSync(page).size} bytes`);
  assert.equal((html.match(/<rect class="event"/g) ?? []).length, 2);
  assert.equal((html.match(/<g class="lane"/g) ?? []).length, 2);
  assert.match(html, /src="\.\.\/long\.wav"/);
  assert.match(html, /300 columns of 0\.2\d+ s/);
  // The spectrogram image is 300 px wide (PNG header: width at bytes 16..19).
  const png = Buffer.from(/href="data:image\/png;base64,([^"]+)"/.exec(html)![1]!, 'base64');
  assert.equal(png.readUInt32BE(16), 300);
});
