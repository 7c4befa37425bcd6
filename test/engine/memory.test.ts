// Memory rules: tidy/keep/dispose semantics, the GC finalizer as a safety net, and a training loop
// whose RSS and live-tensor count stay flat.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as F from '../../src/engine/functional.js';
import * as E from '../../src/engine/index.js';
import { N } from '../../src/engine/native.js';
import { Adam } from '../../src/engine/optim.js';

E.setNumThreads(1);
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function collect(): Promise<void> {
  // Finalizers of N-API externals may run after the collection, on a later turn of the loop.
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
}

test('tidy disposes what fn created except the (deeply) returned tensors', () => {
  const start = E.liveTensors();
  let inner: E.Tensor[] = [];
  const out = E.tidy(() => {
    const a = E.ones([2]);
    const b = a.mul(2);
    const c = b.add(1);
    inner = [a, b];
    return { c, list: [b.sum()], map: new Map([['m', a.neg()]]), n: 3 };
  });
  assert.ok(inner.every((t) => t.disposed));
  assert.equal(out.c.disposed, false);
  assert.equal(out.list[0]!.disposed, false);
  assert.equal(out.map.get('m')!.disposed, false);
  assert.deepEqual(out.c.toArray(), [3, 3]);
  assert.equal(E.liveTensors(), start + 3);
  E.dispose(out);
  assert.equal(E.liveTensors(), start);
});

test('nested tidy: results move to the enclosing scope; keep() survives every scope', () => {
  const start = E.liveTensors();
  let fromInner: E.Tensor | undefined;
  let kept: E.Tensor | undefined;
  const outer = E.tidy(() => {
    assert.equal(E.scopeDepth(), 1);
    fromInner = E.tidy(() => {
      assert.equal(E.scopeDepth(), 2);
      kept = E.keep(E.ones([1]));
      return E.zeros([1]);
    });
    assert.equal(fromInner.disposed, false, 'returned from the inner scope');
    return E.ones([1]);
  });
  assert.equal(E.scopeDepth(), 0);
  assert.equal(fromInner!.disposed, true, 'disposed by the outer scope, which did not return it');
  assert.equal(outer.disposed, false);
  assert.equal(kept!.disposed, false);
  E.dispose([outer, kept!]);
  assert.equal(E.liveTensors(), start);
});

test('tensors created outside a tidy and returned by it are left alone', () => {
  const x = E.ones([1]);
  const y = E.tidy(() => {
    E.tidy(() => x);
    return x;
  });
  assert.equal(y, x);
  assert.equal(x.disposed, false);
  x.dispose();
});

test('an exception inside tidy disposes everything the scope created', () => {
  const start = E.liveTensors();
  let made: E.Tensor | undefined;
  assert.throws(
    () =>
      E.tidy(() => {
        made = E.ones([3]);
        throw new Error('inside');
      }),
    /inside/,
  );
  assert.equal(made!.disposed, true);
  assert.equal(E.liveTensors(), start);
});

test('dispose(): tensors, arrays and records; grad handles are tracked too', () => {
  const start = E.liveTensors();
  const w = E.ones([2], { requiresGrad: true });
  E.tidy(() => {
    w.mul(w).sum().backward();
    const g = w.grad!;
    assert.deepEqual(g.toArray(), [2, 2]);
  });
  assert.equal(E.liveTensors(), start + 1, 'the grad handle was released by tidy');
  const g = w.grad; // the gradient itself lives on in libtorch; each access is a new handle
  assert.notEqual(g, null);
  assert.equal(E.liveTensors(), start + 2);
  E.dispose({ a: w, b: [E.ones([1]), E.zeros([1]), g!] });
  assert.equal(E.liveTensors(), start);
});

test('the GC frees forgotten handles (safety net; dispose is the main path)', async () => {
  await collect();
  const before = N.handleCount();
  (() => {
    for (let i = 0; i < 200; i++) E.zeros([1000]);
  })();
  assert.ok(N.handleCount() >= before + 200);
  await collect();
  assert.ok(N.handleCount() < before + 50, `handles left: ${N.handleCount() - before}`);
});

/** A small conv net's training step (BN, pooling, linear, cross entropy, Adam) inside tidy. */
function makeTrainer() {
  E.manualSeed(0);
  const params = E.tidy(() => {
    const p = {
      c1: E.randn([8, 1, 3, 3]).mul(0.3),
      c2: E.randn([16, 8, 3, 3]).mul(0.1),
      g1: E.ones([8]),
      b1: E.zeros([8]),
      fc: E.randn([10, 16]).mul(0.1),
      fb: E.zeros([10]),
    };
    for (const t of Object.values(p)) t.requiresGrad = true;
    return p;
  });
  const rm = E.zeros([8]);
  const rv = E.ones([8]);
  const opt = new Adam(Object.values(params), { lr: 1e-3 });
  const x = E.randn([16, 1, 32, 32]);
  const y = E.randint(0, 10, [16]);
  const leaked: E.Tensor[] = [];
  const step = (leak: boolean): number =>
    E.tidy(() => {
      let h = F.conv2d(x, params.c1, null, { padding: 1 });
      h = F.batchNorm(h, rm, rv, params.g1, params.b1, { training: true }).relu();
      if (leak) leaked.push(E.keep(h)); // referenced, so the GC safety net cannot free it
      h = F.maxPool2d(h, { kernelSize: 2 });
      h = F.conv2d(h, params.c2, null, { padding: 1 }).relu();
      h = F.adaptiveAvgPool2d(h, 1).flatten(1);
      const loss = F.crossEntropy(F.linear(h, params.fc, params.fb), y);
      opt.zeroGrad();
      loss.backward();
      opt.step();
      return loss.item();
    });
  const dispose = () => {
    opt.dispose();
    E.dispose([params, rm, rv, x, y, leaked]);
  };
  return { step, dispose };
}

test('training loop: 300 tidy steps keep RSS and liveTensors flat', async (ctx) => {
  const startLive = E.liveTensors();
  const tr = makeTrainer();
  for (let i = 0; i < 30; i++) tr.step(false);
  await collect();
  const rss0 = process.memoryUsage().rss;
  const live0 = E.liveTensors();
  let first = 0;
  let last = 0;
  for (let i = 0; i < 300; i++) {
    last = tr.step(false);
    if (i === 0) first = last;
  }
  await collect();
  const growth = (process.memoryUsage().rss - rss0) / 2 ** 20;
  ctx.diagnostic(`RSS growth over 300 steps: ${growth.toFixed(2)} MiB`);
  assert.equal(E.liveTensors(), live0, 'no tensor handle escaped the steps');
  assert.ok(growth < 12, `RSS grew by ${growth.toFixed(1)} MiB over 300 steps`);
  assert.ok(last < first, `the loss goes down (${first} -> ${last})`);
  tr.dispose();
  assert.equal(E.liveTensors(), startLive);
});

test('control: the same loop leaking one activation per step grows RSS (the measure can fail)', async (ctx) => {
  const tr = makeTrainer();
  for (let i = 0; i < 5; i++) tr.step(false);
  await collect();
  const rss0 = process.memoryUsage().rss;
  const live0 = E.liveTensors();
  for (let i = 0; i < 60; i++) tr.step(true); // each leaks 16x8x32x32 float32 = 512 KiB
  await collect();
  const growth = (process.memoryUsage().rss - rss0) / 2 ** 20;
  ctx.diagnostic(`RSS growth over 60 leaking steps: ${growth.toFixed(2)} MiB`);
  assert.equal(E.liveTensors(), live0 + 60);
  assert.ok(growth > 20, `RSS grew only ${growth.toFixed(1)} MiB`);
  tr.dispose();
});
