import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { benchModel, median } from '../../src/models/bench.js';
import { runDemo } from '../../src/models/demo.js';

describe('bench and demo plumbing', () => {
  test('median', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 2, 3]), 2.5);
    assert.throws(() => median([]), /no values/);
  });

  test('benchModel reports the documented JSON fields and frees what it made', () => {
    const live = E.liveTensors();
    const threads = E.getNumThreads();
    for (const mode of ['train', 'infer'] as const) {
      const r = benchModel({ mode, batch: 2, size: 16, steps: 2, warmup: 1, threads: 1, classes: 5 });
      assert.equal(r.mode, mode);
      assert.equal(r.threads, 1);
      assert.ok(r.ms_per_step > 0 && Number.isFinite(r.ms_per_step));
      assert.ok(Math.abs(r.samples_per_s - (2 / r.ms_per_step) * 1000) < 0.01 * r.samples_per_s);
    }
    E.setNumThreads(threads);
    assert.equal(E.liveTensors(), live);
    assert.throws(() => benchModel({ mode: 'train', batch: 0 }), /batch must be a positive integer, got 0/);
  });

  test('the demo learns noise vs tone (loss falls, held-out accuracy high)', () => {
    const r = runDemo({ steps: 40, seed: 0 });
    const first = r.losses.slice(0, 5).reduce((a, b) => a + b) / 5;
    const last = r.losses.slice(-5).reduce((a, b) => a + b) / 5;
    assert.ok(last < first * 0.6, `loss ${first.toFixed(3)} → ${last.toFixed(3)}`);
    assert.ok(r.accuracy > 0.9, `accuracy ${r.accuracy}`);
  });
});
