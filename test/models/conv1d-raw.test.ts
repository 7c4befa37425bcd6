import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { type Conv1dRaw, createModel } from '../../src/models/index.js';
import { standardModelTests } from './zoo-helpers.js';

standardModelTests({
  name: 'conv1d-raw',
  input: [2, 1, 2000],
  badValue: [{ pools: [16, 4] }, 'pools'],
});

test('conv1d-raw: the shortest input is computed from kernels and pools; one sample less is refused', () => {
  const m = createModel('conv1d-raw') as Conv1dRaw;
  try {
    // 1 step ← +4 (two k=3 convs) ← ×4 pool ← +4 ← ×4 ← +4 ← ×16 ← +16 (two k=9 convs)
    assert.equal(m.minLength, 1616);
    m.eval();
    E.tidy(() => {
      const y = E.noGrad(() => m.call(E.randn([1, 1, 1616])).clipwise);
      assert.deepEqual(y.shape, [1, 41]);
    });
    assert.throws(
      () => E.tidy(() => m.call(E.randn([1, 1, 1615]))),
      /conv1d-raw: expected input \[B, 1, samples ≥ 1616\], got \[1, 1, 1615\]/,
    );
    // Global max pooling: a longer clip gives the same output width.
    E.tidy(() =>
      assert.deepEqual(
        E.noGrad(() => m.call(E.randn([1, 1, 5000])).clipwise.shape),
        [1, 41],
      ),
    );
  } finally {
    m.dispose();
  }
});

test('conv1d-raw: kernelSizes must match the blocks', () => {
  assert.throws(
    () => createModel('conv1d-raw', { kernelSizes: [9, 3] }),
    /invalid config: kernelSizes: needs one kernel size per block \(4\), got 2$/,
  );
});
