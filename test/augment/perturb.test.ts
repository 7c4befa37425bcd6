import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrequencyWarp, RandomEQ, SpeedPerturb, unwarp } from '../../src/augment/perturb.js';
import { augmentationFromSpec } from '../../src/augment/registry.js';
import { Random } from '../../src/core/random.js';
import { dominantFrequency, near, sine } from './helpers.js';

describe('SpeedPerturb', () => {
  it('raises the pitch by the rate and shortens the clip by it (tape speed)', () => {
    const sr = 8000;
    const x = sine(500, sr, 1);
    const y = new SpeedPerturb({ p: 1, minRate: 1.1, maxRate: 1.1, keepLength: false }).forward(
      x,
      sr,
      new Random(1),
    );
    assert.equal(y.length, Math.round(x.length / 1.1));
    near(dominantFrequency(y, sr), 550, 5, 'frequency after speed 1.1');
  });

  it('keeps the length and keeps a centred click in the centre', () => {
    const x = new Float32Array(8001);
    x[4000] = 1;
    const aug = new SpeedPerturb({ p: 1, minRate: 0.9, maxRate: 0.9 });
    const y = aug.forward(x, 8000, new Random(2));
    assert.equal(y.length, x.length);
    let peak = 0;
    for (let i = 1; i < y.length; i++) if (Math.abs(y[i]!) > Math.abs(y[peak]!)) peak = i;
    assert.ok(Math.abs(peak - 4000) <= 1, `peak at ${peak}, expected 4000`);
  });

  it('is reachable by name from a spec, with a clear error for a bad range', () => {
    assert.equal(augmentationFromSpec({ name: 'SpeedPerturb', p: 1 }).name, 'SpeedPerturb');
    assert.throws(
      () => augmentationFromSpec({ name: 'SpeedPerturb', minRate: 1.2, maxRate: 0.8 }),
      /minRate/,
    );
  });
});

describe('FrequencyWarp', () => {
  const m = 64;
  const t = 3;
  /** One channel whose only energy is row `row`. */
  function rowItem(row: number) {
    const data = new Float32Array(m * t);
    data.fill(1, row * t, (row + 1) * t);
    return { data, shape: [1, m, t] };
  }
  const peakRow = (d: Float32Array) => {
    let best = 0;
    for (let r = 0; r < m; r++) if (d[r * t]! > d[best * t]!) best = r;
    return best;
  };

  it('moves content at bin r to about α·r below the boundary', () => {
    for (const alpha of [0.9, 1.1]) {
      const aug = new FrequencyWarp({ p: 1, minAlpha: alpha, maxAlpha: alpha });
      const y = aug.forward(rowItem(20), new Random(3));
      assert.ok(Math.abs(peakRow(y.data) - 20 * alpha) <= 1, `α=${alpha}: peak ${peakRow(y.data)}`);
    }
  });

  it('is the identity at α = 1 and maps the top bin to the top bin', () => {
    const x = rowItem(63);
    const id = new FrequencyWarp({ p: 1, minAlpha: 1, maxAlpha: 1 }).forward(x, new Random(4));
    assert.deepEqual(Array.from(id.data), Array.from(x.data));
    for (const alpha of [0.85, 1.15]) assert.ok(Math.abs(unwarp(63, alpha, 0.8 * 63, 63) - 63) < 1e-9);
  });

  it('the warp is continuous at the boundary', () => {
    for (const alpha of [0.9, 1.1]) {
      const s0 = (0.8 * 63 * Math.min(alpha, 1)) / alpha;
      const r0 = alpha * s0;
      assert.ok(
        Math.abs(unwarp(r0 - 1e-9, alpha, 0.8 * 63, 63) - unwarp(r0 + 1e-9, alpha, 0.8 * 63, 63)) < 1e-6,
      );
    }
  });
});

describe('RandomEQ', () => {
  it('adds one smooth curve over frequency, the same in every frame and channel, bounded by the gains', () => {
    const c = 2;
    const m = 40;
    const t = 5;
    const x = { data: new Float32Array(c * m * t).map((_, i) => (i % 7) - 3), shape: [c, m, t] };
    const y = new RandomEQ({ p: 1, maxGain: 0.6, terms: 3 }).forward(x, new Random(9));
    const bound = 0.6 * (1 + 1 / 2 + 1 / 3);
    const g = (ch: number, r: number, j: number) =>
      y.data[ch * m * t + r * t + j]! - x.data[ch * m * t + r * t + j]!;
    let moved = 0;
    for (let r = 0; r < m; r++) {
      for (let ch = 0; ch < c; ch++)
        for (let j = 0; j < t; j++) assert.ok(Math.abs(g(ch, r, j) - g(0, r, 0)) < 1e-5);
      assert.ok(Math.abs(g(0, r, 0)) <= bound + 1e-6);
      if (r > 0) assert.ok(Math.abs(g(0, r, 0) - g(0, r - 1, 0)) < 0.2, 'the curve is smooth');
      moved = Math.max(moved, Math.abs(g(0, r, 0)));
    }
    assert.ok(moved > 0.05, 'the curve is not flat');
  });
});
