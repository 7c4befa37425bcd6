import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { createModel, type MfccCnn, SamePadConv2d } from '../../src/models/index.js';
import { standardModelTests } from './zoo-helpers.js';

standardModelTests({
  name: 'mfcc-cnn',
  input: [2, 1, 40, 44],
  badValue: [{ kernelSize: [4] }, 'kernelSize'],
});

test('mfcc-cnn: "same" padding of an even kernel keeps the size, the extra row/column at the end', () => {
  const conv = new SamePadConv2d(1, 1, [4, 10]);
  try {
    E.tidy(() => {
      E.noGrad(() => {
        conv.weight.fill_(1);
        conv.bias!.fill_(0);
      });
      // A single 1 at the top-left corner: with 1 row / 4 columns of padding before it, the output
      // positions that see it are rows 0..1 and columns 0..4 (the window reaches 2 rows / 5 columns after).
      const x = E.zeros([1, 1, 6, 12]);
      E.noGrad(() => x.select(2, 0).select(2, 0).fill_(1));
      const y = E.noGrad(() => conv.call(x));
      assert.deepEqual(y.shape, [1, 1, 6, 12]);
      const seen = y.toArray();
      for (let r = 0; r < 6; r++)
        for (let c = 0; c < 12; c++) assert.equal(seen[r * 12 + c], r <= 1 && c <= 4 ? 1 : 0, `(${r}, ${c})`);
    });
  } finally {
    conv.dispose();
  }
});

test('mfcc-cnn: the kernel’s 40 × 173 input flattens a 32 × 2 × 10 map (the adaptive pool is the identity)', () => {
  const m = createModel('mfcc-cnn') as MfccCnn;
  try {
    m.eval();
    E.tidy(() => {
      const fmap = E.noGrad(() => m.features.call(E.randn([1, 1, 40, 173])));
      assert.deepEqual(fmap.shape, [1, 32, 2, 10]);
    });
  } finally {
    m.dispose();
  }
});
