// Autograd through the engine: requiresGrad, backward (with and without a seed gradient), grad
// accumulation, zeroGrad, detach, noGrad and the grad-mode switch.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { assertClose } from './helpers.js';

E.setNumThreads(1);

test('requiresGrad: creation option, setter, leaf status', () => {
  E.tidy(() => {
    const a = E.tensor([1, 2], [2], { requiresGrad: true });
    assert.equal(a.requiresGrad, true);
    assert.equal(a.isLeaf, true);
    const b = E.ones([2]);
    assert.equal(b.requiresGrad, false);
    b.requiresGrad = true;
    assert.equal(b.requiresGrad, true);
    const c = a.mul(b);
    assert.equal(c.requiresGrad, true);
    assert.equal(c.isLeaf, false);
    assert.equal(E.zeros([2], { requiresGrad: true }).requiresGrad, true);
  });
});

test('backward: gradients of a scalar, accumulation across calls, zeroGrad sets None', () => {
  E.tidy(() => {
    const x = E.tensor([1, 2, 3], [3], { requiresGrad: true });
    assert.equal(x.grad, null);
    x.pow(2).sum().backward();
    assert.deepEqual(x.grad!.toArray(), [2, 4, 6]);
    x.mul(3).sum().backward();
    assert.deepEqual(x.grad!.toArray(), [5, 7, 9]);
    x.zeroGrad();
    assert.equal(x.grad, null);
  });
});

test('backward with a seed gradient for non-scalar outputs; without one it is an error', () => {
  E.tidy(() => {
    const x = E.tensor([1, 2], [2], { requiresGrad: true });
    const y = x.mul(x);
    y.backward(E.tensor([1, 0.5]), { retainGraph: true });
    assert.deepEqual(x.grad!.toArray(), [2, 2]);
    assert.throws(() => y.backward(), /backward: grad can be implicitly created only for scalar outputs/);
  });
});

test('backward twice through a freed graph fails unless retainGraph', () => {
  E.tidy(() => {
    const x = E.tensor([1, 2], [2], { requiresGrad: true });
    const y = x.exp().sum();
    y.backward(null, { retainGraph: true });
    y.backward();
    assertClose(x.grad!.toFloat64Array(), [2 * Math.E, 2 * Math.exp(2)], 1e-5);
    assert.throws(() => y.backward(), /backward: Trying to backward through the graph a second time/);
  });
});

test('retainGrad keeps the gradient of an intermediate tensor', () => {
  E.tidy(() => {
    const x = E.tensor([1, 2], [2], { requiresGrad: true });
    const h = x.mul(2).retainGrad();
    h.pow(2).sum().backward();
    assert.deepEqual(h.grad!.toArray(), [4, 8]);
    assert.deepEqual(x.grad!.toArray(), [8, 16]);
  });
});

test('createGraph gives second derivatives', () => {
  E.tidy(() => {
    const x = E.tensor([3], [1], { requiresGrad: true, dtype: 'float64' });
    x.pow(3).sum().backward(null, { createGraph: true });
    const g = x.grad!; // 3x^2 = 27, with a graph
    assert.deepEqual(g.toArray(), [27]);
    x.zeroGrad();
    g.sum().backward();
    assert.deepEqual(x.grad!.toArray(), [18]); // 6x
  });
});

test('detach cuts the graph; the detached tensor shares data', () => {
  E.tidy(() => {
    const x = E.tensor([1, 2], [2], { requiresGrad: true });
    const d = x.mul(2).detach();
    assert.equal(d.requiresGrad, false);
    const y = x.mul(d).sum();
    y.backward();
    assert.deepEqual(x.grad!.toArray(), [2, 4]); // d treated as a constant
  });
});

test('noGrad: no graph inside, previous mode restored (also after a throw), nesting', () => {
  E.tidy(() => {
    const x = E.tensor([1, 2], [2], { requiresGrad: true });
    assert.equal(E.isGradEnabled(), true);
    const y = E.noGrad(() => {
      assert.equal(E.isGradEnabled(), false);
      const inner = E.enableGrad(() => {
        assert.equal(E.isGradEnabled(), true);
        return x.mul(2);
      });
      assert.equal(inner.requiresGrad, true);
      return x.mul(2);
    });
    assert.equal(y.requiresGrad, false);
    assert.equal(E.isGradEnabled(), true);
    assert.throws(
      () =>
        E.noGrad(() => {
          throw new Error('boom');
        }),
      /boom/,
    );
    assert.equal(E.isGradEnabled(), true);
    E.setGradEnabled(false);
    assert.equal(x.mul(2).requiresGrad, false);
    E.setGradEnabled(true);
    assert.equal(x.mul(2).requiresGrad, true);
  });
});

test('in-place update of a parameter needs noGrad (as in PyTorch)', () => {
  E.tidy(() => {
    const w = E.ones([2], { requiresGrad: true });
    assert.throws(
      () => w.add_(1),
      /add_: a leaf Variable that requires grad is being used in an in-place operation/,
    );
    E.noGrad(() => w.add_(1));
    assert.deepEqual(w.toArray(), [2, 2]);
    assert.equal(w.requiresGrad, true);
  });
});

test('gradient of max along a dim goes to the chosen element; ties in max() split evenly', () => {
  E.tidy(() => {
    const x = E.tensor([1, 5, 3, 2], [2, 2], { requiresGrad: true });
    x.max(1).sum().backward();
    assert.deepEqual(x.grad!.toArray(), [0, 1, 1, 0]);
    const y = E.tensor([2, 2], [2], { requiresGrad: true });
    y.max().backward();
    assert.deepEqual(y.grad!.toArray(), [0.5, 0.5]);
  });
});
