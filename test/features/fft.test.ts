import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ComplexFFT, naiveDft, RealFFT } from '../../src/features/fft.js';

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>, n = a.length): number {
  let e = 0;
  for (let i = 0; i < n; i++) e = Math.max(e, Math.abs(a[i]! - b[i]!));
  return e;
}

function signal(n: number, seed: number): Float64Array {
  return Float64Array.from(
    { length: n },
    (_, i) => Math.sin(i * 1.37 + seed) + ((i * 7 + seed) % 11) / 11 - 0.5,
  );
}

// Sizes covering every radix (2, 3, 4, 5, 8), their mixes, primes and prime-bearing sizes (Bluestein),
// and the fat2019 n_fft.
const SIZES = [
  1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15, 16, 17, 20, 24, 25, 27, 30, 32, 40, 45, 49, 60, 64, 97, 100, 120,
  125, 128, 243, 256, 347, 500, 509, 512, 1000, 1001, 1024, 1234, 2560,
];

describe('ComplexFFT', () => {
  for (const n of SIZES) {
    test(`size ${n} matches the direct DFT and inverts`, () => {
      const x = signal(2 * n, n);
      const ref = naiveDft(x);
      const y = x.slice();
      new ComplexFFT(n).forward(y);
      assert.ok(maxDiff(y, ref) < 1e-10 * Math.max(1, n), `forward error ${maxDiff(y, ref)}`);
      new ComplexFFT(n).inverse(y);
      assert.ok(maxDiff(y, x) < 1e-12 * Math.max(1, n), `round trip error ${maxDiff(y, x)}`);
    });
  }

  test('Parseval and linearity hold for random sizes and data (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 0, max: 1000 }), (n, seed) => {
        const x = signal(2 * n, seed);
        const y = x.slice();
        new ComplexFFT(n).forward(y);
        let ex = 0;
        let ey = 0;
        for (let i = 0; i < 2 * n; i++) {
          ex += x[i]! ** 2;
          ey += y[i]! ** 2;
        }
        return Math.abs(ey / n - ex) < 1e-9 * Math.max(1, ex);
      }),
      { numRuns: 60 },
    );
  });

  test('rejects a size that is not a positive integer', () => {
    assert.throws(() => new ComplexFFT(0), /positive integer/);
    assert.throws(() => new ComplexFFT(2.5), /positive integer/);
  });
});

describe('RealFFT', () => {
  for (const n of [1, 2, 3, 8, 9, 30, 100, 347, 400, 1000, 1001, 1234, 2560]) {
    test(`size ${n}: bins and power match the direct DFT`, () => {
      const x = signal(n, 3);
      const c = new Float64Array(2 * n);
      x.forEach((v, i) => {
        c[2 * i] = v;
      });
      const ref = naiveDft(c);
      const f = new RealFFT(n);
      assert.equal(f.bins, Math.floor(n / 2) + 1);
      const re = new Float64Array(f.bins);
      const im = new Float64Array(f.bins);
      f.forward(x, re, im);
      const pw = new Float64Array(f.bins);
      f.power(x, pw);
      for (let k = 0; k < f.bins; k++) {
        const tol = 1e-10 * n;
        assert.ok(Math.abs(re[k]! - ref[2 * k]!) < tol, `re[${k}]`);
        assert.ok(Math.abs(im[k]! - ref[2 * k + 1]!) < tol, `im[${k}]`);
        const p = ref[2 * k]! ** 2 + ref[2 * k + 1]! ** 2;
        assert.ok(Math.abs(pw[k]! - p) < 1e-9 * n * (1 + p), `power[${k}]`);
      }
    });
  }

  test('offset and window read a frame in place', () => {
    const n = 64;
    const sig = signal(200, 1);
    const win = Float64Array.from({ length: n }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n));
    const frame = Float64Array.from({ length: n }, (_, i) => sig[37 + i]! * win[i]!);
    const f = new RealFFT(n);
    const a = new Float64Array(f.bins);
    const b = new Float64Array(f.bins);
    f.power(sig, a, 37, win);
    f.power(frame, b);
    assert.ok(maxDiff(a, b) < 1e-12);
    assert.throws(() => f.power(sig, a, 150, win), /need 64 samples from 150/);
  });
});
