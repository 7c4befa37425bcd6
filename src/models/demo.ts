// The `audiotag demo` run, which needs no data set: a tiny CNN learns to tell noise from noise with a
// tone in it (a bright row in a spectrogram-like 16×16 image); it reports the loss as it falls and the
// accuracy on held-out examples. Later issues replace it with a real-recordings demo.

import { Random } from '../core/random.js';
import * as E from '../engine/index.js';
import { Adam } from '../engine/optim.js';
import {
  AdaptiveMaxPool2d,
  BatchNorm2d,
  Conv2d,
  crossEntropy,
  Flatten,
  Linear,
  MaxPool2d,
  ReLU,
  Sequential,
} from '../nn/index.js';

const SIDE = 16;

/** n examples, half noise (class 0), half noise plus a "tone": one row raised along its whole length. */
function makeData(n: number, rng: Random): { x: E.Tensor; y: E.Tensor } {
  const data = new Float32Array(n * SIDE * SIDE);
  const labels = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    const label = i % 2;
    labels[i] = BigInt(label);
    const base = i * SIDE * SIDE;
    for (let j = 0; j < SIDE * SIDE; j++) data[base + j] = rng.normal(0, 1);
    if (label === 1) {
      const row = rng.int(0, SIDE);
      const level = rng.uniform(1.5, 2.5);
      for (let c = 0; c < SIDE; c++) data[base + row * SIDE + c]! += level;
    }
  }
  return { x: E.tensor(data, [n, 1, SIDE, SIDE]), y: E.tensor(labels, [n], { dtype: 'int64' }) };
}

export interface DemoResult {
  losses: number[];
  accuracy: number;
  seconds: number;
}

export function runDemo(opts: { steps: number; seed: number; log?: (s: string) => void }): DemoResult {
  const log = opts.log ?? (() => {});
  const t0 = performance.now();
  E.manualSeed(opts.seed);
  const rng = new Random(opts.seed);
  const model = new Sequential(
    new Conv2d(1, 8, [3, 7], { padding: [1, 3] }), // wide in time: a tone is a horizontal line
    new BatchNorm2d(8),
    new ReLU(),
    new MaxPool2d(2),
    new Conv2d(8, 16, 3, { padding: 1 }),
    new BatchNorm2d(16),
    new ReLU(),
    new AdaptiveMaxPool2d(1), // max: "is there a tone anywhere", not "how much"
    new Flatten(),
    new Linear(16, 2),
  );
  const train = makeData(512, rng);
  const test = makeData(256, rng);
  const opt = new Adam(model.parameters(), { lr: 0.01 });
  const losses: number[] = [];
  const batch = 32;
  log(`tiny CNN, ${model.numParameters()} parameters; noise vs noise+tone, ${opts.steps} steps of ${batch}`);
  try {
    for (let step = 0; step < opts.steps; step++) {
      const loss = E.tidy(() => {
        const idx = E.randint(0, 512, [batch], { dtype: 'int64' });
        const l = crossEntropy(model.call(train.x.indexSelect(0, idx)), train.y.indexSelect(0, idx));
        opt.zeroGrad();
        l.backward();
        opt.step();
        return l.item();
      });
      if (!Number.isFinite(loss)) throw new Error(`demo: loss became ${loss} at step ${step + 1}`);
      losses.push(loss);
      if (step === 0 || (step + 1) % 5 === 0 || step === opts.steps - 1)
        log(`step ${String(step + 1).padStart(3)}  loss ${loss.toFixed(4)}`);
    }
    model.eval();
    const accuracy = E.tidy(() =>
      E.noGrad(() => model.call(test.x).argmax(1).eq(test.y).to('float32').mean().item()),
    );
    const seconds = (performance.now() - t0) / 1000;
    log(`held-out accuracy ${(accuracy * 100).toFixed(1)} % on 256 examples (${seconds.toFixed(1)} s)`);
    return { losses, accuracy, seconds };
  } finally {
    E.dispose([train.x, train.y, test.x, test.y]);
    model.dispose();
    opt.dispose();
  }
}
