// mixWithNoisySource: every curated batch mixed with a noisy batch (MixWithNoisy), the curated share
// dominating, pixels and targets mixed in the same proportion, the same for the same epoch.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Batch, BatchSource } from '../../src/data/loader.js';
import { mixWithNoisySource } from '../../src/pipelines/runner.js';

/** Batches of `rows` rows of 4 values all equal to `value`, target one-hot at `cls`. */
function source(value: number, cls: number, batches: number, rows = 3): BatchSource & { closed: boolean } {
  const s = {
    size: batches * rows,
    batchesPerEpoch: batches,
    closed: false,
    async *epoch(): AsyncIterable<Batch> {
      for (let b = 0; b < batches; b++) {
        const t = new Float32Array(rows * 2);
        for (let r = 0; r < rows; r++) t[r * 2 + cls] = 1;
        yield {
          inputs: { data: new Float32Array(rows * 4).fill(value), shape: [rows, 1, 2, 2] },
          targets: { data: t, shape: [rows, 2] },
          ids: Array.from({ length: rows }, (_, r) => `${value}-${b}-${r}`),
          clipIndex: Int32Array.from({ length: rows }, (_, r) => b * rows + r),
          offsets: new Int32Array(rows),
        };
      }
    },
    async close() {
      s.closed = true;
    },
  };
  return s;
}

describe('mixWithNoisySource', () => {
  it('mixes each curated row with a noisy one: λ ≥ 0.5 for curated, targets in the same proportion', async () => {
    const cur = source(1, 0, 5);
    const noisy = source(0, 1, 2); // fewer batches: the noisy loader starts a new pass
    const mixed = mixWithNoisySource(cur, noisy, { p: 1, alpha: 0.75 }, 3);
    const seen: number[] = [];
    let batches = 0;
    for await (const b of mixed.epoch(0)) {
      batches++;
      for (let r = 0; r < 3; r++) {
        const lam = b.inputs.data[r * 4]!;
        assert.ok(lam >= 0.5 && lam < 1, `row ${r}: curated share ${lam}`);
        assert.ok(Math.abs(b.targets.data[r * 2]! - lam) < 1e-6);
        assert.ok(Math.abs(b.targets.data[r * 2 + 1]! - (1 - lam)) < 1e-6);
        seen.push(lam);
      }
    }
    assert.equal(batches, 5);
    const again: number[] = [];
    for await (const b of mixed.epoch(0)) for (let r = 0; r < 3; r++) again.push(b.inputs.data[r * 4]!);
    assert.deepEqual(again, seen);
    const other: number[] = [];
    for await (const b of mixed.epoch(1)) for (let r = 0; r < 3; r++) other.push(b.inputs.data[r * 4]!);
    assert.notDeepEqual(other, seen);
    await mixed.close();
    assert.ok(cur.closed && noisy.closed);
  });

  it('p = 0 leaves the curated batches as they are', async () => {
    const mixed = mixWithNoisySource(source(1, 0, 2), source(0, 1, 2), { p: 0, alpha: 0.75 }, 3);
    for await (const b of mixed.epoch(0)) assert.ok(b.inputs.data.every((v) => v === 1));
  });
});
