import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { createModel } from '../../src/models/index.js';
import { maxAbsDiff, standardModelTests } from './zoo-helpers.js';

standardModelTests({
  name: 'crnn',
  input: [2, 1, 32, 24],
  framewise: [2, 24, 10],
  badValue: [{ pools: [[2, 2]] }, 'pools'],
});

test('crnn: pooled frame-wise logits come one per GRU step; the input-rate ones repeat them', () => {
  E.manualSeed(3);
  const pooled = createModel('crnn', { framewiseResolution: 'pooled', numClasses: 4 });
  const full = createModel('crnn', { framewiseResolution: 'input', numClasses: 4 });
  try {
    const sd = pooled.stateDict();
    full.loadStateDict(sd);
    E.dispose(sd);
    pooled.eval();
    full.eval();
    E.tidy(() => {
      const x = E.randn([2, 1, 16, 22]);
      const a = E.noGrad(() => pooled.call(x));
      const b = E.noGrad(() => full.call(x));
      // Time pooling 2 × 2 × 1: 22 frames → 5 steps (floor), repeated back to 22 rows.
      assert.deepEqual(a.framewise!.shape, [2, 5, 4]);
      assert.deepEqual(b.framewise!.shape, [2, 22, 4]);
      assert.equal(maxAbsDiff(a.clipwise, b.clipwise), 0);
      for (let t = 0; t < 22; t++) {
        const src = Math.floor((t * 5) / 22);
        assert.equal(
          maxAbsDiff(b.framewise!.select(1, t), a.framewise!.select(1, src)),
          0,
          `frame ${t} ← step ${src}`,
        );
      }
      // Clip-wise = the classifier on mean + max over the steps, so it is not a plain average of frames.
      assert.ok(maxAbsDiff(a.clipwise, a.framewise!.mean(1)) > 1e-4);
    });
  } finally {
    pooled.dispose();
    full.dispose();
  }
});

test('crnn: the GRU is bidirectional by default and frames too short for the pooling are refused', () => {
  const m = createModel('crnn') as unknown as {
    gru: { bidirectional: boolean };
    dispose(): void;
    call(x: E.Tensor): unknown;
  };
  try {
    assert.equal(m.gru.bidirectional, true);
    assert.throws(
      () => E.tidy(() => m.call(E.randn([1, 1, 4, 24]))),
      /crnn: expected input \[B, 1, mel bins ≥ 8, frames ≥ 4\], got \[1, 1, 4, 24\]/,
    );
  } finally {
    m.dispose();
  }
});
