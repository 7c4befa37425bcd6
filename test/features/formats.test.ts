// 3-channel formats, normalisation and dataset statistics, and the experimental transforms.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Random } from '../../src/core/random.js';
import {
  aaa,
  apd,
  apx,
  backgroundSubtraction,
  DatasetStats,
  delta,
  EnvelopeAccumulator,
  frequencyEnvelope,
  melDelta3,
  melSpectrogram,
  melSpectrogramWithPhase,
  minMax,
  normalizeClip,
  normalizeDataset,
  percentile,
  powerToDb,
  transferEnvelope,
} from '../../src/features/index.js';
import { maxAbs, relToMax, testSignal } from './helpers.js';

const rng = new Random(7);
const randNd = (shape: number[], mean = 0, std = 1) => ({
  data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal(mean, std)),
  shape,
});
const channel = (a: { data: Float32Array; shape: number[] }, c: number) => {
  const n = a.shape[1]! * a.shape[2]!;
  return { data: a.data.slice(c * n, (c + 1) * n), shape: a.shape.slice(1) };
};

describe('3-channel formats', () => {
  const y = testSignal(8000, 16000);
  const o = { sampleRate: 16000, nFft: 512, hopLength: 160, nMels: 40 };
  const logMel = powerToDb(melSpectrogram(y, o));

  test('mel-delta3 stacks the log-mel with its delta and delta-delta', () => {
    const x = melDelta3(logMel);
    assert.deepEqual(x.shape, [3, 40, logMel.shape[1]]);
    assert.deepEqual(channel(x, 0).data, logMel.data);
    assert.deepEqual(channel(x, 1).data, delta(logMel).data);
    assert.deepEqual(channel(x, 2).data, delta(logMel, { order: 2 }).data);
    assert.deepEqual(channel(aaa(logMel), 2).data, logMel.data);
  });

  test('APD/APX: the phase channel is the mel filterbank applied to the bin angles', () => {
    const { mel, phase } = melSpectrogramWithPhase(y, o);
    assert.ok(relToMax(mel, melSpectrogram(y, o)) < 1e-6);
    // Angles lie in (−π, π] and the Slaney filters have unit area, so |phase| ≤ π·Σ_k W ≤ a few units.
    assert.ok(Math.max(...phase.data.map(Math.abs)) < 10);
    const d = apd(logMel, phase);
    assert.deepEqual(channel(d, 1).data, phase.data);
    assert.deepEqual(channel(d, 2).data, delta(logMel).data);
    const x = apx(logMel, phase);
    const prod = channel(x, 2);
    for (let i = 0; i < prod.data.length; i += 31)
      assert.ok(Math.abs(prod.data[i]! - Math.fround(logMel.data[i]! * phase.data[i]!)) < 1e-4);
  });
});

describe('normalisation', () => {
  test('per clip: each channel gets mean 0, std 1; min-max gives [0, 1]; constants become 0', () => {
    const a = randNd([3, 8, 50], 5, 3);
    const z = normalizeClip(a);
    for (let c = 0; c < 3; c++) {
      const ch = channel(z, c).data;
      const mean = ch.reduce((s, v) => s + v, 0) / ch.length;
      const sd = Math.sqrt(ch.reduce((s, v) => s + (v - mean) ** 2, 0) / ch.length);
      assert.ok(Math.abs(mean) < 1e-5 && Math.abs(sd - 1) < 1e-4);
    }
    const m = minMax(a);
    assert.equal(Math.min(...m.data), 0);
    assert.equal(Math.max(...m.data), 1);
    assert.ok(minMax({ data: new Float32Array(6).fill(3), shape: [2, 3] }).data.every((v) => v === 0));
  });

  test('DatasetStats: merged accumulators equal one pass; per-band stats; dataset normalisation', () => {
    const clips = [randNd([2, 4, 30], 1, 2), randNd([2, 4, 10], -3, 1), randNd([2, 4, 55], 0, 5)];
    const one = new DatasetStats('channel');
    for (const c of clips) one.add(c);
    const a = new DatasetStats('channel').add(clips[0]!);
    const b = new DatasetStats('channel').add(clips[1]!).add(clips[2]!);
    const merged = a.merge(b).finalize();
    const whole = one.finalize();
    // Direct computation over all values of channel 0.
    const vals = clips.flatMap((c) => Array.from(channel(c, 0).data));
    const mean = vals.reduce((s, v) => s + v, 0) / vals.length;
    const sd = Math.sqrt(vals.reduce((s, v) => s + (v - mean) ** 2, 0) / vals.length);
    assert.ok(Math.abs(whole.mean[0]! - mean) < 1e-9 && Math.abs(whole.std[0]! - sd) < 1e-9);
    for (let g = 0; g < 2; g++) {
      assert.ok(Math.abs(merged.mean[g]! - whole.mean[g]!) < 1e-9);
      assert.ok(Math.abs(merged.std[g]! - whole.std[g]!) < 1e-9);
    }
    const perBand = new DatasetStats('band').add(clips[0]!).finalize();
    assert.equal(perBand.mean.length, 8);
    const n = normalizeDataset(clips[0]!, whole);
    assert.ok(Math.abs(n.data[0]! - (clips[0]!.data[0]! - whole.mean[0]!) / whole.std[0]!) < 1e-5);
    assert.throws(
      () => normalizeDataset(randNd([4, 30]), whole),
      /stats have 2 channel entries, this array needs 1/,
    );
    assert.throws(() => new DatasetStats().finalize(), /no clips/);
  });
});

describe('experimental transforms', () => {
  test('percentile interpolates like numpy', () => {
    assert.equal(percentile(Float64Array.from([4, 1, 3, 2]), 50), 2.5);
    assert.equal(percentile(Float64Array.from([4, 1, 3, 2]), 0), 1);
    assert.ok(Math.abs(percentile(Float64Array.from([1, 2, 3, 4, 5]), 30) - 2.2) < 1e-12);
  });

  test('background subtraction paints a stationary band to zero and keeps an onset', () => {
    const bands = 3;
    const T = 40;
    const data = new Float32Array(bands * T);
    for (let t = 0; t < T; t++) {
      data[t] = -30; // steady hum in band 0
      data[T + t] = -60 + (t >= 20 && t < 25 ? 40 : 0); // an event in band 1
      data[2 * T + t] = -50 + (t % 2); // flickering noise floor
    }
    const out = backgroundSubtraction({ data, shape: [bands, T] });
    for (let t = 0; t < T; t++) assert.equal(out.data[t], 0);
    assert.equal(out.data[T + 22], 40);
    assert.equal(out.data[T + 5], 0);
    assert.ok(Math.max(...out.data.slice(2 * T)) <= 1);
  });

  test('envelope transfer moves a clip’s mean envelope onto the target (within the gain clamp)', () => {
    const a = randNd([4, 60], -40, 5);
    const target = [-30, -45, -40, -80];
    const out = transferEnvelope(a, target, { maxGainDb: 12 });
    const env = frequencyEnvelope(out);
    const before = frequencyEnvelope(a);
    for (let m = 0; m < 3; m++) assert.ok(Math.abs(env[m]! - target[m]!) < 1e-4);
    assert.ok(Math.abs(env[3]! - (before[3]! - 12)) < 1e-4); // −40 → −80 is clamped to −12 dB
    const power = { data: a.data.map((v) => 10 ** (v / 10)), shape: a.shape };
    const pTarget = frequencyEnvelope(power).map((v) => v * 2);
    const pOut = transferEnvelope(power, pTarget, { scale: 'power' });
    assert.ok(
      maxAbs(
        { data: Float32Array.from(frequencyEnvelope(pOut)), shape: [4] },
        { data: Float32Array.from(pTarget), shape: [4] },
      ) < 1e-6,
    );
    const acc = new EnvelopeAccumulator().add(a).add(out).finalize();
    assert.ok(Math.abs(acc[0]! - (before[0]! + env[0]!) / 2) < 1e-9);
    assert.throws(() => transferEnvelope(a, [1, 2]), /target has 2 bands/);
  });
});
