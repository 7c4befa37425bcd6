// MFCC/DCT, deltas, PCEN and the gammatone front-end: properties and hand-derived values (the agreement
// with SciPy/NumPy references is in reference.test.ts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  dct,
  dctMatrix,
  delta,
  erb,
  gammatoneCenters,
  gammatoneFilterbank,
  gammatoneSpectrogram,
  gtcc,
  hzToErbRate,
  mfcc,
  pcen,
  pcenSmoothing,
  savgolWeights,
} from '../../src/features/index.js';
import { testSignal } from './helpers.js';

const nd = (data: number[], shape: number[]) => ({ data: Float32Array.from(data), shape });

describe('DCT and MFCC', () => {
  test('the DCT-II matrix is orthonormal', () => {
    const n = 13;
    const d = dctMatrix(n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += d[i * n + k]! * d[j * n + k]!;
        assert.ok(Math.abs(s - (i === j ? 1 : 0)) < 1e-12, `(${i},${j}) ${s}`);
      }
  });

  test('a flat log spectrum has only c0 = √n·level; lifter scales c_k by 1 + L/2·sin(π(k+1)/L)', () => {
    const rows = 40;
    const S = nd(new Array(rows * 2).fill(-20), [rows, 2]);
    const m = mfcc(S, { nMfcc: 13 });
    assert.deepEqual(m.shape, [13, 2]);
    assert.ok(Math.abs(m.data[0]! - -20 * Math.sqrt(rows)) < 1e-4);
    for (let k = 1; k < 13; k++) assert.ok(Math.abs(m.data[k * 2]!) < 1e-4);
    const x = nd(
      Array.from({ length: rows }, (_, i) => Math.sin(i)),
      [rows, 1],
    );
    const plain = mfcc(x, { nMfcc: 5 });
    const lift = mfcc(x, { nMfcc: 5, lifter: 22 });
    for (let k = 0; k < 5; k++) {
      const g = 1 + 11 * Math.sin((Math.PI * (k + 1)) / 22);
      assert.ok(Math.abs(lift.data[k]! - plain.data[k]! * g) < 1e-4);
    }
    assert.throws(() => mfcc(S, { nMfcc: 41 }), /nMfcc must be an integer in \[1, 40\]/);
    assert.deepEqual(dct(x, 3).shape, [3, 1]);
  });
});

describe('delta (Savitzky-Golay)', () => {
  test('width 9, order 1 weights are n/60 for n = −4..4', () => {
    const w = savgolWeights(9, 1, 1, 4);
    w.forEach((v, j) => {
      assert.ok(Math.abs(v - (j - 4) / 60) < 1e-12);
    });
  });

  test('general weights: smoothing (deriv 0) at the centre and at the edge of a quadratic fit', () => {
    // scipy.signal.savgol_coeffs(5, 2) = [−3, 12, 17, 12, −3]/35; the fit evaluated at the first sample
    // (what mode='interp' uses at the edges) is [31, 9, −3, −5, 3]/35.
    const mid = savgolWeights(5, 2, 0, 2);
    const edge = savgolWeights(5, 2, 0, 0);
    [-3, 12, 17, 12, -3].forEach((v, j) => {
      assert.ok(Math.abs(mid[j]! - v / 35) < 1e-12);
    });
    [31, 9, -3, -5, 3].forEach((v, j) => {
      assert.ok(Math.abs(edge[j]! - v / 35) < 1e-12);
    });
  });

  test('the slope of a ramp and the curvature of a parabola, edges included (interp)', () => {
    const T = 20;
    const ramp = nd(
      Array.from({ length: T }, (_, t) => 3 * t - 5),
      [1, T],
    );
    for (const v of delta(ramp).data) assert.ok(Math.abs(v - 3) < 1e-4);
    const para = nd(
      Array.from({ length: T }, (_, t) => 0.5 * t * t - t),
      [1, T],
    );
    for (const v of delta(para, { order: 2 }).data) assert.ok(Math.abs(v - 1) < 1e-4);
    const d1 = delta(para, { order: 1 });
    for (let t = 4; t < T - 4; t++) assert.ok(Math.abs(d1.data[t]! - (t - 1)) < 1e-4);
  });

  test('rows are independent; other modes pad instead of fitting; bad widths fail', () => {
    const T = 12;
    const x = nd(
      [...Array.from({ length: T }, (_, t) => t), ...Array.from({ length: T }, (_, t) => -2 * t)],
      [2, T],
    );
    const d = delta(x, { mode: 'nearest', width: 5 });
    assert.ok(Math.abs(d.data[6]! - 1) < 1e-5 && Math.abs(d.data[T + 6]! + 2) < 1e-5);
    // 'nearest' repeats the edge, so the first slope is flattened: (−2·0 −1·0 + 0 + 1 + 2·2)/10 = 0.5
    assert.ok(Math.abs(d.data[0]! - 0.5) < 1e-6);
    assert.throws(() => delta(x, { width: 4 }), /odd integer/);
    assert.throws(() => delta(x, { width: 13 }), /cannot exceed the number of frames \(12\)/);
  });
});

describe('PCEN', () => {
  test('b from the time constant, and the steady state of a constant input', () => {
    const b = pcenSmoothing(0.4, 22050, 512);
    const T = (0.4 * 22050) / 512;
    assert.ok(Math.abs(b - (Math.sqrt(1 + 4 * T * T) - 1) / (2 * T * T)) < 1e-15);
    // With S = 1 everywhere, the smoother starts (and stays) at 1: P = δ^r·((1·(ε+1)^−α/δ + 1)^r − 1).
    const S = nd(new Array(50).fill(1), [1, 50]);
    const p = pcen(S);
    const g = (1e-6 + 1) ** -0.98;
    const expected = Math.sqrt(2) * (Math.sqrt(g / 2 + 1) - 1);
    for (const v of p.data) assert.ok(Math.abs(v - expected) < 1e-6);
    assert.throws(() => pcen(nd([1, -1], [1, 2])), /non-negative/);
    assert.throws(() => pcen(S, { b: 2 }), /b must be in \(0, 1\]/);
  });

  test('a loud onset is emphasised, then adapted to', () => {
    const x = nd([...new Array(40).fill(1), ...new Array(200).fill(1000)], [1, 240]);
    const p = pcen(x, { sampleRate: 16000, hopLength: 160 });
    assert.ok(p.data[41]! > 5 * p.data[239]!, `${p.data[41]} vs ${p.data[239]}`);
  });
});

describe('gammatone front-end', () => {
  test('filters peak at their ERB-spaced centres with the 4th-order −3 dB width 0.87·b', () => {
    const sr = 16000;
    const nFft = 16384;
    const fb = gammatoneFilterbank({ sampleRate: sr, nFft, nBands: 20, fmin: 100, fmax: 6000 });
    const centres = gammatoneCenters(20, 100, 6000);
    const e = centres.map(hzToErbRate);
    for (let i = 1; i < 20; i++) assert.ok(Math.abs(e[i]! - e[i - 1]! - (e[1]! - e[0]!)) < 1e-9);
    const bins = fb.shape[1]!;
    const m = 12;
    const fc = centres[m]!;
    let best = 0;
    for (let k = 0; k < bins; k++) if (fb.data[m * bins + k]! > fb.data[m * bins + best]!) best = k;
    assert.ok(Math.abs((best * sr) / nFft - fc) <= sr / nFft);
    // Half-power points: (1 + x²)^−4 = ½ → x = √(2^¼ − 1) ≈ 0.4349, so the width is 0.8698·b.
    let width = 0;
    for (let k = 0; k < bins; k++) if (fb.data[m * bins + k]! >= 0.5) width += sr / nFft;
    const b = 1.019 * erb(fc);
    assert.ok(Math.abs(width - 0.8698 * b) < 2 * (sr / nFft), `width ${width} vs ${0.8698 * b}`);
  });

  test('gammatone spectrogram and GTCC shapes', () => {
    const y = testSignal(16000, 16000);
    const g = gammatoneSpectrogram(y, { sampleRate: 16000, nFft: 512, hopLength: 160, nBands: 32 });
    assert.deepEqual(g.shape, [32, 101]);
    const c = gtcc({ data: g.data.map((v) => 10 * Math.log10(v + 1e-10)), shape: g.shape }, 13);
    assert.deepEqual(c.shape, [13, 101]);
    assert.throws(() => gtcc(g, 33), /nCoeffs/);
  });
});
