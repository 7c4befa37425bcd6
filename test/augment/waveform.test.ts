import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { meanSquare } from '../../src/augment/dsp.js';
import { fft } from '../../src/augment/fft.js';
import {
  BackgroundNoise,
  Clip,
  ClippingDistortion,
  ColoredNoise,
  coloredNoise,
  Gain,
  GaussianNoise,
  GaussianSNR,
  NOISE_COLORS,
  PolarityInversion,
  RandomCrop,
  Reverse,
  Shift,
  TimeMask,
} from '../../src/augment/waveform.js';
import { Random } from '../../src/core/random.js';
import { assertFinite, gaussian, near, real } from './helpers.js';

const runs = { numRuns: 25 };
const seedArb = fc.integer({ min: 0, max: 2 ** 31 - 1 });
const rateArb = fc.constantFrom(8000, 16000, 22050, 44100);

/** Measured SNR in dB of y against the clean x. */
function measuredSnr(x: Float32Array, y: Float32Array): number {
  let ps = 0;
  let pn = 0;
  for (let i = 0; i < x.length; i++) {
    ps += x[i]! * x[i]!;
    pn += (y[i]! - x[i]!) ** 2;
  }
  return 10 * Math.log10(ps / pn);
}

describe('Gain', () => {
  it('scales every sample by one factor inside the dB range', () => {
    fc.assert(
      fc.property(seedArb, real(-30, 30), real(0, 20), (seed, lo, span) => {
        const x = gaussian(500, seed);
        const g = new Gain({ minGainDb: lo, maxGainDb: lo + span });
        const y = g.forward(x, 16000, new Random(seed));
        assert.equal(y.length, x.length);
        assertFinite(y);
        const ratio = y[0]! / x[0]!;
        const gainDb = 20 * Math.log10(ratio);
        assert.ok(
          gainDb >= lo - 1e-4 && gainDb <= lo + span + 1e-4,
          `gain ${gainDb} dB outside [${lo}, ${lo + span}]`,
        );
        for (let i = 0; i < x.length; i++) near(y[i]! / x[i]!, ratio, 1e-6 * ratio, `ratio at ${i}`);
      }),
      runs,
    );
  });

  it('is exact for a fixed gain', () => {
    const x = gaussian(1000, 1);
    const y = new Gain({ minGainDb: -6, maxGainDb: -6 }).forward(x, 8000, new Random(0));
    const g = 10 ** (-6 / 20);
    for (let i = 0; i < x.length; i++) assert.equal(y[i], Math.fround(x[i]! * g));
  });
});

describe('noise', () => {
  it('GaussianNoise adds noise of a standard deviation inside the amplitude range', () => {
    fc.assert(
      fc.property(seedArb, real(0.001, 0.1), (seed, a) => {
        const x = gaussian(8000, seed);
        const y = new GaussianNoise({ minAmplitude: a, maxAmplitude: 2 * a }).forward(
          x,
          8000,
          new Random(seed),
        );
        assertFinite(y);
        const res = Float32Array.from(y, (v, i) => v - x[i]!);
        const std = Math.sqrt(meanSquare(res));
        assert.ok(std > a * 0.95 && std < 2 * a * 1.05, `noise std ${std} outside [${a}, ${2 * a}]`);
      }),
      runs,
    );
  });

  it('GaussianSNR hits the asked SNR within 0.1 dB', () => {
    fc.assert(
      fc.property(seedArb, rateArb, real(-10, 60), (seed, sr, snr) => {
        const x = gaussian(2000, seed, 0.2);
        const y = new GaussianSNR({ minSnrDb: snr, maxSnrDb: snr }).forward(x, sr, new Random(seed + 1));
        assertFinite(y);
        near(measuredSnr(x, y), snr, 0.1, 'SNR');
      }),
      runs,
    );
  });

  it('GaussianSNR draws the SNR inside its range', () => {
    fc.assert(
      fc.property(seedArb, real(0, 40), (seed, lo) => {
        const x = gaussian(2000, seed);
        const y = new GaussianSNR({ minSnrDb: lo, maxSnrDb: lo + 10 }).forward(x, 16000, new Random(seed));
        const s = measuredSnr(x, y);
        assert.ok(s > lo - 0.1 && s < lo + 10.1, `SNR ${s} outside [${lo}, ${lo + 10}]`);
      }),
      runs,
    );
  });

  it('noise leaves a silent clip silent (no SNR can be met)', () => {
    const y = new GaussianSNR().forward(new Float32Array(100), 8000, new Random(1));
    assert.deepEqual(y, new Float32Array(100));
  });

  it('coloredNoise has the asked spectral slope (dB per octave)', () => {
    for (const [color, slope] of Object.entries(NOISE_COLORS)) {
      const n = 1 << 16;
      const x = coloredNoise(n, slope, new Random(7));
      // Welch-style average of 256-sample periodograms, then a least-squares line of dB against octaves.
      const seg = 256;
      const psd = new Float64Array(seg / 2);
      for (let s = 0; s + seg <= n; s += seg) {
        const re = new Float64Array(seg);
        const im = new Float64Array(seg);
        for (let i = 0; i < seg; i++) re[i] = x[s + i]! * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / seg));
        fft(re, im);
        for (let k = 0; k < seg / 2; k++) psd[k] = psd[k]! + re[k]! ** 2 + im[k]! ** 2;
      }
      const xs: number[] = [];
      const ys: number[] = [];
      for (let k = 4; k < seg / 2 - 4; k++) {
        xs.push(Math.log2(k));
        ys.push(10 * Math.log10(psd[k]!));
      }
      const mx = xs.reduce((a, b) => a + b) / xs.length;
      const my = ys.reduce((a, b) => a + b) / ys.length;
      let num = 0;
      let den = 0;
      for (let i = 0; i < xs.length; i++) {
        num += (xs[i]! - mx) * (ys[i]! - my);
        den += (xs[i]! - mx) ** 2;
      }
      near(num / den, slope, 0.35, `${color} slope`);
    }
  });

  it('ColoredNoise hits the asked SNR within 0.1 dB for every colour', () => {
    for (const color of ['white', 'pink', 'brown', 'blue', 'violet'] as const) {
      const x = gaussian(3000, 3);
      const y = new ColoredNoise({ color, minSnrDb: 12, maxSnrDb: 12 }).forward(x, 16000, new Random(4));
      assertFinite(y);
      near(measuredSnr(x, y), 12, 0.1, `${color} SNR`);
    }
  });
});

describe('BackgroundNoise (in-memory clips)', () => {
  it('mixes an excerpt of one of the clips at the asked SNR', () => {
    const noises = [gaussian(500, 11), gaussian(5000, 12)];
    fc.assert(
      fc.property(seedArb, real(-5, 40), (seed, snr) => {
        const x = gaussian(1200, seed);
        const t = new BackgroundNoise({ minSnrDb: snr, maxSnrDb: snr }, { clips: noises, sampleRate: 16000 });
        const y = t.forward(x, 16000, new Random(seed));
        assertFinite(y);
        near(measuredSnr(x, y), snr, 0.1, 'SNR');
        // The residual is a scaled, possibly looped, excerpt of one noise clip.
        const res = Float64Array.from(y, (v, i) => v - x[i]!);
        const found = noises.some((nz) => {
          for (let off = 0; off < nz.length; off++) {
            const scale = res[0]! / nz[off]!;
            let ok = true;
            for (let i = 1; i < 50 && ok; i++)
              ok = Math.abs(res[i]! - scale * nz[(off + i) % nz.length]!) < 1e-4;
            if (ok) return true;
          }
          return false;
        });
        assert.ok(found, 'the added noise is not an excerpt of any noise clip');
      }),
      { numRuns: 10 },
    );
  });

  it('resamples in-memory clips given at another rate', () => {
    const t = new BackgroundNoise(
      { minSnrDb: 10, maxSnrDb: 10 },
      { clips: [gaussian(8000, 1)], sampleRate: 8000 },
    );
    const x = gaussian(16000, 2);
    const y = t.forward(x, 16000, new Random(1));
    near(measuredSnr(x, y), 10, 0.1, 'SNR');
  });

  it('says how to load files when a file-backed transform was not prepared', () => {
    const t = new BackgroundNoise({ folder: '/nowhere' });
    assert.throws(() => t.forward(new Float32Array(10), 16000, new Random(1)), /BackgroundNoise: .*prepare/);
  });

  it('needs paths, a folder or clips', () => {
    assert.throws(() => new BackgroundNoise({}), /BackgroundNoise: give "paths".*or "folder"/);
  });
});

describe('time transforms', () => {
  const ramp = (n: number) => Float32Array.from({ length: n }, (_, i) => i + 1);

  it('Shift with rollover rotates the clip by an amount inside the range', () => {
    fc.assert(
      fc.property(seedArb, fc.integer({ min: 2, max: 400 }), (seed, n) => {
        const x = ramp(n);
        const y = new Shift({ minShift: -0.3, maxShift: 0.3 }).forward(x, 8000, new Random(seed));
        const k = ((y.indexOf(1) % n) + n) % n;
        const signed = k > n / 2 ? k - n : k;
        assert.ok(Math.abs(signed) <= Math.round(0.3 * n) + 1, `shift ${signed} outside ±0.3·${n}`);
        for (let i = 0; i < n; i++) assert.equal(y[(i + k) % n], x[i]);
      }),
      runs,
    );
  });

  it('Shift without rollover zero-fills, in seconds', () => {
    const x = ramp(100);
    const y = new Shift({ minShift: 0.01, maxShift: 0.01, unit: 'seconds', rollover: false }).forward(
      x,
      1000,
      new Random(1),
    );
    assert.deepEqual(Array.from(y.subarray(0, 10)), new Array(10).fill(0));
    assert.deepEqual(Array.from(y.subarray(10)), Array.from(x.subarray(0, 90)));
    const z = new Shift({ minShift: -5, maxShift: -5, unit: 'samples', rollover: false }).forward(
      x,
      1000,
      new Random(1),
    );
    assert.deepEqual(Array.from(z.subarray(0, 95)), Array.from(x.subarray(5)));
    assert.deepEqual(Array.from(z.subarray(95)), [0, 0, 0, 0, 0]);
  });

  it('TimeMask silences one band of the asked width and leaves the rest', () => {
    fc.assert(
      fc.property(seedArb, real(0, 0.5), fc.boolean(), (seed, lo, fade) => {
        const n = 1000;
        const x = new Float32Array(n).fill(1);
        const y = new TimeMask({ minFraction: lo, maxFraction: lo + 0.2, fade, fadeSeconds: 0.01 }).forward(
          x,
          1000,
          new Random(seed),
        );
        const changed = [...y.keys()].filter((i) => y[i] !== 1);
        const width = changed.length ? changed[changed.length - 1]! - changed[0]! + 1 : 0;
        assert.equal(width, changed.length, 'the band is contiguous');
        assert.ok(width <= Math.round((lo + 0.2) * n), `width ${width} above the range`);
        // Without fade every masked sample is 0; with fade only the ramps (10 samples each side) are not.
        const zeros = changed.filter((i) => y[i] === 0).length;
        if (!fade) {
          assert.equal(zeros, width);
          assert.ok(width >= Math.round(lo * n), `width ${width} below the range`);
        } else {
          assert.ok(width - zeros <= 20, `${width - zeros} faded samples, at most 20 expected`);
          for (const i of changed) assert.ok(y[i]! >= 0 && y[i]! < 1);
        }
      }),
      runs,
    );
  });

  it('PolarityInversion and Reverse are exact', () => {
    const x = gaussian(50, 3);
    assert.deepEqual(
      new PolarityInversion().forward(x),
      Float32Array.from(x, (v) => -v),
    );
    assert.deepEqual(new Reverse().forward(x), x.slice().reverse());
  });

  it('RandomCrop cuts a contiguous window of the asked duration', () => {
    fc.assert(
      fc.property(seedArb, fc.integer({ min: 1, max: 5000 }), (seed, n) => {
        const x = ramp(n);
        const y = new RandomCrop({ duration: 1 }).forward(x, 1000, new Random(seed));
        assert.equal(y.length, 1000);
        const nz = [...y.keys()].filter((i) => y[i] !== 0);
        // The clip's samples appear once, in order, consecutively.
        for (let k = 1; k < nz.length; k++) {
          assert.equal(nz[k], nz[k - 1]! + 1);
          assert.equal(y[nz[k]!], y[nz[k - 1]!]! + 1);
        }
        assert.equal(nz.length, Math.min(n, 1000));
      }),
      runs,
    );
  });

  it('RandomCrop follows per-second weights', () => {
    const sr = 100;
    const x = ramp(20 * sr);
    const crop = new RandomCrop({ duration: 5 });
    // Only second 12 has weight: the window starts on a second in [8, 12].
    const w = new Array(20).fill(0);
    w[12] = 1;
    const counts = new Map<number, number>();
    const rng = new Random(5);
    for (let r = 0; r < 400; r++) {
      const y = crop.forward(x, sr, rng, { secondWeights: w });
      const start = y[0]! - 1;
      assert.equal(start % sr, 0, 'starts on a whole second');
      const s = start / sr;
      assert.ok(s >= 8 && s <= 12, `start second ${s}`);
      counts.set(s, (counts.get(s) ?? 0) + 1);
    }
    assert.equal(counts.size, 5, 'every window holding second 12 is used');
    // All weight on second 0: only the first window contains it.
    const first = crop.forward(x, sr, new Random(1), { secondWeights: [1, ...new Array(19).fill(0)] });
    assert.equal(first[0], 1);
    assert.throws(
      () => crop.forward(x, sr, rng, { secondWeights: [1, 2] }),
      /RandomCrop: secondWeights has 2 values/,
    );
  });

  it('RandomCrop repeats a short clip when asked', () => {
    const y = new RandomCrop({ duration: 0.01, pad: 'repeat' }).forward(ramp(3), 1000, new Random(1));
    assert.deepEqual(Array.from(y), [1, 2, 3, 1, 2, 3, 1, 2, 3, 1]);
  });
});

describe('clipping', () => {
  it('ClippingDistortion clips the asked share of samples at a percentile threshold', () => {
    fc.assert(
      fc.property(seedArb, real(0, 60), (seed, q) => {
        const n = 2000;
        const x = gaussian(n, seed);
        const y = new ClippingDistortion({ minPercentile: q, maxPercentile: q }).forward(
          x,
          8000,
          new Random(seed),
        );
        const t = Math.max(...Array.from(y, Math.abs));
        const clipped = Array.from(x).filter((v) => Math.abs(v) > t).length;
        assert.ok(Math.abs(clipped - (q / 100) * n) <= 1, `${clipped} clipped, ${(q / 100) * n} expected`);
        for (let i = 0; i < n; i++) if (Math.abs(x[i]!) <= t) assert.equal(y[i], x[i]);
      }),
      runs,
    );
  });

  it('Clip bounds samples by maxAbs', () => {
    const x = Float32Array.from([-3, -0.5, 0, 0.5, 3]);
    assert.deepEqual(Array.from(new Clip({ maxAbs: 1 }).forward(x)), [-1, -0.5, 0, 0.5, 1]);
  });
});
