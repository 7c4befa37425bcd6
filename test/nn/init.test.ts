import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { Conv1d, Conv2d, Embedding, GRU, init, Linear, PReLU } from '../../src/nn/index.js';
import { assertClose, loadFixture } from './helpers.js';

function stats(t: E.Tensor) {
  const a = t.toFloat64Array();
  const mean = a.reduce((s, v) => s + v, 0) / a.length;
  const std = Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of a) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return { mean, std, lo, hi };
}

describe('init', () => {
  test('fans follow PyTorch: [out, in, ...kernel]', () => {
    assert.deepEqual(init.calculateFanInAndFanOut([8, 4]), { fanIn: 4, fanOut: 8 });
    assert.deepEqual(init.calculateFanInAndFanOut([16, 3, 3, 5]), { fanIn: 45, fanOut: 240 });
    assert.throws(() => init.calculateFanInAndFanOut([5]), /at least 2 dims/);
    assert.equal(init.calculateGain('relu'), Math.SQRT2);
    assert.equal(init.calculateGain('tanh'), 5 / 3);
    assert.equal(init.calculateGain('leaky_relu', Math.sqrt(5)), Math.sqrt(1 / 3));
  });

  test('distributions have the documented bounds and spread', () => {
    E.manualSeed(0);
    E.tidy(() => {
      const w = E.zeros([256, 128, 3, 3]); // fan_in 1152, fan_out 2304
      let s = stats(init.kaimingUniform_(w, { nonlinearity: 'relu' }));
      const b = Math.sqrt(2) * Math.sqrt(3 / 1152);
      assert.ok(s.lo >= -b && s.hi <= b && s.hi > 0.99 * b, `kaiming uniform within ±${b}`);
      assert.ok(Math.abs(s.std - Math.sqrt(2 / 1152)) / Math.sqrt(2 / 1152) < 0.01, `std ${s.std}`);
      s = stats(init.kaimingNormal_(w, { mode: 'fan_out', nonlinearity: 'relu' }));
      assert.ok(Math.abs(s.std - Math.sqrt(2 / 2304)) / Math.sqrt(2 / 2304) < 0.01, `std ${s.std}`);
      assert.ok(Math.abs(s.mean) < 1e-3);
      s = stats(init.xavierUniform_(w, 2));
      const xb = 2 * Math.sqrt(6 / (1152 + 2304));
      assert.ok(s.lo >= -xb && s.hi <= xb && s.hi > 0.99 * xb);
      s = stats(init.xavierNormal_(w));
      assert.ok(Math.abs(s.std - Math.sqrt(2 / 3456)) / Math.sqrt(2 / 3456) < 0.01);
      assert.deepEqual(stats(init.constant_(w, 0.3)), {
        mean: Math.fround(0.3),
        std: 0,
        lo: Math.fround(0.3),
        hi: Math.fround(0.3),
      });
      assert.equal(stats(init.zeros_(w)).hi, 0);
      assert.equal(stats(init.ones_(w)).lo, 1);
    });
  });

  test('initialisers work on parameters that require grad', () => {
    const l = new Linear(3, 3);
    try {
      init.xavierUniform_(l.weight);
      init.zeros_(l.bias!);
      assert.equal(l.weight.requiresGrad, true);
      assert.deepEqual(l.bias!.toArray(), [0, 0, 0]);
    } finally {
      l.dispose();
    }
  });

  test('default layer inits draw the same numbers as PyTorch after the same seed', () => {
    const ref = loadFixture('init_seed0.safetensors');
    E.manualSeed(0);
    // Same layers, same order as seeded_init() in scripts/fixtures/nn_ref.py.
    const layers = {
      linear: new Linear(16, 8),
      conv2d: new Conv2d(3, 4, 3),
      conv1d: new Conv1d(2, 3, 5),
      linear_nobias: new Linear(5, 7, { bias: false }),
      embedding: new Embedding(10, 4),
      gru: new GRU(3, 2, { bidirectional: true }),
      prelu: new PReLU(),
    };
    try {
      let n = 0;
      for (const [name, m] of Object.entries(layers)) {
        for (const [k, t] of m.namedParameters()) {
          assertClose(t, ref[`${name}.${k}`]!, 1e-7, 1e-6, `${name}.${k}`);
          n++;
        }
      }
      assert.equal(n, Object.keys(ref).length);
    } finally {
      for (const m of Object.values(layers)) m.dispose();
      E.dispose(ref);
    }
  });
});
