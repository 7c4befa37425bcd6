import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Compose } from '../../src/augment/compose.js';
import { CutMix, Mixup, MixupSpecMix, MixWithNoisy, SpecMix } from '../../src/augment/mixing.js';
import type { NDArray } from '../../src/core/ndarray.js';
import { Random } from '../../src/core/random.js';
import { assertFinite, near, real } from './helpers.js';

const seedArb = fc.integer({ min: 0, max: 2 ** 31 - 1 });
const runs = { numRuns: 30 };

/**
 * A batch whose item i is filled with one value c_i (distinct, random), with one-hot target i: then the
 * share of item k's pixels in an output item can be read off its pixel values, and must equal the
 * output's target weight for class k.
 */
function constantBatch(b: number, itemShape: number[], seed: number) {
  const r = new Random(seed);
  const n = itemShape.reduce((a, v) => a * v, 1);
  const values = Array.from({ length: b }, () => r.uniform(-10, 10));
  const data = new Float32Array(b * n);
  for (let i = 0; i < b; i++) data.fill(values[i]!, i * n, (i + 1) * n);
  const targets = new Float32Array(b * b);
  for (let i = 0; i < b; i++) targets[i * b + i] = 1;
  return { batch: { data, shape: [b, ...itemShape] }, targets: { data: targets, shape: [b, b] }, values, n };
}

function row(a: NDArray, i: number): Float32Array {
  const k = a.shape[1]!;
  return a.data.subarray(i * k, (i + 1) * k);
}

/**
 * Asserts every output item's mean pixel value is Σ_k target[i,k]·c_k (class k ↔ the item filled with
 * c_k) and its target row sums to 1.
 */
function assertSharesMatchTargets(
  out: { batch: NDArray; targets: NDArray },
  values: number[],
  n: number,
): void {
  const b = out.targets.shape[0]!;
  for (let i = 0; i < b; i++) {
    const y = row(out.targets, i);
    let sum = 0;
    let expected = 0;
    for (let k = 0; k < values.length; k++) {
      assert.ok(y[k]! >= -1e-6 && y[k]! <= 1 + 1e-6, `target[${i}, ${k}] = ${y[k]}`);
      sum += y[k]!;
      expected += y[k]! * values[k]!;
    }
    near(sum, 1, 1e-5, `target row ${i} sum`);
    let mean = 0;
    for (let q = 0; q < n; q++) mean += out.batch.data[i * n + q]!;
    near(mean / n, expected, 1e-3, `item ${i}: pixel mean vs target-weighted values`);
  }
}

describe('Mixup', () => {
  it('mixes pixels and one-hot targets in the same proportion, λ ≥ 0.5 with lambdaMax', () => {
    fc.assert(
      fc.property(seedArb, fc.integer({ min: 1, max: 12 }), real(0.1, 4), (seed, b, alpha) => {
        const { batch, targets, values, n } = constantBatch(b, [3, 4, 5], seed);
        const out = new Mixup({ alpha }).apply(batch, targets, new Random(seed));
        assert.deepEqual(out.batch.shape, batch.shape);
        assertFinite(out.batch.data);
        assertSharesMatchTargets(out, values, n);
        for (let i = 0; i < b; i++)
          assert.ok(row(out.targets, i)[i]! >= 0.5 - 1e-6, 'the item keeps the larger share');
      }),
      runs,
    );
  });

  it('works on waveform batches and multi-label targets ("mix" and "max")', () => {
    const r = new Random(4);
    const b = 6;
    const k = 5;
    const batch = { data: Float32Array.from({ length: b * 100 }, () => r.normal()), shape: [b, 100] };
    const targets = {
      data: Float32Array.from({ length: b * k }, () => (r.random() < 0.4 ? 1 : 0)),
      shape: [b, k],
    };
    const mixed = new Mixup({ lambdaMax: false }).apply(batch, targets, new Random(1));
    const union = new Mixup({ targets: 'max' }).apply(batch, targets, new Random(1));
    for (let i = 0; i < b; i++) {
      // Find the partner and λ from the pixels, then check the targets against them.
      let found = false;
      for (let j = 0; j < b && !found; j++) {
        const xi = batch.data[i * 100]!;
        const xj = batch.data[j * 100]!;
        const lam = j === i ? 1 : (mixed.batch.data[i * 100]! - xj) / (xi - xj);
        let ok = true;
        for (let q = 0; q < 100 && ok; q++)
          ok =
            Math.abs(
              mixed.batch.data[i * 100 + q]! -
                (lam * batch.data[i * 100 + q]! + (1 - lam) * batch.data[j * 100 + q]!),
            ) < 1e-4;
        if (!ok) continue;
        found = true;
        for (let c = 0; c < k; c++)
          near(
            mixed.targets.data[i * k + c]!,
            lam * targets.data[i * k + c]! + (1 - lam) * targets.data[j * k + c]!,
            1e-5,
            'mixed target',
          );
      }
      assert.ok(found, `item ${i} is not a mix of two items`);
      for (let c = 0; c < k; c++)
        assert.ok(union.targets.data[i * k + c]! >= targets.data[i * k + c]!, 'union keeps labels');
    }
  });
});

describe('SpecMix', () => {
  it('replaces one band of mels and one band of frames from ONE other item; target = pixel share', () => {
    fc.assert(
      fc.property(
        seedArb,
        fc.integer({ min: 2, max: 8 }),
        fc.record({
          c: fc.integer({ min: 1, max: 3 }),
          m: fc.integer({ min: 4, max: 32 }),
          t: fc.integer({ min: 4, max: 40 }),
        }),
        real(0, 1),
        real(0, 1),
        (seed, b, { c, m, t }, F, T) => {
          const { batch, targets, values, n } = constantBatch(b, [c, m, t], seed);
          const out = new SpecMix({ maxFreqFraction: F, maxTimeFraction: T }).apply(
            batch,
            targets,
            new Random(seed),
          );
          assertSharesMatchTargets(out, values, n);
          for (let i = 0; i < b; i++) {
            const item = out.batch.data.subarray(i * n, (i + 1) * n);
            const foreign = [...new Set(Array.from(item).filter((v) => v !== Math.fround(values[i]!)))];
            assert.ok(foreign.length <= 1, 'pixels come from at most one other item');
            if (!foreign.length) continue;
            // The foreign pixels are exactly (rows R) ∪ (columns C), R and C contiguous, same in every channel.
            const isF = (ch: number, r: number, col: number) => item[(ch * m + r) * t + col] === foreign[0];
            const fullRows = [...Array(m).keys()].filter((r) =>
              [...Array(t).keys()].every((col) => isF(0, r, col)),
            );
            const fullCols = [...Array(t).keys()].filter((col) =>
              [...Array(m).keys()].every((r) => isF(0, r, col)),
            );
            for (let ch = 0; ch < c; ch++)
              for (let r = 0; r < m; r++)
                for (let col = 0; col < t; col++)
                  assert.equal(
                    isF(ch, r, col),
                    fullRows.includes(r) || fullCols.includes(col),
                    `pixel ${ch},${r},${col}`,
                  );
            if (fullRows.length < m && fullCols.length < t) {
              assert.ok(
                fullRows.length <= Math.floor(F * m),
                `${fullRows.length} bands > ${Math.floor(F * m)}`,
              );
              assert.ok(
                fullCols.length <= Math.floor(T * t),
                `${fullCols.length} frames > ${Math.floor(T * t)}`,
              );
              if (fullRows.length)
                assert.equal(fullRows[fullRows.length - 1]! - fullRows[0]!, fullRows.length - 1);
              if (fullCols.length)
                assert.equal(fullCols[fullCols.length - 1]! - fullCols[0]!, fullCols.length - 1);
              const share =
                (fullRows.length * t + fullCols.length * m - fullRows.length * fullCols.length) / (m * t);
              const j = values.findIndex((v) => Math.fround(v) === foreign[0]);
              near(row(out.targets, i)[j]!, share, 1e-6, 'target weight = pixel share');
            }
          }
        },
      ),
      runs,
    );
  });

  it('works on [batch, mels, frames] and rejects waveform batches', () => {
    const { batch, targets } = constantBatch(3, [8, 8], 1);
    assert.deepEqual(new SpecMix().apply(batch, targets, new Random(1)).batch.shape, [3, 8, 8]);
    const wave = constantBatch(3, [100], 1);
    assert.throws(
      () => new SpecMix().apply(wave.batch, wave.targets, new Random(1)),
      /SpecMix: expected a spectrogram batch/,
    );
  });
});

describe('mixup then SpecMix', () => {
  it('draws on up to four items; targets still equal the pixel shares and sum to 1', () => {
    let sawFour = false;
    fc.assert(
      fc.property(seedArb, fc.integer({ min: 4, max: 10 }), (seed, b) => {
        const { batch, targets, values, n } = constantBatch(b, [2, 16, 16], seed);
        const pipelines = [
          new Compose([new Mixup({ alpha: 1 }), new SpecMix({ maxFreqFraction: 0.4, maxTimeFraction: 0.4 })]),
          new MixupSpecMix({ alpha: 1, maxFreqFraction: 0.4, maxTimeFraction: 0.4 }),
        ];
        for (const pipe of pipelines) {
          const out = pipe.apply(batch, targets, new Random(seed));
          assertSharesMatchTargets(out, values, n);
          for (let i = 0; i < b; i++) {
            const support = Array.from(row(out.targets, i)).filter((v) => v > 1e-6).length;
            assert.ok(support <= 4, `${support} items in one`);
            if (support === 4) sawFour = true;
          }
        }
      }),
      { numRuns: 20 },
    );
    assert.ok(sawFour, 'some item mixes four items');
  });
});

describe('CutMix', () => {
  it('pastes one box from one other item; target = box share', () => {
    fc.assert(
      fc.property(
        seedArb,
        fc.integer({ min: 2, max: 8 }),
        fc.constantFrom<number[]>([2, 10, 12], [12, 9], [50]),
        (seed, b, shape) => {
          const { batch, targets, values, n } = constantBatch(b, shape, seed);
          const out = new CutMix().apply(batch, targets, new Random(seed));
          assertSharesMatchTargets(out, values, n);
          for (let i = 0; i < b; i++) {
            const item = out.batch.data.subarray(i * n, (i + 1) * n);
            const foreign = [...item.keys()].filter((q) => item[q] !== Math.fround(values[i]!));
            if (!foreign.length) continue;
            // A box: foreign pixels fill the bounding rectangle of the last two axes.
            const t = shape[shape.length - 1]!;
            const plane = shape.length >= 2 ? shape[shape.length - 2]! * t : t;
            const inPlane = foreign.filter((q) => q < plane);
            const rs = inPlane.map((q) => Math.floor(q / t));
            const cs = inPlane.map((q) => q % t);
            const h = Math.max(...rs) - Math.min(...rs) + 1;
            const w = Math.max(...cs) - Math.min(...cs) + 1;
            assert.equal(inPlane.length, h * w, 'a filled rectangle');
            assert.equal(foreign.length, inPlane.length * (n / plane), 'the same box in every channel');
          }
        },
      ),
      runs,
    );
  });
});

describe('MixWithNoisy', () => {
  it('mixes curated items with noisy ones by a fixed or Beta weight', () => {
    fc.assert(
      fc.property(
        seedArb,
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 6 }),
        fc.option(real(0.05, 1)),
        (seed, b, nb, weight) => {
          const cur = constantBatch(b, [4, 4], seed);
          const noisy = constantBatch(nb, [4, 4], seed + 1);
          // Curated classes 0..b-1, noisy classes b..b+nb-1.
          const k = b + nb;
          const ct = new Float32Array(b * k);
          for (let i = 0; i < b; i++) ct[i * k + i] = 1;
          const nt = new Float32Array(nb * k);
          for (let j = 0; j < nb; j++) nt[j * k + b + j] = 1;
          const t = new MixWithNoisy(weight === null ? {} : { weight });
          const out = t.apply(cur.batch, { data: ct, shape: [b, k] }, new Random(seed), {
            noisy: { batch: noisy.batch, targets: { data: nt, shape: [nb, k] } },
          });
          assertSharesMatchTargets(out, [...cur.values, ...noisy.values], 16);
          for (let i = 0; i < b; i++) {
            const lam = out.targets.data[i * k + i]!;
            if (weight !== null) near(lam, weight, 1e-6, 'fixed curated weight');
            else assert.ok(lam >= 0.5 - 1e-6, 'curated dominates');
          }
        },
      ),
      runs,
    );
  });

  it('names what is missing', () => {
    const { batch, targets } = constantBatch(2, [4], 1);
    assert.throws(
      () => new MixWithNoisy().apply(batch, targets, new Random(1)),
      /MixWithNoisy: needs the noisy batch/,
    );
    const other = constantBatch(2, [5], 1);
    assert.throws(
      () => new MixWithNoisy().apply(batch, targets, new Random(1), { noisy: other }),
      /MixWithNoisy: noisy items have shape \[5\], expected \[4\]/,
    );
  });
});

describe('mixers in general', () => {
  const all = () => [new Mixup(), new SpecMix(), new MixupSpecMix(), new CutMix()];

  it('p = 0 and eval() are the identity; p is per item', () => {
    const { batch, targets } = constantBatch(6, [2, 8, 8], 3);
    for (const t of all()) {
      const off = t.eval().apply(batch, targets, new Random(1));
      assert.equal(off.batch, batch, `${t.name} eval`);
      assert.equal(off.targets, targets);
    }
    for (const M of [Mixup, SpecMix, CutMix]) {
      const none = new M({ p: 0 }).apply(batch, targets, new Random(1));
      assert.deepEqual(none.batch.data, batch.data);
    }
    // With p = 0.5 about half of the items get mixed (binomial bounds over 50 batches of 16).
    const big = constantBatch(16, [4], 5);
    let mixed = 0;
    const rng = new Random(6);
    const half = new Mixup({ p: 0.5 });
    for (let r = 0; r < 50; r++) {
      const out = half.apply(big.batch, big.targets, rng);
      for (let i = 0; i < 16; i++) if (row(out.targets, i)[i]! < 1 - 1e-6) mixed++;
    }
    // Items paired with themselves stay unmixed, so slightly under half.
    assert.ok(mixed > 0.4 * 800 && mixed < 0.5 * 800 + 40, `${mixed} of 800 mixed`);
  });

  it('rejects targets that do not match the batch', () => {
    const { batch } = constantBatch(3, [4], 1);
    assert.throws(
      () => new Mixup().apply(batch, { data: new Float32Array(4), shape: [2, 2] }, new Random(1)),
      /Mixup: targets have 2 rows but the batch has 3 items/,
    );
  });
});
