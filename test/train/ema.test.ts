import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { BatchNorm1d, Linear, Sequential } from '../../src/nn/index.js';
import { ModelEma } from '../../src/train/ema.js';

function net(): Sequential {
  return new Sequential(new Linear(3, 2), new BatchNorm1d(2));
}

describe('weight EMA', () => {
  test('follows e ← d·e + (1 − d)·w for parameters and float buffers, copies integer buffers', () => {
    E.manualSeed(1);
    const model = net();
    const copy = net();
    const ema = new ModelEma(model, copy, { decay: 0.9 });
    const w0 = (model.parameters()[0] as E.Tensor).toFloat32Array();
    assert.deepEqual((copy.parameters()[0] as E.Tensor).toFloat32Array(), w0, 'the copy starts equal');
    // Move the model's weights, run BN once in training mode, then update twice.
    E.noGrad(() => {
      for (const p of model.parameters()) p.add_(1);
    });
    E.tidy(() => model.call(E.randn([4, 3])));
    ema.update();
    ema.update();
    const w2 = (model.parameters()[0] as E.Tensor).toFloat32Array();
    const e2 = (copy.parameters()[0] as E.Tensor).toFloat32Array();
    // After two updates towards a fixed w: e = w - (w - e0)·d².
    e2.forEach((v, i) => {
      assert.ok(Math.abs(v - (w2[i]! - (w2[i]! - w0[i]!) * 0.81)) < 1e-6, `${v}`);
    });
    const sd = E.tidy(() =>
      Object.fromEntries(Object.entries(copy.stateDict()).map(([k, t]) => [k, t.toFloat64Array()])),
    );
    const msd = E.tidy(() =>
      Object.fromEntries(Object.entries(model.stateDict()).map(([k, t]) => [k, t.toFloat64Array()])),
    );
    assert.equal(sd['1.num_batches_tracked']![0], msd['1.num_batches_tracked']![0]);
    assert.notDeepEqual(sd['1.running_mean'], msd['1.running_mean']);
    assert.equal(ema.updates, 2);
    // The copy never records gradients and stays in eval mode.
    assert.ok(copy.parameters().every((p) => !p.requiresGrad));
    assert.equal(copy.training, false);
    model.dispose();
    copy.dispose();
  });

  test('warm-up ramps the decay as (1 + n) / (10 + n)', () => {
    const model = net();
    const copy = net();
    const ema = new ModelEma(model, copy, { decay: 0.999, warmup: true });
    assert.equal(ema.currentDecay(), 0.1);
    ema.update();
    assert.equal(ema.currentDecay(), 2 / 11);
    ema.updates = 100000;
    assert.equal(ema.currentDecay(), 0.999);
    assert.throws(() => new ModelEma(model, copy, { decay: 1 }), /decay must be in \[0, 1\)/);
    model.dispose();
    copy.dispose();
  });
});
