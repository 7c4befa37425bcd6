import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { createModel, listModels } from '../../src/models/index.js';
import './helpers.js';

describe("small-cnn (the configs' model)", () => {
  test('is in the registry and gives [B, classes] logits for any input size, narrow ones included', () => {
    assert.ok(listModels().some((m) => m.name === 'small-cnn'));
    E.manualSeed(0);
    const m = createModel('small-cnn', { numClasses: 10, channels: [16, 32, 64, 128], convsPerBlock: 1 });
    // The FSDD config's model, as docs/train.md describes it.
    assert.equal(m.numParameters(), 98682);
    m.eval();
    const live = E.liveTensors();
    for (const shape of [
      [2, 1, 64, 63],
      [1, 1, 64, 128],
      [3, 1, 8, 3],
    ]) {
      const y = E.tidy(() => E.noGrad(() => m.call(E.randn(shape)).clipwise.shape));
      assert.deepEqual(y, [shape[0], 10]);
    }
    assert.equal(E.liveTensors(), live, 'forward leaves nothing behind');
    assert.throws(
      () => m.call(E.randn([1, 3, 8, 8])),
      /small-cnn: expected input \[B, 1, mels, frames\], got \[1, 3, 8, 8\]/,
    );
    assert.throws(() => createModel('small-cnn', { convsPerBlock: 0 }), /convsPerBlock/);
    m.dispose();
  });

  test('a hidden layer adds Linear + ReLU before the classifier', () => {
    const m = createModel('small-cnn', { numClasses: 4, channels: [8], hidden: 16 });
    assert.deepEqual(
      m.stateDictKeys().filter((k) => !k.startsWith('features')),
      ['head.1.weight', 'head.1.bias', 'classifier.weight', 'classifier.bias'],
    );
    const y = E.tidy(() => m.call(E.randn([2, 1, 16, 16])).clipwise.shape);
    assert.deepEqual(y, [2, 4]);
    m.dispose();
  });
});
