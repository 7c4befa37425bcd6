import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { Tensor } from '../../src/engine/index.js';
import * as E from '../../src/engine/index.js';
import {
  BCEWithLogitsLoss,
  bceWithLogits,
  CrossEntropyLoss,
  crossEntropy,
  FocalLoss,
  focalLoss,
  OHEMLoss,
  ohem,
} from '../../src/nn/index.js';
import { assertClose, loadFixture } from './helpers.js';

// Values and gradients from PyTorch (scripts/fixtures/nn_ref.py, losses()), all float64.
const ref = loadFixture('losses.safetensors');
after(() => E.dispose(ref));
const r = (k: string) => {
  const t = ref[k];
  if (!t) throw new Error(`fixture has no ${k}`);
  return t;
};

function check(name: string, fn: (logits: Tensor) => Tensor) {
  E.tidy(() => {
    const logits = r('logits').clone();
    logits.requiresGrad = true;
    const loss = fn(logits);
    assert.equal(loss.dtype, 'float64');
    assertClose(loss, r(name), 1e-10, 1e-9, name);
    loss.backward();
    assertClose(logits.grad!, r(`grad.${name}`), 1e-10, 1e-8, `grad of ${name}`);
  });
}

describe('losses against PyTorch', () => {
  test('cross entropy: hard, soft, label smoothing, class weights, sum', () => {
    check('ce_hard', (l) => crossEntropy(l, r('ids')));
    check('ce_soft', (l) => crossEntropy(l, r('soft')));
    check('ce_smooth', (l) => crossEntropy(l, r('ids'), { labelSmoothing: 0.1 }));
    check('ce_soft_smooth', (l) => crossEntropy(l, r('soft'), { labelSmoothing: 0.2 }));
    check('ce_weight', (l) => crossEntropy(l, r('ids'), { weight: r('class_weight') }));
    check('ce_sum', (l) => new CrossEntropyLoss({ reduction: 'sum' }).call(l, r('ids')));
  });

  test('BCE with logits: plain, pos_weight, element weights', () => {
    check('bce', (l) => bceWithLogits(l, r('multi')));
    check('bce_pos_weight', (l) => new BCEWithLogitsLoss({ posWeight: r('pos_weight') }).call(l, r('multi')));
    check('bce_weight', (l) => bceWithLogits(l, r('multi'), { weight: r('elem_weight') }));
  });

  test('focal loss, binary and multiclass, against an element-by-element reference', () => {
    check('focal_binary', (l) => focalLoss(l, r('multi')));
    check('focal_binary_g1_a05', (l) => new FocalLoss({ gamma: 1, alpha: 0.5 }).call(l, r('multi')));
    check('focal_multi', (l) => focalLoss(l, r('ids'), { mode: 'multiclass', alpha: null }));
    check('focal_multi_alpha', (l) =>
      focalLoss(l, r('ids'), { mode: 'multiclass', gamma: 1.5, alpha: r('class_weight') }),
    );
  });

  test('focal loss with gamma 0 and no alpha is cross entropy', () => {
    E.tidy(() => {
      assertClose(focalLoss(r('logits'), r('ids'), { mode: 'multiclass', gamma: 0 }), r('ce_hard'), 1e-12);
      assertClose(focalLoss(r('logits'), r('soft'), { mode: 'multiclass', gamma: 0 }), r('ce_soft'), 1e-12);
      assertClose(focalLoss(r('logits'), r('multi'), { gamma: 0, alpha: null }), r('bce'), 1e-12);
    });
  });

  test('OHEM keeps the hardest fraction of the batch', () => {
    check('ohem_ce_half', (l) => new OHEMLoss('cross_entropy', 0.5).call(l, r('ids')));
    E.tidy(() => {
      // keepFraction 1 is the plain mean; per-sample means over trailing dims for multi-label losses.
      assertClose(ohem(crossEntropy(r('logits'), r('ids'), { reduction: 'none' }), 1), r('ce_hard'), 1e-12);
      assertClose(new OHEMLoss('bce', 1).call(r('logits'), r('multi')), r('bce'), 1e-12);
      assert.equal(ohem(E.tensor([1, 5, 3, 2]), 0.01).item(), 5);
    });
    assert.throws(() => ohem(E.tensor([1]), 0), /keepFraction must be in \(0, 1\]/);
  });

  test('bad targets are clear errors', () => {
    E.tidy(() => {
      assert.throws(
        () => crossEntropy(r('logits'), E.zeros([6])),
        /class-id targets must be int64, got float32/,
      );
      assert.throws(
        () => crossEntropy(r('logits'), E.zeros([5], { dtype: 'int64' })),
        /must share the batch dim/,
      );
      assert.throws(
        () => bceWithLogits(r('logits'), E.zeros([6, 4])),
        /must have the logits' shape \[6, 5\]/,
      );
    });
  });
});
