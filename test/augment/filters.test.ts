import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { biquad, butterworthQs, cascadeGain, readFractional } from '../../src/augment/dsp.js';
import { fftConvolve } from '../../src/augment/fft.js';
import { timeStretch } from '../../src/augment/vocoder.js';
import {
  BandPass,
  HighPass,
  ImpulseResponse,
  LowPass,
  PitchShift,
  TimeStretch,
} from '../../src/augment/waveform.js';
import { Random } from '../../src/core/random.js';
import { assertFinite, db, dominantFrequency, gaussian, near, real, rms, sine } from './helpers.js';

/** Gain in dB of a transform on a sine, measured after the filter has settled (second half). */
function measuredGainDb(
  t: { forward(x: Float32Array, sr: number, rng: Random): Float32Array },
  f: number,
  sr: number,
): number {
  const x = sine(f, sr, 0.5);
  const y = t.forward(x, sr, new Random(1));
  assertFinite(y);
  const h = Math.floor(x.length / 2);
  return db(rms(y, h) / rms(x, h));
}

describe('Butterworth low/high-pass', () => {
  it('section Qs are the Butterworth ones', () => {
    near(butterworthQs(2)[0]!, Math.SQRT1_2, 1e-12, 'order 2');
    const q4 = butterworthQs(4);
    near(q4[0]!, 0.5411961, 1e-6, 'order 4 a');
    near(q4[1]!, 1.306563, 1e-6, 'order 4 b');
  });

  it('low-pass: 0 dB well below the cutoff, −3 dB at it, 6·order dB/octave above', () => {
    fc.assert(
      fc.property(fc.constantFrom(16000, 44100), real(200, 1500), fc.constantFrom(2, 4), (sr, fc0, order) => {
        const t = new LowPass({ minCutoffHz: fc0, maxCutoffHz: fc0, order });
        near(measuredGainDb(t, fc0 / 8, sr), 0, 0.1, 'passband');
        near(measuredGainDb(t, fc0, sr), -3.01, 0.15, 'cutoff');
        // Butterworth: |H(2f)|² = 1 / (1 + 2^(2·order)); the bilinear transform only adds attenuation.
        const ideal = -10 * Math.log10(1 + 4 ** order);
        const stop = measuredGainDb(t, 2 * fc0, sr);
        assert.ok(stop <= ideal + 0.3, `at 2·fc: ${stop} dB, at most ${ideal} dB expected`);
      }),
      { numRuns: 12 },
    );
  });

  it('high-pass: the mirror image', () => {
    fc.assert(
      fc.property(fc.constantFrom(8000, 22050), real(150, 800), (sr, fc0) => {
        const t = new HighPass({ minCutoffHz: fc0, maxCutoffHz: fc0, order: 2 });
        near(measuredGainDb(t, Math.min(8 * fc0, 0.4 * sr), sr), 0, 0.3, 'passband');
        near(measuredGainDb(t, fc0, sr), -3.01, 0.15, 'cutoff');
        assert.ok(measuredGainDb(t, fc0 / 2, sr) <= -12.3 + 0.3, 'an octave below: ≥ 12 dB down');
      }),
      { numRuns: 12 },
    );
  });

  it('measured response equals the designed one', () => {
    const sr = 16000;
    const sections = butterworthQs(4).map((q) => biquad('lowpass', 1000, sr, q));
    const t = new LowPass({ minCutoffHz: 1000, maxCutoffHz: 1000, order: 4 });
    for (const f of [100, 500, 900, 1000, 1300, 2000, 3000]) {
      near(measuredGainDb(t, f, sr), db(cascadeGain(sections, f, sr)), 0.1, `${f} Hz`);
    }
  });

  it('keeps cutoffs below Nyquist whatever the range', () => {
    const y = new LowPass({ minCutoffHz: 7000, maxCutoffHz: 9000 }).forward(
      gaussian(800, 1),
      8000,
      new Random(1),
    );
    assertFinite(y);
  });
});

describe('BandPass', () => {
  it('passes the centre at 0 dB and is 3 dB down at the band edges', () => {
    fc.assert(
      fc.property(real(300, 2000), real(0.5, 1.5), (f0, frac) => {
        const sr = 44100;
        const t = new BandPass({
          minCenterHz: f0,
          maxCenterHz: f0,
          minBandwidthFraction: frac,
          maxBandwidthFraction: frac,
        });
        near(measuredGainDb(t, f0, sr), 0, 0.1, 'centre');
        // Edges of an analogue band-pass of Q = 1/frac: f_hi − f_lo = frac·f0, f_hi·f_lo = f0².
        const bw = frac * f0;
        const hi = bw / 2 + Math.sqrt((bw * bw) / 4 + f0 * f0);
        near(measuredGainDb(t, hi, sr), -3.01, 0.5, 'upper edge');
        near(measuredGainDb(t, (f0 * f0) / hi, sr), -3.01, 0.5, 'lower edge');
        assert.ok(measuredGainDb(t, f0 * 8, sr) < -9, 'three octaves above is attenuated');
        assert.ok(measuredGainDb(t, f0 / 8, sr) < -9, 'three octaves below is attenuated');
      }),
      { numRuns: 10 },
    );
  });
});

describe('ImpulseResponse', () => {
  it('FFT convolution equals direct convolution', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer(),
        (n, m, seed) => {
          const x = gaussian(n, seed);
          const h = gaussian(m, seed + 1);
          const y = fftConvolve(x, h);
          assert.equal(y.length, n + m - 1);
          for (let k = 0; k < y.length; k++) {
            let s = 0;
            for (let i = 0; i < n; i++) if (k - i >= 0 && k - i < m) s += x[i]! * h[k - i]!;
            near(y[k]!, s, 1e-9, `y[${k}]`);
          }
        },
      ),
      { numRuns: 30 },
    );
  });

  it('a delta IR is the identity, a delayed delta a delay; length is kept', () => {
    const x = gaussian(300, 2);
    const id = new ImpulseResponse({}, { clips: [Float32Array.of(1)], sampleRate: 8000 });
    const y = id.forward(x, 8000, new Random(1));
    for (let i = 0; i < x.length; i++) near(y[i]!, x[i]!, 1e-6, `y[${i}]`);
    const delayed = new ImpulseResponse(
      { gain: 'none' },
      { clips: [Float32Array.of(0, 0, 0, 0.5)], sampleRate: 8000 },
    );
    const z = delayed.forward(x, 8000, new Random(1));
    assert.equal(z.length, x.length);
    for (let i = 0; i < x.length; i++) near(z[i]!, i < 3 ? 0 : 0.5 * x[i - 3]!, 1e-6, `z[${i}]`);
  });

  it('gain "rms" keeps the clip\'s RMS', () => {
    const x = gaussian(2000, 4);
    const ir = Float32Array.from(gaussian(400, 5), (v, i) => v * Math.exp(-i / 80));
    const y = new ImpulseResponse({}, { clips: [ir], sampleRate: 16000 }).forward(x, 16000, new Random(1));
    near(rms(y), rms(x), 1e-4, 'rms');
  });
});

describe('fractional reading, time stretch and pitch shift (phase vocoder)', () => {
  it('readFractional at step 1 is the identity and keeps a slow sine at other steps', () => {
    const x = sine(100, 8000, 0.2);
    const same = readFractional(x, 1, x.length);
    for (let i = 0; i < x.length; i++) near(same[i]!, x[i]!, 1e-5, `same[${i}]`);
    const fast = readFractional(x, 1.5, 800);
    for (let k = 100; k < 700; k++)
      near(fast[k]!, 0.5 * Math.sin((2 * Math.PI * 100 * 1.5 * k) / 8000), 2e-3, `fast[${k}]`);
  });

  it('TimeStretch changes the length by 1/rate and keeps the pitch', () => {
    const sr = 16000;
    for (const rate of [0.8, 1.25]) {
      const x = sine(440, sr, 1);
      const y = new TimeStretch({ minRate: rate, maxRate: rate, keepLength: false }).forward(
        x,
        sr,
        new Random(1),
      );
      assert.equal(y.length, Math.round(x.length / rate));
      assertFinite(y);
      near(dominantFrequency(y, sr), 440, 440 * 0.01, `pitch at rate ${rate}`);
      near(rms(y, 2000, y.length - 2000), rms(x), 0.05, 'level');
    }
    const kept = new TimeStretch({ minRate: 1.2, maxRate: 1.2 }).forward(
      sine(440, sr, 0.5),
      sr,
      new Random(1),
    );
    assert.equal(kept.length, 8000);
  });

  it('timeStretch at rate 1 reconstructs the clip', () => {
    const x = gaussian(4000, 9);
    const y = timeStretch(x, 1, 256);
    for (let i = 0; i < x.length; i++) near(y[i]!, x[i]!, 1e-4, `y[${i}]`);
  });

  it('PitchShift moves a sine by the asked semitones and keeps the length', () => {
    const sr = 16000;
    for (const st of [12, -5, 3.5]) {
      const x = sine(440, sr, 1);
      const y = new PitchShift({ minSemitones: st, maxSemitones: st }).forward(x, sr, new Random(1));
      assert.equal(y.length, x.length);
      assertFinite(y);
      const want = 440 * 2 ** (st / 12);
      near(dominantFrequency(y, sr), want, want * 0.01, `${st} semitones`);
    }
  });
});
