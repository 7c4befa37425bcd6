// Optimisers beyond the PyTorch fixtures: groups, learning rates, zeroGrad, state save/load for
// resuming, clipGradNorm edge cases.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { Adam, AdamW, clipGradNorm, type Optimizer, SGD } from '../../src/engine/optim.js';
import { assertClose } from './helpers.js';

E.setNumThreads(1);

/** Sets p.grad = g through backward of sum(p * g). */
function setGrads(ps: E.Tensor[], gs: number[][]): void {
  E.tidy(() => {
    let loss = E.zeros([]);
    ps.forEach((p, i) => {
      loss = loss.add(p.mul(E.tensor(gs[i]!, p.shape)).sum());
    });
    loss.backward();
  });
}

test('plain SGD: p -= lr * grad; params without a grad are left alone', () => {
  E.tidy(() => {
    const a = E.tensor([1, 2], [2], { requiresGrad: true });
    const b = E.tensor([5], [1], { requiresGrad: true });
    const opt = new SGD([a, b], { lr: 0.5 });
    setGrads([a], [[2, -4]]);
    opt.step();
    assert.deepEqual(a.toArray(), [0, 4]);
    assert.deepEqual(b.toArray(), [5]);
    opt.dispose();
  });
});

test('zeroGrad sets every parameter grad to None', () => {
  E.tidy(() => {
    const a = E.ones([2], { requiresGrad: true });
    const opt = new Adam([a], { lr: 0.1 });
    setGrads([a], [[1, 1]]);
    assert.notEqual(a.grad, null);
    opt.zeroGrad();
    assert.equal(a.grad, null);
    opt.dispose();
  });
});

test('parameter groups: own lr/weightDecay, lr getter/setter, setLr per group', () => {
  E.tidy(() => {
    const a = E.tensor([1], [1], { requiresGrad: true });
    const b = E.tensor([1], [1], { requiresGrad: true });
    const opt = new SGD([{ params: [a] }, { params: [b], lr: 0.1 }], { lr: 1 });
    assert.equal(opt.numGroups, 2);
    assert.equal(opt.getLr(0), 1);
    assert.equal(opt.getLr(1), 0.1);
    setGrads([a, b], [[1], [1]]);
    opt.step();
    assert.deepEqual(a.toArray(), [0]);
    assertClose(b.toFloat64Array(), [0.9], 1e-7);
    opt.setLr(1, 0.25);
    assert.equal(opt.getLr(1), 0.25);
    opt.lr = 0.5;
    assert.deepEqual([opt.lr, opt.getLr(0), opt.getLr(1)], [0.5, 0.5, 0.5]);
    opt.dispose();
  });
});

function trainSteps(opt: Optimizer, ps: E.Tensor[], grads: number[][][]): void {
  for (const g of grads) {
    opt.zeroGrad();
    setGrads(ps, g);
    opt.step();
  }
}

for (const [name, make] of [
  ['SGD', (ps: E.Tensor[], lr: number) => new SGD(ps, { lr, momentum: 0.9 })],
  ['Adam', (ps: E.Tensor[], lr: number) => new Adam(ps, { lr, amsgrad: true })],
  ['AdamW', (ps: E.Tensor[], lr: number) => new AdamW(ps, { lr })],
] as const) {
  test(`${name}: stateBytes/loadStateBytes resumes exactly (state and learning rate)`, () => {
    E.tidy(() => {
      E.manualSeed(3);
      const grads = Array.from({ length: 5 }, () => [E.randn([3]).toArray(), E.randn([2, 2]).toArray()]);
      const init = [E.randn([3]), E.randn([2, 2])];
      // Run A: five uninterrupted steps.
      const pa = init.map((t) => t.clone().detach());
      for (const p of pa) p.requiresGrad = true;
      const optA = make(pa, 0.1);
      optA.lr = 0.05;
      trainSteps(optA, pa, grads);
      // Run B: three steps, save, then a fresh optimiser (other lr) loads the state and does two.
      const pb = init.map((t) => t.clone().detach());
      for (const p of pb) p.requiresGrad = true;
      const optB = make(pb, 0.1);
      optB.lr = 0.05;
      trainSteps(optB, pb, grads.slice(0, 3));
      const bytes = optB.stateBytes();
      assert.ok(bytes instanceof Uint8Array && bytes.length > 100);
      optB.dispose();
      // As after a restart: new parameter tensors holding the saved values.
      const pc = pb.map((t) => t.detach().clone());
      for (const p of pc) p.requiresGrad = true;
      const optC = make(pc, 0.9);
      optC.loadStateBytes(bytes);
      assert.equal(optC.lr, 0.05, 'the learning rate comes back with the state');
      trainSteps(optC, pc, grads.slice(3));
      pa.forEach((p, i) => {
        assert.deepEqual(pc[i]!.toArray(), p.toArray());
      });
      // Without the state the result differs (the test can fail).
      const pd = init.map((t) => t.clone().detach());
      for (const p of pd) p.requiresGrad = true;
      const optD = make(pd, 0.05);
      trainSteps(optD, pd, grads.slice(0, 3));
      optD.dispose();
      const optE = make(pd, 0.05);
      trainSteps(optE, pd, grads.slice(3));
      assert.notDeepEqual(pd[0]!.toArray(), pa[0]!.toArray());
      for (const o of [optA, optC, optE]) o.dispose();
    });
  });
}

test('loadStateBytes refuses a state for other parameter groups', () => {
  E.tidy(() => {
    const a = E.ones([2], { requiresGrad: true });
    const b = E.ones([2], { requiresGrad: true });
    const one = new Adam([a], { lr: 0.1 });
    setGrads([a], [[1, 1]]);
    one.step();
    const two = new Adam([{ params: [a] }, { params: [b] }], { lr: 0.1 });
    assert.throws(() => two.loadStateBytes(one.stateBytes()), /different number of parameter groups/);
    one.dispose();
    two.dispose();
  });
});

test('clipGradNorm: no clipping under the bound, infinity norm, skipped params', () => {
  E.tidy(() => {
    const a = E.zeros([2], { requiresGrad: true });
    const b = E.zeros([1], { requiresGrad: true });
    setGrads([a], [[3, 4]]);
    assertClose([clipGradNorm([a, b], 10)], [5], 1e-6);
    assert.deepEqual(a.grad!.toArray(), [3, 4]);
    assertClose([clipGradNorm([a], 1, Number.POSITIVE_INFINITY)], [4], 1e-6);
    assertClose(a.grad!.toFloat64Array(), [0.75, 1], 1e-5);
    assert.equal(clipGradNorm([b], 1), 0);
  });
});

test('the optimiser keeps updating parameters whose JS handles were disposed elsewhere', () => {
  // The optimiser holds its own libtorch references: disposing a second handle on the same
  // parameter (e.g. one made by clone of a module list) must not break it.
  E.tidy(() => {
    const p = E.tensor([1], [1], { requiresGrad: true });
    const opt = new SGD([p], { lr: 1 });
    setGrads([p], [[1]]);
    const g = p.grad!;
    g.dispose();
    opt.step();
    assert.deepEqual(p.toArray(), [0]);
    opt.dispose();
  });
});
