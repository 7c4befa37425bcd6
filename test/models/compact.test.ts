import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { createModel, type EfficientNet } from '../../src/models/index.js';
import { DropPath, InvertedResidual, SqueezeExcitation } from '../../src/nn/index.js';
import { ref, standardModelTests } from './zoo-helpers.js';

standardModelTests({
  name: 'mobilenet-v2',
  input: [2, 1, 32, 32],
  badValue: [{ widthMultiplier: 0 }, 'widthMultiplier'],
});

standardModelTests({
  name: 'efficientnet-b0',
  input: [2, 1, 32, 32],
  badValue: [{ dropPathRate: 1 }, 'dropPathRate'],
});

test('ImageNet shapes (3 channels, 1000 classes) have the published parameter counts', () => {
  for (const name of ['mobilenet-v2', 'efficientnet-b0']) {
    const m = createModel(name, { inChannels: 3, numClasses: 1000 });
    try {
      assert.equal(m.numParameters(), ref.published[name], name);
    } finally {
      m.dispose();
    }
  }
});

test('efficientnet-b0: 16 MBConv blocks with SE; stochastic depth rises linearly to 0.2·15/16', () => {
  const m = createModel('efficientnet-b0') as EfficientNet;
  try {
    const blocks = m.modules().filter((x) => x instanceof InvertedResidual) as InvertedResidual[];
    assert.equal(blocks.length, 16);
    assert.equal(m.modules().filter((x) => x instanceof SqueezeExcitation).length, 16);
    const rates = blocks.map((b) => b.dropPath.p);
    // Blocks without a skip connection (the first of a stage that changes shape) have none.
    assert.deepEqual(
      rates.map((p) => Math.round(p * 1e4) / 1e4),
      blocks.map((b, i) => (b.useResidual ? Math.round(((0.2 * i) / 16) * 1e4) / 1e4 : 0)),
    );
    assert.equal(rates.at(-1), 0); // the 320-channel block changes width
  } finally {
    m.dispose();
  }
});

test('DropPath: identity in eval; in training whole samples are dropped or scaled by 1/(1−p)', () => {
  const dp = new DropPath(0.5);
  E.manualSeed(5);
  E.tidy(() => {
    const x = E.ones([64, 3, 2, 2]);
    dp.eval();
    assert.deepEqual(dp.call(x).toArray(), x.toArray());
    dp.train();
    const y = dp.call(x);
    const perSample = y.reshape([64, 12]);
    const mins = perSample.min(1).toArray();
    const maxs = perSample.max(1).toArray();
    for (let i = 0; i < 64; i++) {
      assert.equal(mins[i], maxs[i], 'one decision per sample');
      assert.ok(mins[i] === 0 || mins[i] === 2, `sample ${i}: ${mins[i]}`);
    }
    const kept = mins.filter((v) => v === 2).length;
    assert.ok(kept > 16 && kept < 48, `about half kept, got ${kept}`);
  });
});

test('InvertedResidual: a skip connection only when stride is 1 and the width is unchanged', () => {
  const a = new InvertedResidual(8, 8, { expandRatio: 6 });
  const b = new InvertedResidual(8, 16, { expandRatio: 6 });
  const c = new InvertedResidual(8, 8, { expandRatio: 1, stride: 2 });
  try {
    assert.deepEqual([a.useResidual, b.useResidual, c.useResidual], [true, false, false]);
    assert.equal(a.block.length, 3); // expand, depthwise, project
    assert.equal(c.block.length, 2); // no expansion at ratio 1
    E.tidy(() => {
      a.eval();
      const x = E.randn([1, 8, 5, 5]);
      // With the projection's BN scaled to zero the block is exactly its skip connection.
      E.noGrad(() =>
        (a.block.get(-1) as unknown as { get(i: number): { weight: E.Tensor } }).get(1).weight.zero_(),
      );
      assert.deepEqual(a.call(x).toArray(), x.toArray());
      assert.deepEqual(E.noGrad(() => c.call(x)).shape, [1, 8, 3, 3]);
    });
  } finally {
    a.dispose();
    b.dispose();
    c.dispose();
  }
});
