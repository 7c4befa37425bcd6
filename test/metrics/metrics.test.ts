// Hand-worked examples, the accepted input shapes, and the errors metrics raise.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ndarray } from '../../src/core/ndarray.js';
import {
  accuracy,
  argmax,
  computeMetrics,
  confusionMatrix,
  lwlrap,
  lwlrapPerClass,
  mapAtK,
  mapAtKFromLists,
  paddedCmap,
  rocAuc,
  topKAccuracy,
} from '../../src/metrics/index.js';

describe('metrics by hand', () => {
  it('lwlrap: precision at the rank of each true label, ties at the worst rank', () => {
    // Row 0: true class 0 ranked third of three -> 1/3. Row 1: true classes 1 and 2 ranked 1st and 2nd -> 1, 1.
    assert.equal(
      lwlrap(
        [
          [0.1, 0.9, 0.4],
          [0.1, 0.9, 0.4],
        ],
        [
          [1, 0, 0],
          [0, 1, 1],
        ],
      ),
      (1 / 3 + 1 + 1) / 3,
    );
    // All three tied: the true label counts as ranked third (1/3), not first.
    assert.equal(lwlrap([[0.5, 0.5, 0.5]], [[0, 1, 0]]), 1 / 3);
    const r = lwlrapPerClass(
      [
        [0.9, 0.1],
        [0.2, 0.8],
        [0.7, 0.3],
      ],
      [
        [1, 0],
        [1, 0],
        [0, 1],
      ],
    );
    assert.deepEqual([...r.perClass], [(1 + 0.5) / 2, 0.5]);
    assert.deepEqual([...r.weights], [2 / 3, 1 / 3]);
  });

  it('MAP@3: 1, 1/2, 1/3 or 0 by position; lists count a repeated class once', () => {
    const scores = [
      [0.9, 0.5, 0.3, 0.1],
      [0.9, 0.5, 0.3, 0.1],
      [0.9, 0.5, 0.3, 0.1],
      [0.9, 0.5, 0.3, 0.1],
    ];
    assert.equal(mapAtK(scores, [0, 1, 2, 3], 3), (1 + 1 / 2 + 1 / 3 + 0) / 4);
    assert.equal(mapAtKFromLists([[0, 1], [2, 2, 1], [3]], [1, 1, 0], 3), (1 / 2 + 1 / 3 + 0) / 3);
  });

  it('top-k and argmax break ties as scikit-learn and numpy do', () => {
    // Tied scores: numpy's argmax takes class 0; sklearn's top-k order puts class 1 first.
    const scores = [[0.5, 0.5, 0.1]];
    assert.deepEqual([...argmax(scores)], [0]);
    assert.equal(accuracy(scores, [0]), 1);
    assert.equal(topKAccuracy(scores, [0], 1), 0);
    assert.equal(topKAccuracy(scores, [0], 2), 1);
  });

  it('ROC-AUC counts a tied positive/negative pair as one half', () => {
    assert.equal(rocAuc([[0.5], [0.5], [0.9], [0.1]], [[1], [0], [1], [0]]), (1 + 1 + 0.5 + 1) / 4);
  });

  it('padded cmAP gives absent classes a perfect AP from the padding', () => {
    // Class 1 has no positives: its padded AP is 1 only when no real row outranks the padding.
    const v = paddedCmap(
      [
        [0.9, 0.2],
        [0.1, 0.3],
      ],
      [
        [1, 0],
        [0, 0],
      ],
      5,
    );
    assert.equal(v, 1);
  });

  it('the confusion matrix has true classes as rows', () => {
    assert.deepEqual(
      confusionMatrix(
        [
          [0.9, 0.1],
          [0.8, 0.2],
          [0.3, 0.7],
        ],
        [0, 1, 1],
      ),
      [
        [1, 0],
        [1, 1],
      ],
    );
  });
});

describe('metric inputs', () => {
  const rows = [
    [0.2, 0.7, 0.1],
    [0.6, 0.3, 0.1],
    [0.2, 0.3, 0.5],
    [0.1, 0.3, 0.6],
  ];
  const idx = [1, 0, 0, 2];
  const hot = idx.map((i) => [0, 1, 2].map((j) => (j === i ? 1 : 0)));

  it('number[][], flat Float32Array and NDArray scores agree; indices and one-hot truth agree', () => {
    const flat = Float32Array.from(rows.flat());
    const nd = ndarray(flat, [4, 3]);
    const expected = lwlrap(rows, hot);
    assert.equal(
      lwlrap(Float32Array.from(rows.flat().map(Math.fround)), idx),
      lwlrap(
        rows.map((r) => r.map(Math.fround)),
        hot,
      ),
    );
    assert.equal(
      lwlrap(flat, Int32Array.from(idx)),
      lwlrap(nd, ndarray(Float32Array.from(hot.flat()), [4, 3])),
    );
    assert.ok(Math.abs(lwlrap(rows, idx) - expected) < 1e-15);
    assert.equal(accuracy(flat, idx), 0.75);
  });

  it('errors name the row and column', () => {
    assert.throws(() => lwlrap([[0.1, Number.NaN]], [[1, 0]]), /scores\[0\]\[1\] is NaN/);
    assert.throws(() => lwlrap(rows, hot.slice(1)), /4 score rows but 3 truth rows/);
    assert.throws(() => lwlrap(rows, [[1, 0]].concat(hot.slice(1))), /truth row 1 has 3 values, row 0 has 2/);
    assert.throws(() => accuracy(rows, [1, 0, 3, 0]), /truth\[2\] = 3 is not a class index in 0\.\.2/);
    assert.throws(() => accuracy(rows, [[1, 1, 0], ...hot.slice(1)]), /row 0 has 2/);
    assert.throws(() => lwlrap(rows, [[0, 0.5, 0], ...hot.slice(1)]), /truth\[0\]\[1\] = 0.5/);
    assert.throws(() => lwlrap(new Float32Array(7), idx), /7 flat scores do not split into 4 rows/);
    assert.throws(() => lwlrap([[0.1, 0.2]], [[0, 0]]), /no positive labels/);
  });
});

describe('computeMetrics', () => {
  it('computes each named metric, parameterised names included', () => {
    const scores = [
      [0.2, 0.7, 0.1],
      [0.6, 0.3, 0.1],
    ];
    const m = computeMetrics(['accuracy', 'top2', 'map3', 'f1_micro', 'lwlrap', 'cmap1'], scores, [1, 1]);
    assert.deepEqual(Object.keys(m), ['accuracy', 'top2', 'map3', 'f1_micro', 'lwlrap', 'cmap1']);
    assert.equal(m.accuracy, 0.5);
    assert.equal(m.top2, 1);
    assert.equal(m.map3, (1 + 0.5) / 2);
    assert.equal(m.f1_micro, 0.5);
    assert.equal(m.lwlrap, 0.75);
  });

  it('lists every unknown name at once', () => {
    assert.throws(
      () => computeMetrics(['lwlrap', 'bogus', 'mapp'], [[1, 0]], [0]),
      /unknown metrics bogus, mapp/,
    );
  });

  it('macro AUC leaves out classes a fold lacks', () => {
    const v = computeMetrics(
      ['auc_macro'],
      [
        [0.9, 0.1, 0.2],
        [0.2, 0.8, 0.1],
      ],
      [0, 1],
    );
    assert.equal(v.auc_macro, 1);
  });
});
