import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { createModel, type SpecTransformer } from '../../src/models/index.js';
import { assertClose } from '../nn/helpers.js';
import { loadModelFixture, maxAbsDiff, ref, standardModelTests } from './zoo-helpers.js';

standardModelTests({
  name: 'spec-transformer',
  input: [2, 1, 64, 128],
  badValue: [{ heads: 5 }, 'heads'],
});

test('spec-transformer with PyTorch’s weights (nn.TransformerEncoderLayer, pre-norm) gives its outputs', () => {
  const { t, sd } = loadModelFixture('spec_transformer_small.safetensors');
  const m = createModel('spec-transformer', ref.spec_transformer_small_config) as SpecTransformer;
  try {
    m.loadStateDict(sd);
    m.eval();
    assert.deepEqual(m.grid, [5, 7]);
    E.tidy(() => {
      assertClose(
        E.noGrad(() => m.call(t.x!).clipwise),
        t.y!,
        1e-5,
        1e-4,
        'learned grid',
      );
      // 66 frames → a 5 × 10 grid: the positional embeddings are resized bilinearly.
      assertClose(
        E.noGrad(() => m.call(t.x_other!).clipwise),
        t.y_other!,
        1e-5,
        1e-4,
        'resized grid',
      );
    });
  } finally {
    m.dispose();
    E.dispose(t);
  }
});

test('spec-transformer: positions matter (permuting patches changes the output); [CLS] is a parameter', () => {
  E.manualSeed(4);
  const m = createModel('spec-transformer', {
    dim: 32,
    depth: 1,
    heads: 2,
    inputSize: [32, 32],
  }) as SpecTransformer;
  try {
    m.eval();
    assert.deepEqual(m.cls_token.shape, [1, 1, 32]);
    assert.deepEqual(m.pos_embed.shape, [1, 5, 32]);
    assert.ok(m.namedParameters().some(([k]) => k === 'cls_token'));
    E.tidy(() => {
      const x = E.randn([1, 1, 32, 32]);
      // Swap the left and right halves of the time axis: the same patches in another order.
      const swapped = E.cat([x.narrow(3, 16, 16), x.narrow(3, 0, 16)], 3);
      const a = E.noGrad(() => m.call(x).clipwise);
      const b = E.noGrad(() => m.call(swapped).clipwise);
      assert.ok(maxAbsDiff(a, b) > 1e-4, 'the model sees where each patch is');
    });
  } finally {
    m.dispose();
  }
});
