// The Module/optimiser path must not leak: a training loop under tidy keeps the live handle count flat
// and RSS bounded. (The engine's own tests cover the raw tensor API.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { Adam } from '../../src/engine/optim.js';
import {
  AdaptiveAvgPool2d,
  BatchNorm2d,
  Conv2d,
  crossEntropy,
  Dropout,
  Flatten,
  Linear,
  MaxPool2d,
  ReLU,
  Sequential,
} from '../../src/nn/index.js';

test('200 training steps of a small CNN: live handles back to start, RSS growth bounded', () => {
  E.manualSeed(0);
  const start = E.liveTensors();
  const model = new Sequential(
    new Conv2d(1, 8, 3, { padding: 1 }),
    new BatchNorm2d(8),
    new ReLU(),
    new MaxPool2d(2),
    new Conv2d(8, 16, 3, { padding: 1 }),
    new BatchNorm2d(16),
    new ReLU(),
    new AdaptiveAvgPool2d(1),
    new Flatten(),
    new Dropout(0.2),
    new Linear(16, 4),
  );
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  const x = E.randn([8, 1, 12, 12]);
  const y = E.randint(0, 4, [8], { dtype: 'int64' });
  const step = () =>
    E.tidy(() => {
      opt.zeroGrad();
      const loss = crossEntropy(model.call(x), y);
      loss.backward();
      opt.step();
      return loss.item();
    });
  for (let i = 0; i < 20; i++) step(); // warm-up: allocator pools and optimiser state settle
  const live = E.liveTensors();
  const rss0 = process.memoryUsage().rss;
  let last = 0;
  for (let i = 0; i < 200; i++) last = step();
  const grown = (process.memoryUsage().rss - rss0) / 2 ** 20;
  assert.ok(Number.isFinite(last));
  assert.equal(E.liveTensors(), live, 'no handle leaks per step');
  // A leak of the batch's activations alone would be ~0.2 MB/step (40 MB over 200 steps).
  assert.ok(grown < 15, `RSS grew ${grown.toFixed(1)} MB over 200 steps`);
  E.dispose([x, y]);
  opt.dispose();
  model.dispose();
  assert.equal(E.liveTensors(), start, 'everything freed at the end');
});
