import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { createModel, type Vgg16Bn } from '../../src/models/index.js';
import { ref, standardModelTests } from './zoo-helpers.js';

standardModelTests({
  name: 'vgg16-bn',
  input: [2, 1, 32, 48],
  badValue: [{ pooling: 'mean' }, 'pooling'],
});

test('vgg16-bn: the conv stack has VGG16-BN’s parameter count; inputs below 32×32 are refused', () => {
  const m = createModel('vgg16-bn', { inChannels: 3 }) as Vgg16Bn;
  try {
    assert.equal(m.features.numParameters(), ref.vgg16_bn_features);
    assert.equal(m.features.numParameters(), 14723136);
    assert.throws(
      () => E.tidy(() => m.call(E.zeros([1, 3, 31, 64]))),
      /vgg16-bn: expected input \[B, 3, H ≥ 32, W ≥ 32\], got \[1, 3, 31, 64\]/,
    );
  } finally {
    m.dispose();
  }
});
