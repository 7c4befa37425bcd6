// Streaming reads and window cutting: chunked reads (resampled with margins) equal the whole file
// resampled at once; windows, the padded last window and TTA copies sit where the plan says.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadAudio, resample, writeWav } from '../../src/audio/index.js';
import { OptionError } from '../../src/core/errors.js';
import { concatFloat32 } from '../../src/core/ndarray.js';
import { resolveFeatureConfig } from '../../src/features/config.js';
import type { ModelInfo } from '../../src/infer/backend.js';
import { cutWindows, streamFile, windowPlan } from '../../src/infer/windows.js';
import { FSDD_AUDIO, tempDir } from './helpers.js';

const dir = tempDir();

async function concat(names: string[], path: string): Promise<Float32Array> {
  const parts = await Promise.all(names.map((n) => loadAudio(join(FSDD_AUDIO, n))));
  const x = concatFloat32(parts.map((p) => p.channels[0]!));
  await writeWav(path, { sampleRate: 8000, channels: [x] }, { format: 'float32' });
  return x;
}

async function collect(blocks: AsyncIterable<Float32Array>): Promise<Float32Array> {
  const parts: Float32Array[] = [];
  for await (const b of blocks) parts.push(b);
  return concatFloat32(parts);
}

const info = (duration: number | null, crop: ModelInfo['crop'] = null): ModelInfo => ({
  label: 'x',
  classes: ['a'],
  activation: 'softmax',
  aggregate: 'mean',
  featureConfig: resolveFeatureConfig({ sampleRate: 8000, nFft: 256, hopLength: 128, duration }),
  crop,
  input: 'features',
  framewise: false,
  sed: false,
});

describe('streamed reads', () => {
  test('1 s chunks equal the whole file, at its rate and resampled to 16 kHz', async () => {
    const path = join(dir, 'long.wav');
    const names = [
      '0_george_0.wav',
      '1_theo_3.wav',
      '2_jackson_1.wav',
      '3_nicolas_2.wav',
      '4_yweweler_5.wav',
      '5_lucas_9.wav',
      '6_theo_1.wav',
      '7_george_4.wav',
      '8_jackson_8.wav',
    ];
    const x = await concat(names, path);
    assert.ok(x.length > 3 * 8000, 'long enough for several 1 s chunks');
    const same = await streamFile(path, 8000, 1);
    assert.deepEqual(await collect(same.blocks), x);
    const up = await collect((await streamFile(path, 16000, 1)).blocks);
    const ref = resample(x, 8000, 16000);
    assert.equal(up.length, ref.length);
    let err = 0;
    for (let i = 0; i < ref.length; i++) err = Math.max(err, Math.abs(up[i]! - ref[i]!));
    assert.ok(err < 1e-6, `chunked resampling differs by ${err}`);
  });
});

describe('windows', () => {
  const signal = Float32Array.from({ length: 18500 }, (_, i) => i + 1);
  async function* one(): AsyncGenerator<Float32Array> {
    // Blocks of odd sizes, as chunks arrive.
    for (let i = 0; i < signal.length; i += 3001) yield signal.slice(i, i + 3001);
  }
  test('window starts every hop, a zero-padded last window, TTA copies shifted back', async () => {
    const plan = windowPlan(info(1), { hop: 0.5 });
    assert.equal(plan.length, 8000);
    assert.equal(plan.hop, 4000);
    const ws = [];
    for await (const w of cutWindows(one(), plan)) ws.push(w);
    assert.deepEqual(
      ws.map((w) => w.start),
      [0, 4000, 8000, 12000],
    );
    const last = ws[3]!.samples;
    assert.equal(last[0], 12001);
    assert.equal(last[6499], 18500);
    assert.equal(last[6500], 0);
    const dropped = [];
    for await (const w of cutWindows(one(), { ...plan, last: 'drop' })) dropped.push(w.start);
    assert.deepEqual(dropped, [0, 4000, 8000]);
    const tta = [];
    for await (const w of cutWindows(one(), { ...plan, tta: 2 }))
      tta.push([w.index, w.copy, w.start, w.samples[0]]);
    assert.deepEqual(tta.slice(0, 4), [
      [0, 0, 0, 1],
      [0, 1, -2000, 0],
      [1, 0, 4000, 4001],
      [1, 1, 2000, 2001],
    ]);
  });
  test("a short clip is one window placed as the run's duration placed it; crop models get exactly their frames", async () => {
    const plan = windowPlan(info(1));
    assert.equal(plan.short.align, 'start');
    const centred = windowPlan({
      ...info(1),
      featureConfig: resolveFeatureConfig({ sampleRate: 8000, duration: 1, durationAlign: 'center' }),
    });
    const ws = [];
    async function* short(): AsyncGenerator<Float32Array> {
      yield Float32Array.from({ length: 3000 }, () => 1);
    }
    for await (const w of cutWindows(short(), centred)) ws.push(w);
    assert.equal(ws.length, 1);
    assert.equal(ws[0]!.samples[2499], 0);
    assert.equal(ws[0]!.samples[2500], 1);
    assert.equal(ws[0]!.samples[5499], 1);
    assert.equal(ws[0]!.samples[5500], 0);
    const crop = windowPlan(
      info(null, { frames: 64, evalMode: 'windows', evalHop: 16, pad: 'wrap', padValue: 0 }),
    );
    assert.equal(crop.length, 63 * 128, '(frames − 1) · hop samples give exactly 64 centred frames');
    assert.equal(crop.short.pad, 'wrap');
    assert.throws(
      () => windowPlan(info(1), { hop: 0.5, overlap: 0.1 }),
      /overlap: give hop or overlap, not both/,
    );
    assert.throws(
      () => windowPlan(info(1), { window: -1 }),
      (e: unknown) => e instanceof OptionError && e.option === 'window' && /^window: must be/.test(e.message),
    );
  });
});
