// Analytic gradients (libtorch autograd through the engine) against central finite differences in
// float64, for the ops training relies on.
import { test } from 'node:test';
import * as F from '../../src/engine/functional.js';
import * as E from '../../src/engine/index.js';
import { gradcheck, input } from './helpers.js';

// Tiny tensors: with two threads the cost is thread hand-off, not arithmetic (and the result is the same).
E.setNumThreads(1);
E.manualSeed(7);

test('conv2d: stride, padding, bias', () => {
  gradcheck('conv2d', (x, w, b) => F.conv2d(x, w, b, { stride: 2, padding: 1 }), [
    input([2, 3, 5, 5], 1),
    input([4, 3, 3, 3], 2),
    input([4], 3),
  ]);
});

test('conv2d: groups, dilation, asymmetric padding', () => {
  gradcheck('conv2d', (x, w) => F.conv2d(x, w, null, { padding: [2, 1], dilation: 2, groups: 2 }), [
    input([1, 4, 6, 5], 4),
    input([2, 2, 3, 2], 5),
  ]);
});

test('conv1d', () => {
  gradcheck('conv1d', (x, w, b) => F.conv1d(x, w, b, { stride: 2, padding: 1 }), [
    input([2, 2, 9], 6),
    input([3, 2, 4], 7),
    input([3], 8),
  ]);
});

test('batchNorm: training (batch statistics) and eval (running statistics)', () => {
  gradcheck('batchNorm train', (x, w, b) => F.batchNorm(x, null, null, w, b, { training: true }), [
    input([3, 2, 3, 3], 9),
    input([2], 10),
    input([2], 11),
  ]);
  E.tidy(() => {
    const rm = E.tensor([0.1, -0.2], [2], { dtype: 'float64' });
    const rv = E.tensor([0.7, 1.3], [2], { dtype: 'float64' });
    gradcheck('batchNorm eval', (x, w, b) => F.batchNorm(x, rm, rv, w, b, { training: false }), [
      input([3, 2, 2, 2], 12),
      input([2], 13),
      input([2], 14),
    ]);
  });
  gradcheck('batchNorm1d train', (x) => F.batchNorm(x, null, null, null, null, { training: true }), [
    input([5, 3], 15),
  ]);
});

test('layerNorm', () => {
  gradcheck('layerNorm', (x, w, b) => F.layerNorm(x, [4], w, b), [
    input([3, 4], 16),
    input([4], 17),
    input([4], 18),
  ]);
});

test('linear', () => {
  gradcheck('linear', (x, w, b) => F.linear(x, w, b), [input([4, 5], 19), input([3, 5], 20), input([3], 21)]);
});

test('pooling: max, avg, adaptive avg/max, 1d and 2d', () => {
  gradcheck('maxPool2d', (x) => F.maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1 }), [
    input([1, 2, 6, 6], 22),
  ]);
  gradcheck('avgPool2d', (x) => F.avgPool2d(x, { kernelSize: 2, ceilMode: true }), [input([1, 2, 5, 5], 23)]);
  gradcheck(
    'avgPool2d exclude pad',
    (x) => F.avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1, countIncludePad: false }),
    [input([1, 2, 5, 5], 24)],
  );
  gradcheck('adaptiveAvgPool2d', (x) => F.adaptiveAvgPool2d(x, [3, 2]), [input([1, 2, 7, 5], 25)]);
  gradcheck('adaptiveMaxPool2d', (x) => F.adaptiveMaxPool2d(x, [2, 3]), [input([1, 2, 7, 5], 26)]);
  gradcheck('maxPool1d', (x) => F.maxPool1d(x, { kernelSize: 3, stride: 2 }), [input([2, 2, 9], 27)]);
  gradcheck('avgPool1d', (x) => F.avgPool1d(x, { kernelSize: 3, stride: 2 }), [input([2, 2, 9], 28)]);
  gradcheck('adaptiveAvgPool1d', (x) => F.adaptiveAvgPool1d(x, 4), [input([2, 2, 9], 29)]);
  gradcheck('adaptiveMaxPool1d', (x) => F.adaptiveMaxPool1d(x, 3), [input([2, 2, 9], 30)]);
});

test('crossEntropy: hard targets, weights, soft targets, label smoothing', () => {
  E.tidy(() => {
    const ids = E.tensor([0, 3, 1, 1, 2], [5], { dtype: 'int64' });
    gradcheck('crossEntropy hard', (x) => F.crossEntropy(x, ids), [input([5, 4], 31, 2)]);
    const w = E.tensor([0.5, 1, 2, 1.5], [4], { dtype: 'float64' });
    gradcheck('crossEntropy weight+ignore', (x) => F.crossEntropy(x, ids, { weight: w, ignoreIndex: 1 }), [
      input([5, 4], 32, 2),
    ]);
    gradcheck('crossEntropy smoothing', (x) => F.crossEntropy(x, ids, { labelSmoothing: 0.1 }), [
      input([5, 4], 33, 2),
    ]);
    const probs = E.tensor(input([5, 4], 34, 2).data, [5, 4]).softmax(1);
    gradcheck('crossEntropy soft', (x) => F.crossEntropy(x, probs), [input([5, 4], 35, 2)]);
    gradcheck(
      'crossEntropy soft+smoothing',
      (x) => F.crossEntropy(x, probs, { labelSmoothing: 0.2, reduction: 'sum' }),
      [input([5, 4], 36, 2)],
    );
  });
});

test('binaryCrossEntropyWithLogits: plain, posWeight, per-element weight', () => {
  E.tidy(() => {
    const t = E.tensor(input([4, 3], 37).data, [4, 3])
      .gt(0)
      .to('float64');
    const pw = E.tensor([0.5, 2, 3], [3], { dtype: 'float64' });
    const w = E.tensor(input([4, 3], 38).data, [4, 3]).abs();
    gradcheck('bce', (x) => F.binaryCrossEntropyWithLogits(x, t), [input([4, 3], 39, 3)]);
    gradcheck(
      'bce posWeight+weight',
      (x) => F.binaryCrossEntropyWithLogits(x, t, { posWeight: pw, weight: w }),
      [input([4, 3], 40, 3)],
    );
  });
});

test('interpolate bilinear, gru', () => {
  gradcheck('interpolate', (x) => F.interpolate(x, { size: [5, 4], mode: 'bilinear' }), [
    input([1, 1, 3, 3], 41),
  ]);
  gradcheck(
    'gru',
    (x, wih, whh, bih, bhh) => F.gru(x, null, [wih, whh, bih, bhh], { batchFirst: true }).output,
    [input([2, 3, 2], 42), input([6, 2], 43), input([6, 2], 44), input([6], 45), input([6], 46)],
  );
});
