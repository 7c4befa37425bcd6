// FeatureConfig: defaults, presets, derived values and error messages; computeFeatures' pipeline.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resample } from '../../src/audio/browser.js';
import {
  canonicalConfig,
  computeFeatures,
  FeatureConfigError,
  featuresFromSignal,
  LIBROSA_DEFAULTS,
  PRESET_NAMES,
  prepareSignal,
  resolveFeatureConfig,
} from '../../src/features/index.js';
import { maxAbs, testSignal } from './helpers.js';

function configError(input: unknown): FeatureConfigError {
  try {
    resolveFeatureConfig(input as never);
  } catch (e) {
    assert.ok(e instanceof FeatureConfigError, `expected a FeatureConfigError, got ${e}`);
    return e;
  }
  assert.fail('no error');
}

describe('resolveFeatureConfig', () => {
  test('librosa 0.10 defaults are written out', () => {
    const c = resolveFeatureConfig({});
    assert.equal(c.sampleRate, 22050);
    assert.equal(c.nFft, 2048);
    assert.equal(c.hopLength, 512);
    assert.equal(c.winLength, 2048);
    assert.equal(c.fmax, 11025);
    assert.equal(c.center, true);
    assert.equal(c.padMode, 'constant');
    assert.equal(c.window, 'hann');
    assert.equal(c.melScale, 'slaney');
    assert.equal(c.melNorm, 'slaney');
    assert.equal(c.power, 2);
    assert.equal(c.topDb, 80);
    assert.equal(c.amin, 1e-10);
    assert.deepEqual(Object.keys(c).sort(), Object.keys(LIBROSA_DEFAULTS).sort());
  });

  test('presets carry the solutions’ parameters', () => {
    const f = resolveFeatureConfig('fat2019');
    assert.deepEqual(
      [f.sampleRate, f.nFft, f.hopLength, f.nMels, f.fmin, f.fmax, f.trim],
      [44100, 2560, 347, 128, 20, 22050, 60],
    );
    const b = resolveFeatureConfig('birdclef');
    assert.deepEqual(
      [b.sampleRate, b.nFft, b.hopLength, b.nMels, b.fmin, b.fmax],
      [32000, 2048, 512, 128, 50, 14000],
    );
    const s = resolveFeatureConfig('speech');
    assert.deepEqual([s.sampleRate, s.nMels, s.duration], [16000, 64, 1]);
    const m = resolveFeatureConfig('fsd2018');
    assert.deepEqual([m.sampleRate, m.format, m.nMfcc], [16000, 'mfcc', 20]);
    assert.equal(resolveFeatureConfig('fsd2018-logmel').format, 'mel');
    for (const p of PRESET_NAMES) assert.ok(resolveFeatureConfig(p));
  });

  test('overrides apply over a preset; derived values follow librosa; results are frozen and reusable', () => {
    const c = resolveFeatureConfig({ preset: 'birdclef', nMels: 64, pcen: { gain: 0.8 } });
    assert.equal(c.nMels, 64);
    assert.equal(c.hopLength, 512);
    assert.equal(c.pcen.gain, 0.8);
    assert.equal(c.pcen.bias, 2);
    const d = resolveFeatureConfig({ nFft: 1000 });
    assert.equal(d.winLength, 1000);
    assert.equal(d.hopLength, 250);
    assert.ok(Object.isFrozen(c));
    assert.equal(resolveFeatureConfig(c), c);
    assert.equal(canonicalConfig(resolveFeatureConfig({ ...c })), canonicalConfig(c));
    assert.notEqual(canonicalConfig(d), canonicalConfig(c));
  });

  test('errors name the key and what was expected', () => {
    let e = configError({ n_fft: 1024 });
    assert.equal(e.key, 'n_fft');
    assert.match(e.message, /unknown key .*expected one of .*nFft/);
    e = configError({ nFft: -3 });
    assert.equal(e.key, 'nFft');
    assert.match(e.message, /key "nFft".*got -3/);
    e = configError({ window: 'kaiser' });
    assert.match(e.message, /key "window".*hann.*got "kaiser"/);
    e = configError({ winLength: 4096 });
    assert.match(e.message, /key "winLength": expected at most nFft \(2048\), got 4096/);
    e = configError({ preset: 'fat2019', sampleRate: 16000 });
    assert.match(
      e.message,
      /key "fmax": expected at most the Nyquist frequency sampleRate\/2 = 8000, got 22050/,
    );
    e = configError({ format: 'mfcc', nMfcc: 200 });
    assert.equal(e.key, 'nMfcc');
    e = configError({ normalize: 'dataset' });
    assert.equal(e.key, 'normStats');
    e = configError({ deltaWidth: 4 });
    assert.match(e.message, /deltaWidth.*odd/);
    e = configError({ pcen: { gain: 'x' } });
    assert.equal(e.key, 'pcen.gain');
    e = configError('fat2020');
    assert.match(e.message, /unknown preset "fat2020"/);
  });
});

describe('computeFeatures', () => {
  const y16 = testSignal(16000, 16000, 9);

  test('resamples to the config rate first', () => {
    const c = resolveFeatureConfig({ preset: 'fat2019', trim: null });
    const direct = computeFeatures(y16, 16000, c);
    const manual = featuresFromSignal(resample(y16, 16000, 44100), c);
    assert.deepEqual(direct.shape, manual.shape);
    assert.equal(maxAbs(direct, manual), 0);
  });

  test('trims silence (fat2019: 60 dB) and crops/pads to the duration', () => {
    const c = resolveFeatureConfig({ sampleRate: 16000 });
    const padded = new Float32Array(48000);
    padded.set(y16, 16000); // 1 s of digital silence either side
    const trimmed = prepareSignal(padded, 16000, resolveFeatureConfig({ sampleRate: 16000, trim: 60 }));
    assert.ok(trimmed.length < 20000 && trimmed.length >= 16000, `trimmed to ${trimmed.length}`);
    assert.equal(prepareSignal(padded, 16000, c).length, 48000);
    const speech = resolveFeatureConfig('speech');
    assert.equal(prepareSignal(y16.subarray(0, 4000), 16000, speech).length, 16000);
    assert.equal(prepareSignal(padded, 16000, speech).length, 16000);
    const cent = prepareSignal(
      y16.subarray(0, 4000),
      16000,
      resolveFeatureConfig({ preset: 'speech', durationAlign: 'center' }),
    );
    assert.equal(cent[6000], y16[0]);
  });

  test('every format has its shape, and normalisation applies last', () => {
    const base = { sampleRate: 16000, nFft: 512, hopLength: 160, nMels: 40, nMfcc: 13 } as const;
    const frames = 101;
    const shapes: Record<string, number[]> = {
      mel: [40, frames],
      mfcc: [13, frames],
      'mel-delta3': [3, 40, frames],
      aaa: [3, 40, frames],
      apd: [3, 40, frames],
      apx: [3, 40, frames],
      pcen: [40, frames],
      gammatone: [40, frames],
      gtcc: [13, frames],
    };
    for (const [format, shape] of Object.entries(shapes)) {
      const f = computeFeatures(y16, 16000, { ...base, format: format as never });
      assert.deepEqual(f.shape, shape, format);
      assert.ok(f.data.every(Number.isFinite), `${format} has non-finite values`);
    }
    const mm = computeFeatures(y16, 16000, { ...base, format: 'apd', normalize: 'clip-minmax' });
    assert.equal(Math.min(...mm.data), 0);
    assert.equal(Math.max(...mm.data), 1);
    const bg = computeFeatures(y16, 16000, { ...base, background: { percentile: 50 } });
    assert.ok(Math.min(...bg.data) === 0);
  });
});
