import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  FrequencyShift,
  Lighting,
  RandomResizedCrop,
  RandomZoomCrop,
  SpecFrequencyMask,
  SpecTimeMask,
  SpecTimeWarp,
} from '../../src/augment/spectrogram.js';
import type { NDArray } from '../../src/core/ndarray.js';
import { Random } from '../../src/core/random.js';
import { assertFinite, near, real } from './helpers.js';

const seedArb = fc.integer({ min: 0, max: 2 ** 31 - 1 });
const dimsArb = fc.record({
  c: fc.integer({ min: 1, max: 3 }),
  m: fc.integer({ min: 4, max: 40 }),
  t: fc.integer({ min: 8, max: 60 }),
});
const runs = { numRuns: 30 };

function randomSpec(shape: number[], seed: number): NDArray {
  const r = new Random(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return { data: Float32Array.from({ length: n }, () => r.normal()), shape };
}

const at = (x: NDArray, ch: number, i: number, j: number) =>
  x.data[(ch * x.shape[1]! + i) * x.shape[2]! + j]!;

describe('SpecFrequencyMask', () => {
  it('masks one band of consecutive mel bins of the asked width, the same in every channel', () => {
    fc.assert(
      fc.property(
        seedArb,
        dimsArb,
        fc.integer({ min: 0, max: 10 }),
        fc.integer({ min: 0, max: 10 }),
        (seed, { c, m, t }, lo, span) => {
          const x = randomSpec([c, m, t], seed);
          const y = new SpecFrequencyMask({
            count: 1,
            minWidth: lo,
            maxWidth: lo + span,
            maskValue: 'zero',
          }).forward(x, new Random(seed));
          assert.deepEqual(y.shape, x.shape);
          assertFinite(y.data);
          const rows: number[] = [];
          for (let i = 0; i < m; i++) {
            let masked = true;
            for (let ch = 0; ch < c && masked; ch++)
              for (let j = 0; j < t && masked; j++) masked = at(y, ch, i, j) === 0;
            if (masked) rows.push(i);
            else
              for (let ch = 0; ch < c; ch++)
                for (let j = 0; j < t; j++) assert.equal(at(y, ch, i, j), at(x, ch, i, j));
          }
          const w = rows.length;
          assert.ok(
            w >= Math.min(lo, m) && w <= Math.min(lo + span, m),
            `width ${w} outside [${lo}, ${lo + span}]`,
          );
          if (w) assert.equal(rows[w - 1]! - rows[0]!, w - 1, 'contiguous');
        },
      ),
      runs,
    );
  });

  it('fills with the channel mean and stays inside the item with many masks', () => {
    const x = randomSpec([2, 20, 30], 3);
    const y = new SpecFrequencyMask({ count: 5, maxWidth: 8 }).forward(x, new Random(1));
    for (let ch = 0; ch < 2; ch++) {
      let mean = 0;
      for (let k = 0; k < 600; k++) mean += x.data[ch * 600 + k]!;
      mean = Math.fround(mean / 600);
      for (let i = 0; i < 20; i++)
        for (let j = 0; j < 30; j++) {
          const v = at(y, ch, i, j);
          assert.ok(v === at(x, ch, i, j) || v === mean, 'a value is either kept or the mean');
        }
    }
  });
});

describe('SpecTimeMask', () => {
  it('masks one band of consecutive frames within the width and maxFraction bounds', () => {
    fc.assert(
      fc.property(
        seedArb,
        dimsArb,
        fc.integer({ min: 0, max: 20 }),
        real(0, 1),
        (seed, { c, m, t }, maxW, frac) => {
          const x = randomSpec([c, m, t], seed);
          const y = new SpecTimeMask({
            count: 1,
            maxWidth: maxW,
            maxFraction: frac,
            maskValue: -100,
          }).forward(x, new Random(seed));
          const cols: number[] = [];
          for (let j = 0; j < t; j++) {
            let masked = true;
            for (let ch = 0; ch < c && masked; ch++)
              for (let i = 0; i < m && masked; i++) masked = at(y, ch, i, j) === -100;
            if (masked) cols.push(j);
            else
              for (let ch = 0; ch < c; ch++)
                for (let i = 0; i < m; i++) assert.equal(at(y, ch, i, j), at(x, ch, i, j));
          }
          assert.ok(cols.length <= Math.min(maxW, Math.floor(frac * t)), `width ${cols.length}`);
          if (cols.length) assert.equal(cols[cols.length - 1]! - cols[0]!, cols.length - 1, 'contiguous');
        },
      ),
      runs,
    );
  });

  it('a batch is masked item by item, each with its own draws, like a loop over items', () => {
    const x = randomSpec([4, 2, 16, 32], 1);
    const t = new SpecTimeMask({ count: 2, maxWidth: 10, p: 0.7, maskValue: 'zero' });
    const batched = t.apply(x, new Random(9));
    const rng = new Random(9);
    const n = 2 * 16 * 32;
    for (let b = 0; b < 4; b++) {
      const item = { data: x.data.slice(b * n, (b + 1) * n), shape: [2, 16, 32] };
      assert.deepEqual(t.apply(item, rng).data, batched.data.subarray(b * n, (b + 1) * n));
    }
    const masks = new Set<string>();
    for (let b = 0; b < 4; b++)
      masks.add(Array.from(batched.data.subarray(b * n, b * n + 32), (v) => v === 0).join());
    assert.ok(masks.size > 1, 'items get different masks');
  });
});

describe('SpecTimeWarp', () => {
  it('keeps the end frames, keeps time-constant rows, and keeps a time ramp monotonic', () => {
    fc.assert(
      fc.property(
        seedArb,
        fc.integer({ min: 10, max: 200 }),
        fc.integer({ min: 0, max: 40 }),
        (seed, t, W) => {
          const m = 5;
          const ramp = { data: Float32Array.from({ length: m * t }, (_, k) => k % t), shape: [m, t] };
          const y = new SpecTimeWarp({ maxWarp: W }).forward(ramp, new Random(seed));
          assertFinite(y.data);
          for (let i = 0; i < m; i++) {
            const row = y.data.subarray(i * t, (i + 1) * t);
            near(row[0]!, 0, 1e-6, 'first frame');
            near(row[t - 1]!, t - 1, 1e-4, 'last frame');
            for (let j = 1; j < t; j++) assert.ok(row[j]! >= row[j - 1]! - 1e-5, 'monotonic');
          }
          const flat = {
            data: Float32Array.from({ length: m * t }, (_, k) => Math.floor(k / t)),
            shape: [m, t],
          };
          assert.deepEqual(new SpecTimeWarp({ maxWarp: W }).forward(flat, new Random(seed)).data, flat.data);
        },
      ),
      runs,
    );
  });

  it('actually moves frames when W > 0, and W = 0 is the identity', () => {
    const t = 100;
    const ramp = { data: Float32Array.from({ length: t }, (_, k) => k), shape: [1, t] };
    let moved = 0;
    const rng = new Random(3);
    for (let r = 0; r < 20; r++) {
      const y = new SpecTimeWarp({ maxWarp: 20 }).forward(ramp, rng);
      if (y.data.some((v, k) => Math.abs(v - k) > 0.5)) moved++;
    }
    assert.ok(moved >= 15, `only ${moved} of 20 warps moved a frame`);
    assert.deepEqual(new SpecTimeWarp({ maxWarp: 0 }).forward(ramp, rng).data, ramp.data);
  });
});

describe('RandomZoomCrop', () => {
  it('scale 1 is the identity; zoom stays in the value range and magnifies by the drawn scale', () => {
    fc.assert(
      fc.property(seedArb, dimsArb, real(1, 1.5), (seed, { c, m, t }, s) => {
        const x = randomSpec([c, m, t], seed);
        assert.deepEqual(new RandomZoomCrop({ maxScale: 1 }).forward(x, new Random(seed)).data, x.data);
        const y = new RandomZoomCrop({ minScale: s, maxScale: s }).forward(x, new Random(seed));
        const lo = Math.min(...x.data);
        const hi = Math.max(...x.data);
        for (const v of y.data) assert.ok(v >= lo - 1e-5 && v <= hi + 1e-5);
        // A ramp along frames (1 per frame) becomes a ramp of slope 1/s.
        const ramp = { data: Float32Array.from({ length: m * t }, (_, k) => k % t), shape: [m, t] };
        const z = new RandomZoomCrop({ minScale: s, maxScale: s }).forward(ramp, new Random(seed));
        // (interior only: the border pixels clamp)
        for (let j = 1; j < t - 2; j++) near(z.data[j + 1]! - z.data[j]!, 1 / s, 1e-4, 'slope');
      }),
      runs,
    );
  });
});

describe('RandomResizedCrop', () => {
  it('scale 1 and ratio 1 is the identity; crops stay in range and keep the shape', () => {
    fc.assert(
      fc.property(seedArb, dimsArb, (seed, { c, m, t }) => {
        const x = randomSpec([c, m, t], seed);
        const id = new RandomResizedCrop({ minScale: 1, maxScale: 1, minRatio: 1, maxRatio: 1 });
        const same = id.forward(x, new Random(seed));
        for (let k = 0; k < x.data.length; k++) near(same.data[k]!, x.data[k]!, 1e-5, 'identity');
        const y = new RandomResizedCrop({ minScale: 0.3, maxScale: 0.6 }).forward(x, new Random(seed));
        assert.deepEqual(y.shape, x.shape);
        const lo = Math.min(...x.data);
        const hi = Math.max(...x.data);
        for (const v of y.data) assert.ok(v >= lo - 1e-5 && v <= hi + 1e-5);
        // A crop of 30–60 % of the area changes a random item.
        assert.notDeepEqual(y.data, x.data);
      }),
      runs,
    );
  });
});

describe('FrequencyShift', () => {
  it('moves rows by k bins inside the range; wrap keeps every row', () => {
    fc.assert(
      fc.property(seedArb, fc.integer({ min: 3, max: 30 }), fc.integer({ min: 0, max: 10 }), (seed, m, K) => {
        const t = 4;
        const x = { data: Float32Array.from({ length: m * t }, (_, k) => Math.floor(k / t)), shape: [m, t] };
        const y = new FrequencyShift({ minShift: -K, maxShift: K, fill: 'wrap' }).forward(
          x,
          new Random(seed),
        );
        const k = ((-y.data[0]! % m) + m) % m;
        for (let i = 0; i < m; i++) assert.equal(y.data[i * t], (((i - k) % m) + m) % m);
        const signed = k > m / 2 ? k - m : k;
        assert.ok(Math.abs(signed) <= K || Math.abs(k) <= K || m - k <= K, `shift ${k} outside ±${K}`);
        const z = new FrequencyShift({ minShift: 2, maxShift: 2, fill: 'zero' }).forward(x, new Random(seed));
        assert.deepEqual(Array.from(z.data.subarray(0, 2 * t)), new Array(2 * t).fill(0));
        assert.deepEqual(Array.from(z.data.subarray(2 * t)), Array.from(x.data.subarray(0, (m - 2) * t)));
      }),
      runs,
    );
  });
});

describe('Lighting', () => {
  function stats(a: ArrayLike<number>): [number, number] {
    let m = 0;
    for (let i = 0; i < a.length; i++) m += a[i]!;
    m /= a.length;
    let v = 0;
    for (let i = 0; i < a.length; i++) v += (a[i]! - m) ** 2;
    return [m, Math.sqrt(v / a.length)];
  }

  it('affine: shifts the mean by at most maxBrightness·σ and scales σ by a contrast in range', () => {
    fc.assert(
      fc.property(seedArb, real(0, 0.5), real(0, 0.5), (seed, B, C) => {
        const x = randomSpec([3, 16, 16], seed);
        const y = new Lighting({ maxBrightness: B, maxContrast: C }).forward(x, new Random(seed));
        assertFinite(y.data);
        const [mx, sx] = stats(x.data);
        const [my, sy] = stats(y.data);
        const c = sy / sx;
        assert.ok(c >= 1 - C - 1e-4 && c <= 1 / (1 - C) + 1e-4, `contrast ${c}`);
        assert.ok(Math.abs(my - mx) <= B * sx + 1e-4, `brightness shift ${(my - mx) / sx}σ`);
      }),
      runs,
    );
  });

  it('logit: stays in (0, 1) and keeps the order of values; zero ranges are the identity', () => {
    const r = new Random(2);
    const x = { data: Float32Array.from({ length: 200 }, () => r.uniform(0.01, 0.99)), shape: [1, 10, 20] };
    const y = new Lighting({ mode: 'logit' }).forward(x, new Random(3));
    const order = (a: Float32Array) => [...a.keys()].sort((i, j) => a[i]! - a[j]!);
    assert.deepEqual(order(y.data), order(x.data));
    for (const v of y.data) assert.ok(v > 0 && v < 1);
    const id = new Lighting({ maxBrightness: 0, maxContrast: 0 }).forward(x, new Random(3));
    for (let k = 0; k < 200; k++) near(id.data[k]!, x.data[k]!, 1e-5, 'identity');
  });
});

describe('spectrogram shapes', () => {
  it('every transform accepts [m, t], [c, m, t] and [b, c, m, t] and keeps the shape', () => {
    const all = [
      new SpecFrequencyMask(),
      new SpecTimeMask(),
      new SpecTimeWarp(),
      new RandomZoomCrop(),
      new RandomResizedCrop(),
      new FrequencyShift(),
      new Lighting(),
    ];
    for (const t of all) {
      for (const shape of [
        [32, 50],
        [2, 32, 50],
        [3, 2, 32, 50],
      ]) {
        const x = randomSpec(shape, 1);
        const y = t.apply(x, new Random(1));
        assert.deepEqual(y.shape, shape, t.name);
        assertFinite(y.data, t.name);
      }
      assert.throws(
        () => t.apply(randomSpec([5], 1), new Random(1)),
        new RegExp(`${t.name}: expected a spectrogram`),
      );
    }
  });
});
