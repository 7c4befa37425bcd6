import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  AugmentationError,
  applyBatch,
  applySpectrogram,
  applyWaveform,
  augmentationFromSpec,
  augmentationNames,
  BackgroundNoise,
  Compose,
  Gain,
  GaussianSNR,
  ImpulseResponse,
  Lighting,
  Mixup,
  OneOf,
  PolarityInversion,
  parseAugmentationConfig,
  registryEntry,
  SomeOf,
  SpecMix,
  SpecTimeMask,
  toSpec,
} from '../../src/augment/index.js';
import { loadAugmentationConfig, prepareAugmentation } from '../../src/augment/node/index.js';
import type { NDArray } from '../../src/core/ndarray.js';
import { Random } from '../../src/core/random.js';
import { assertFinite, gaussian, near } from './helpers.js';

const CONFIGS = join(import.meta.dirname, '../../configs/augment');

/** A spec that builds for every registered name (file-backed ones need a source). */
function minimalSpec(name: string): Record<string, unknown> {
  if (name === 'Compose' || name === 'OneOf' || name === 'SomeOf')
    return { name, transforms: [{ name: 'Gain' }] };
  if (name === 'BackgroundNoise' || name === 'ImpulseResponse') return { name, paths: ['/tmp/a.wav'] };
  return { name };
}

function specBatch(b: number, seed: number): { batch: NDArray; targets: NDArray } {
  const r = new Random(seed);
  const n = 3 * 32 * 32;
  const batch = { data: Float32Array.from({ length: b * n }, () => r.normal()), shape: [b, 3, 32, 32] };
  const targets = new Float32Array(b * 10);
  for (let i = 0; i < b; i++) targets[i * 10 + (i % 10)] = 1;
  return { batch, targets: { data: targets, shape: [b, 10] } };
}

describe('specs and the registry', () => {
  it('every registered augmentation round-trips through its spec, defaults filled in', () => {
    const names = augmentationNames();
    assert.ok(names.length >= 30, `${names.length} names`);
    for (const name of names) {
      const a = augmentationFromSpec(minimalSpec(name));
      assert.equal(a.name, name);
      const spec = toSpec(a);
      assert.equal(spec.name, name);
      assert.equal(typeof spec.p, 'number', `${name} has p`);
      const again = toSpec(augmentationFromSpec(JSON.parse(JSON.stringify(spec))));
      assert.deepEqual(again, JSON.parse(JSON.stringify(spec)), name);
    }
  });

  it('the same spec and seed give the same output; another seed does not', () => {
    const spec = {
      name: 'Compose',
      transforms: [
        { name: 'Gain', p: 0.5 },
        { name: 'GaussianSNR', minSnrDb: 5, maxSnrDb: 30 },
        { name: 'Shift' },
        { name: 'OneOf', transforms: [{ name: 'LowPass' }, { name: 'HighPass' }, { name: 'Reverse' }] },
      ],
    };
    const x = gaussian(4000, 1);
    const a = augmentationFromSpec(spec);
    const b = augmentationFromSpec(JSON.parse(JSON.stringify(toSpec(a))));
    const ya = applyWaveform(a, x, 16000, new Random(42));
    assert.deepEqual(applyWaveform(b, x, 16000, new Random(42)), ya);
    assert.notDeepEqual(applyWaveform(a, x, 16000, new Random(43)), ya);

    const fat = parseAugmentationConfig(
      'name: Compose\ntransforms: [{name: RandomZoomCrop, p: 0.75}, {name: Lighting, p: 0.75}, {name: Mixup}, {name: SpecMix}]',
    );
    const { batch, targets } = specBatch(8, 2);
    const r1 = applyBatch(fat, batch, targets, new Random(7));
    const r2 = applyBatch(fat, batch, targets, new Random(7));
    assert.deepEqual(r1.batch.data, r2.batch.data);
    assert.deepEqual(r1.targets.data, r2.targets.data);
    assert.notDeepEqual(applyBatch(fat, batch, targets, new Random(8)).batch.data, r1.batch.data);
  });

  it('errors name the transform, where it sits, the key and what was expected', () => {
    const cases: [unknown, RegExp][] = [
      [{ name: 'GaussianSNR', minSnrDb: 'loud' }, /^GaussianSNR: minSnrDb: expected a number, got "loud"/],
      [{ name: 'Gain', gainDb: 3 }, /^Gain: gainDb: unknown key \(expected one of p, minGainDb, maxGainDb\)/],
      [
        { name: 'Gain', minGainDb: 6, maxGainDb: 0 },
        /^Gain: maxGainDb: expected maxGainDb ≥ minGainDb \(6\), got 0/,
      ],
      [{ name: 'Gain', p: 2 }, /^Gain: p: expected a number ≤ 1, got 2/],
      [{ name: 'Gian' }, /unknown augmentation "Gian" \(known: Compose, OneOf, SomeOf, Gain,/],
      [{ p: 1 }, /"name" must be the augmentation's name/],
      [
        {
          name: 'Compose',
          transforms: [{ name: 'Gain' }, { name: 'OneOf', transforms: [{ name: 'LowPass', order: 3 }] }],
        },
        /^Compose\.transforms\[1\] \(OneOf\)\.transforms\[0\]: LowPass: order: expected an even order from 2 to 16/,
      ],
      [{ name: 'Compose', transforms: 'Gain' }, /^Compose: "transforms" must be a list/],
      [
        { name: 'Compose', transforms: [{ name: 'Gain' }, { name: 'SpecTimeMask' }] },
        /^Compose: mixes waveform transforms \(Gain\) with spectrogram transforms \(SpecTimeMask\)/,
      ],
      [
        { name: 'SomeOf', n: 3, transforms: [{ name: 'Gain' }] },
        /^SomeOf: n asks for up to 3 transforms but there are 1/,
      ],
      [
        { name: 'OneOf', weights: [1], transforms: [{ name: 'Gain' }, { name: 'Reverse' }] },
        /^OneOf: weights has 1 values/,
      ],
      [{ name: 'SpecTimeMask', maskValue: 'max' }, /^SpecTimeMask: maskValue: /],
    ];
    const messageMatches = (re: RegExp) => (err: unknown) => {
      assert.ok(err instanceof AugmentationError, 'an AugmentationError');
      assert.match(err.message, re);
      return true;
    };
    for (const [spec, re] of cases)
      assert.throws(() => augmentationFromSpec(spec), messageMatches(re), JSON.stringify(spec));
    assert.throws(
      () => parseAugmentationConfig('name: [', { source: 'x.yaml' }),
      messageMatches(/^x\.yaml: not valid YAML/),
    );
  });

  it('flags the slow transforms', () => {
    assert.equal(registryEntry('PitchShift')?.slow, true);
    assert.equal(registryEntry('TimeStretch')?.slow, true);
    assert.equal(registryEntry('Gain')?.slow, false);
  });
});

describe('every registered transform', () => {
  it('keeps shapes and stays finite on small and edge-case inputs', () => {
    const noiseClips = { clips: [gaussian(300, 9)], sampleRate: 8000 };
    const rng = new Random(11);
    for (const name of augmentationNames()) {
      const entry = registryEntry(name);
      if (!entry) continue;
      const a =
        name === 'BackgroundNoise'
          ? new BackgroundNoise({}, noiseClips)
          : name === 'ImpulseResponse'
            ? new ImpulseResponse({}, noiseClips)
            : augmentationFromSpec({ name });
      if (entry.kind === 'waveform') {
        for (const n of [0, 1, 7, 1000]) {
          const x = gaussian(n, n);
          const y = applyWaveform(a, x, 8000, rng);
          assertFinite(y, `${name} on ${n} samples`);
          const want = name === 'RandomCrop' ? 5 * 8000 : n;
          assert.equal(y.length, want, `${name} length on ${n} samples`);
        }
      } else if (entry.kind === 'spectrogram') {
        for (const shape of [
          [1, 1],
          [1, 1, 1],
          [2, 3, 5],
          [2, 1, 4, 64],
        ]) {
          const n = shape.reduce((p, q) => p * q, 1);
          const x = { data: gaussian(n, n), shape };
          const y = applySpectrogram(a, x, rng);
          assert.deepEqual(y.shape, shape, name);
          assertFinite(y.data, `${name} on [${shape}]`);
        }
      } else {
        for (const shape of [
          [1, 1, 1, 1],
          [3, 2, 1, 5],
          [5, 2, 16, 16],
        ]) {
          const n = shape.reduce((p, q) => p * q, 1);
          const b = shape[0]!;
          const batch = { data: gaussian(n, n), shape };
          const targets = { data: new Float32Array(b * 2).fill(0.5), shape: [b, 2] };
          const out = applyBatch(a, batch, targets, rng, { noisy: { batch, targets } });
          assert.deepEqual(out.batch.shape, shape, name);
          assertFinite(out.batch.data, `${name} on [${shape}]`);
          assertFinite(out.targets.data, `${name} targets`);
        }
      }
    }
  });
});

describe('Compose, OneOf, SomeOf', () => {
  const fixed = (db: number) => new Gain({ minGainDb: db, maxGainDb: db });
  const gainOf = (x: Float32Array, y: Float32Array) => 20 * Math.log10(y[0]! / x[0]!);

  it('Compose runs every child in order; p on the pipeline applies to the whole', () => {
    const x = Float32Array.of(1, -0.5, 0.25);
    const y = new Compose([fixed(6), new PolarityInversion()]).apply(x, 8000, new Random(1));
    near(y[0]!, -(10 ** (6 / 20)), 1e-6, 'both ran');
    let ran = 0;
    const half = new Compose([fixed(6)], { p: 0.5 });
    const rng = new Random(2);
    for (let i = 0; i < 400; i++) if (half.apply(x, 8000, rng) !== x) ran++;
    assert.ok(ran > 160 && ran < 240, `${ran} of 400 at p = 0.5`);
  });

  it('OneOf runs exactly one child, by weights', () => {
    const pipe = new OneOf([fixed(1), fixed(2), fixed(4)]);
    const seen = new Set<number>();
    const rng = new Random(3);
    const x = Float32Array.of(0.5);
    for (let i = 0; i < 100; i++) seen.add(Math.round(gainOf(x, pipe.apply(x, 8000, rng))));
    assert.deepEqual([...seen].sort(), [1, 2, 4]);
    const only = new OneOf([fixed(1), fixed(2)], { weights: [0, 1] });
    for (let i = 0; i < 20; i++) near(gainOf(x, only.apply(x, 8000, rng)), 2, 1e-4, 'weighted');
  });

  it('SomeOf runs n distinct children', () => {
    const pipe = new SomeOf([fixed(1), fixed(2), fixed(4)], { n: 2 });
    const x = Float32Array.of(0.5);
    const rng = new Random(4);
    const seen = new Set<number>();
    for (let i = 0; i < 100; i++) seen.add(Math.round(gainOf(x, pipe.apply(x, 8000, rng))));
    assert.deepEqual(
      [...seen].sort((a, b) => a - b),
      [3, 5, 6],
    );
    const range = new SomeOf([fixed(1), fixed(2), fixed(4)], { n: [0, 3] });
    const totals = new Set<number>();
    for (let i = 0; i < 200; i++) totals.add(Math.round(gainOf(x, range.apply(x, 8000, rng))));
    assert.deepEqual(
      [...totals].sort((a, b) => a - b),
      [0, 1, 2, 3, 4, 5, 6, 7],
    );
  });

  it('a spectrogram pipeline on a 4-D batch decides per item', () => {
    const pipe = new Compose([new SpecTimeMask({ maskValue: 'zero', minWidth: 5, maxWidth: 5, count: 1 })], {
      p: 0.5,
    });
    const { batch } = specBatch(64, 1);
    const y = applySpectrogram(pipe, batch, new Random(5));
    const n = 3 * 32 * 32;
    let masked = 0;
    for (let i = 0; i < 64; i++) if (y.data.subarray(i * n, (i + 1) * n).some((v) => v === 0)) masked++;
    assert.ok(masked > 15 && masked < 49, `${masked} of 64 items masked at p = 0.5`);
  });

  it('a batch pipeline runs spectrogram transforms per item and mixers on the batch', () => {
    const pipe = new Compose([new Lighting(), new Mixup(), new SpecMix()]);
    assert.equal(pipe.kind, 'batch');
    const { batch, targets } = specBatch(16, 3);
    const out = pipe.apply(batch, targets, new Random(1));
    assert.deepEqual(out.batch.shape, batch.shape);
    assertFinite(out.batch.data);
    for (let i = 0; i < 16; i++) {
      const s = out.targets.data.subarray(i * 10, (i + 1) * 10).reduce((a, b) => a + b, 0);
      near(s, 1, 1e-5, 'row sum');
    }
  });

  it('waveform transforms run row by row in a waveform batch pipeline (sample rate given)', () => {
    const pipe = new Compose([new GaussianSNR({ minSnrDb: 10, maxSnrDb: 10 }), new Mixup()]);
    const batch = { data: gaussian(4 * 500, 1), shape: [4, 500] };
    const targets = { data: Float32Array.of(1, 0, 0, 1, 1, 0, 0, 1), shape: [4, 2] };
    assert.throws(
      () => pipe.apply(batch, targets, new Random(1)),
      /GaussianSNR: a waveform transform in a batch pipeline needs ctx\.sampleRate/,
    );
    assertFinite(pipe.apply(batch, targets, new Random(1), { sampleRate: 16000 }).batch.data);
  });

  it('kind-checked entry points refuse the wrong input', () => {
    assert.throws(
      () => applyWaveform(new SpecTimeMask(), new Float32Array(10), 8000, new Random(1)),
      /SpecTimeMask: is a spectrogram augmentation/,
    );
    assert.throws(
      () => applySpectrogram(new Gain(), { data: new Float32Array(4), shape: [2, 2] }, new Random(1)),
      /Gain: is a waveform augmentation/,
    );
  });
});

describe('the eval switch', () => {
  it('turns every transform and pipeline into the identity, and train() turns it back on', () => {
    const x = gaussian(1000, 1);
    for (const name of augmentationNames()) {
      const entry = registryEntry(name);
      if (entry && entry.kind !== 'waveform') continue;
      const spec = minimalSpec(name);
      if (name === 'BackgroundNoise' || name === 'ImpulseResponse') continue;
      const a = augmentationFromSpec(spec, { training: false });
      assert.equal(a.enabled, false, name);
      assert.equal(applyWaveform(a, x, 16000, new Random(1)), x, `${name} in eval`);
    }
    const pipe = augmentationFromSpec({
      name: 'Compose',
      transforms: [{ name: 'Gain' }, { name: 'Reverse' }],
    });
    pipe.eval();
    assert.equal(applyWaveform(pipe, x, 16000, new Random(1)), x);
    pipe.train();
    assert.notDeepEqual(applyWaveform(pipe, x, 16000, new Random(1)), x);

    const spec = new Compose([new SpecTimeMask(), new Lighting(), new Mixup()]).eval();
    const { batch, targets } = specBatch(4, 1);
    const out = spec.apply(batch, targets, new Random(1));
    assert.equal(out.batch, batch);
    assert.equal(out.targets, targets);
    assert.equal(new SpecTimeMask().eval().apply(batch, new Random(1)), batch);
  });
});

describe('shipped configs', () => {
  it('every configs/augment/*.yaml builds and survives a spec round trip', async () => {
    const files = readdirSync(CONFIGS).filter((f) => f.endsWith('.yaml'));
    assert.ok(files.length >= 3);
    for (const f of files) {
      const a = await loadAugmentationConfig(join(CONFIGS, f));
      const spec = toSpec(a);
      assert.deepEqual(toSpec(augmentationFromSpec(spec)), spec, f);
    }
  });

  it('fat2019-8th augments a [64, 3, 128, 128] batch with targets that sum to 1', async () => {
    const a = await loadAugmentationConfig(join(CONFIGS, 'fat2019-8th.yaml'));
    assert.equal(a.kind, 'batch');
    const r = new Random(1);
    const b = 64;
    const batch = {
      data: Float32Array.from({ length: b * 3 * 128 * 128 }, () => r.normal()),
      shape: [b, 3, 128, 128],
    };
    const targets = new Float32Array(b * 80);
    for (let i = 0; i < b; i++) targets[i * 80 + r.int(0, 80)] = 1;
    const out = applyBatch(a, batch, { data: targets, shape: [b, 80] }, new Random(2));
    assertFinite(out.batch.data);
    for (let i = 0; i < b; i++)
      near(
        out.targets.data.subarray(i * 80, (i + 1) * 80).reduce((s, v) => s + v, 0),
        1,
        1e-5,
        'row sum',
      );
  });

  it('the speech pipeline loads its ESC-10 background noise and runs on an FSDD digit', async () => {
    const a = await loadAugmentationConfig(join(CONFIGS, 'speech-waveform.yaml'));
    assert.equal(a.kind, 'waveform');
    await prepareAugmentation(a, 8000);
    const { loadAudio } = await import('../../src/audio/index.js');
    const digit = (
      await loadAudio(join(import.meta.dirname, '../../../shared/data/fsdd/audio/0_jackson_0.wav'))
    ).channels[0]!;
    const rng = new Random(3);
    for (let i = 0; i < 5; i++) {
      const y = applyWaveform(a, digit, 8000, rng);
      assert.equal(y.length, digit.length);
      assertFinite(y);
      assert.ok(Math.max(...Array.from(y, Math.abs)) <= 1);
    }
  });
});
