import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { Random } from '../../src/core/random.js';
import * as E from '../../src/engine/index.js';

// One engine thread: on a shared 2-core machine a second OpenMP thread mostly waits, and small models
// run several times slower with it.
E.setNumThreads(1);

import type { Batch, BatchSource } from '../../src/data/loader.js';
import { createModel } from '../../src/models/index.js';
import { validateConfig } from '../../src/train/config.js';
import type { TrainOptions } from '../../src/train/trainer.js';

export const ROOT = new URL('../../', import.meta.url).pathname;
export const SHARED = new URL('../../../shared/data/', import.meta.url).pathname;
export const FSDD = join(SHARED, 'fsdd');

export function tempDir(prefix = 'audiotag-train-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs the CLI from the sources in a child process. */
export { runCli } from '../cli/helpers.js';

/**
 * An in-memory batch source for trainer mechanics (not a loader: no audio): `n` items of shape
 * [1, 8, 8] of noise; class 0 adds horizontal stripes, class 1 vertical ones, class 2 nothing (textures a
 * small CNN tells apart at once). Order shuffled per epoch like the real loader.
 */
export function toySource(
  n: number,
  classes: number,
  opts: { seed?: number; batchSize?: number; poison?: number } = {},
) {
  const rng = new Random(opts.seed ?? 0);
  const size = 64;
  const x = new Float32Array(n * size);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % classes;
    for (let j = 0; j < size; j++) x[i * size + j] = rng.normal(0, 1);
    for (let r = 0; r < 8; r++)
      for (let c = 0; c < 8; c++) {
        const on = y[i] === 0 ? r % 2 === 0 : y[i] === 1 ? c % 2 === 0 : false;
        if (on) x[i * size + r * 8 + c]! += 2;
      }
  }
  if (opts.poison !== undefined) x[opts.poison * size + 3] = Number.NaN;
  const bs = opts.batchSize ?? 8;
  const ids = Array.from({ length: n }, (_, i) => `clip${i}.wav`);
  const source = (training: boolean): BatchSource => ({
    size: n,
    batchesPerEpoch: Math.ceil(n / bs),
    epoch(index: number): AsyncIterable<Batch> {
      const order = Array.from({ length: n }, (_, i) => i);
      if (training) {
        const r = new Random(1000 + index);
        for (let i = n - 1; i > 0; i--) {
          const j = r.int(0, i + 1);
          [order[i], order[j]] = [order[j]!, order[i]!];
        }
      }
      return (async function* () {
        for (let b = 0; b < n; b += bs) {
          const rows = order.slice(b, b + bs);
          const inputs = new Float32Array(rows.length * size);
          const targets = new Float32Array(rows.length * classes);
          rows.forEach((r, k) => {
            inputs.set(x.subarray(r * size, (r + 1) * size), k * size);
            targets[k * classes + y[r]!] = 1;
          });
          yield {
            inputs: { data: inputs, shape: [rows.length, 1, 8, 8] },
            targets: { data: targets, shape: [rows.length, classes] },
            ids: rows.map((r) => ids[r]!),
            clipIndex: Int32Array.from(rows),
            offsets: new Int32Array(rows.length),
          };
        }
      })();
    },
    async close() {},
  });
  const dataset = {
    items: ids.map((id, i) => ({ id, path: `/nowhere/${id}`, labels: [String(y[i])], meta: {} })),
    classes: Array.from({ length: classes }, (_, c) => String(c)),
    multiLabel: false,
  };
  return { train: source(true), val: source(false), dataset };
}

const toyModel = { inChannels: 1, numClasses: 3, channels: [4, 8], convsPerBlock: 1, dropout: 0.1 };

/**
 * Trainer options for a small-cnn on toySource(48, 3): 3 epochs of Adam (lr 0.01) with the config's
 * default schedule and loss, accuracy monitored, engine seed 0, trainer seed 1. `extra` is set on top;
 * `poison` puts a NaN into that clip.
 */
export function toyTrainOptions(extra: Partial<TrainOptions> & { poison?: number } = {}): TrainOptions {
  const { poison, ...rest } = extra;
  const src = toySource(48, 3, { poison });
  const t = validateConfig({
    data: { manifest: 'x' },
    features: 'speech',
    model: { name: 'small-cnn' },
    train: { epochs: 3, optimizer: { lr: 0.01 } },
  }).train;
  E.manualSeed(0);
  return {
    model: createModel('small-cnn', toyModel),
    makeCopy: () => createModel('small-cnn', toyModel),
    modelInfo: { name: 'small-cnn', config: toyModel },
    train: src.train,
    val: src.val,
    valDataset: src.dataset,
    classes: src.dataset.classes,
    multiLabel: false,
    epochs: 3,
    optimizer: t.optimizer,
    schedule: t.schedule,
    loss: t.loss,
    metrics: ['accuracy'],
    monitor: 'accuracy',
    seed: 1,
    ...rest,
  };
}
