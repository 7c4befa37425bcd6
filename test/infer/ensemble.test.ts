// The ensemble and post-processing arithmetic against hand computations.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  combine,
  fileBoost,
  mergeEvents,
  poolWindows,
  rankColumns,
  smoothNeighbours,
  topK,
  tuneThresholds,
} from '../../src/infer/ensemble.js';

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-6) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= tol, `[${i}] ${a[i]} vs ${b[i]}`);
};

describe('ensemble arithmetic', () => {
  // Two models, 2 rows, 2 classes.
  const a = Float32Array.from([0.2, 0.8, 0.6, 0.4]);
  const b = Float32Array.from([0.4, 0.6, 0.1, 0.9]);
  test('mean, weighted per model and per class', () => {
    close(combine('mean', [a, b], 2, 2), [0.3, 0.7, 0.35, 0.65]);
    // class 0 weights 1:3, class 1 weights 1:1
    close(
      combine('mean', [a, b], 2, 2, [
        [1, 1],
        [3, 1],
      ]),
      [0.35, 0.7, 0.225, 0.65],
    );
  });
  test('geometric mean of probabilities', () => {
    close(combine('geometric', [a, b], 2, 2), [
      Math.sqrt(0.08),
      Math.sqrt(0.48),
      Math.sqrt(0.06),
      Math.sqrt(0.36),
    ]);
    close(
      combine('geometric', [a, b], 2, 2, [
        [1, 1],
        [3, 1],
      ]),
      [0.2 ** 0.25 * 0.4 ** 0.75, Math.sqrt(0.48), 0.6 ** 0.25 * 0.1 ** 0.75, Math.sqrt(0.36)],
    );
  });
  test('rank average: per-class ranks over the rows, ties averaged', () => {
    close(rankColumns(Float32Array.from([0.1, 0.5, 0.3, 0.5, 0.2, 0.9]), 3, 2), [
      1 / 3,
      0.5,
      1,
      0.5,
      2 / 3,
      1,
    ]);
    // a ranks rows (0.2, 0.6) → (1/2, 1), b ranks (0.4, 0.1) → (1, 1/2) on class 0.
    close(combine('rank', [a, b], 2, 2), [0.75, 0.75, 0.75, 0.75]);
  });
});

describe('post-processing', () => {
  const s = Float32Array.from([0.1, 0.9, 0.7, 0.2, 0.8, 0.1, 0.2, 0.3]); // 4 windows × 2 classes
  test('neighbour smoothing, file-level boost, clip pooling', () => {
    close(smoothNeighbours(s, 4, 2, 1), [0.4, 0.55, 1.6 / 3, 1.2 / 3, 1.7 / 3, 0.2, 0.5, 0.2]);
    close(fileBoost(s, 4, 2, 2, 0.75), [0.2, 1, 1, 0.4, 1, 0.2, 0.4, 0.6]);
    close(fileBoost(s, 4, 2, 2, 0.85), [0.1, 1, 0.7, 0.4, 0.8, 0.2, 0.2, 0.6]);
    close(fileBoost(s, 4, 2, 2, 0.95), s);
    close(poolWindows(s, 4, 2, 'mean'), [0.45, 0.375]);
    close(poolWindows(s, 4, 2, 'max'), [0.8, 0.9]);
    // attention: weights ∝ p/(1−p) per class.
    const att = (ps: number[]) => {
      const w = ps.map((p) => p / (1 - p));
      return ps.reduce((acc, p, i) => acc + p * w[i]!, 0) / w.reduce((x, y) => x + y, 0);
    };
    close(poolWindows(s, 4, 2, 'attention'), [att([0.1, 0.7, 0.8, 0.2]), att([0.9, 0.2, 0.1, 0.3])], 1e-6);
    assert.deepEqual(topK([0.1, 0.5, 0.3], 2), [1, 2]);
  });
  test('events: consecutive windows over the threshold merged, short ones dropped, top-k', () => {
    const windows = [0, 1, 2, 3].map((i) => ({ start: i * 0.5, end: i * 0.5 + 1 }));
    const ev = mergeEvents(windows, s, ['a', 'b'], { thresholds: [0.5, 0.5] });
    assert.deepEqual(
      ev.map((e) => [e.start, e.end, e.label, Number(e.confidence.toFixed(3))]),
      [
        [0, 1, 'b', 0.9],
        [0.5, 2, 'a', 0.8],
      ],
    );
    assert.deepEqual(
      mergeEvents(windows, s, ['a', 'b'], { thresholds: [0.5, 0.5], minDuration: 1.2 }).map((e) => e.label),
      ['a'],
    );
    assert.equal(mergeEvents(windows, s, ['a', 'b'], { thresholds: [0.05, 0.05], topK: 1 }).length, 3);
  });
  test('thresholds tuned for F1 per class', () => {
    const scores = Float32Array.from([0.9, 0.1, 0.6, 0.4, 0.3, 0.35, 0.2, 0.8]);
    const hot = Uint8Array.from([1, 0, 1, 0, 0, 1, 0, 1]);
    const t = tuneThresholds(scores, hot, 4, 2);
    // class 0: positives 0.9, 0.6; negatives 0.3, 0.2 → any t in (0.3, 0.6] gives F1 1; the lowest grid value is 0.31.
    assert.equal(t.thresholds[0], 0.31);
    // class 1: positives 0.35, 0.8; negatives 0.1, 0.4 → t ≤ 0.35 (above 0.1) gives F1 0.8, t in (0.4, 0.8] gives 2/3.
    assert.equal(t.thresholds[1], 0.11);
    close(t.f1, [1, 0.8]);
  });
});
