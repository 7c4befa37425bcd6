import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { createModel, type ResNet } from '../../src/models/index.js';
import { assertClose } from '../nn/helpers.js';
import { loadModelFixture, maxAbsDiff, ref, standardModelTests } from './zoo-helpers.js';

standardModelTests({
  name: 'resnet18',
  input: [2, 1, 32, 40],
  badValue: [{ stem: 'deep' }, 'stem'],
});

standardModelTests({
  name: 'resnet34',
  input: [2, 1, 32, 40],
  badValue: [{ baseWidth: 0 }, 'baseWidth'],
});

describe('resnet', () => {
  test('ImageNet shapes (3 channels, 1000 classes) have the published parameter counts', () => {
    for (const name of ['resnet18', 'resnet34']) {
      const m = createModel(name, { inChannels: 3, numClasses: 1000 });
      try {
        assert.equal(m.numParameters(), ref.published[name]);
      } finally {
        m.dispose();
      }
    }
  });

  test('resnet18 with PyTorch’s weights gives PyTorch’s outputs (eval and train), gradient and BN update', () => {
    const { t, sd } = loadModelFixture('resnet18_small.safetensors');
    const m = createModel('resnet18', ref.resnet18_small_config) as ResNet;
    try {
      m.loadStateDict(sd);
      m.eval();
      E.tidy(() =>
        assertClose(
          E.noGrad(() => m.call(t.x!).clipwise),
          t.y_eval!,
          1e-5,
          1e-4,
          'eval logits',
        ),
      );
      m.train();
      E.tidy(() => {
        const y = m.call(t.x!).clipwise;
        assertClose(y, t.y_train!, 1e-5, 1e-4, 'train logits');
        y.mul(E.arange(1, 6).to('float32')).sum().backward();
        assertClose(m.conv1.weight.grad!, t.grad_conv1!, 1e-5, 1e-3, 'conv1 gradient');
        const block = m.layer1.get(0) as unknown as { bn1: { running_mean: E.Tensor } };
        assertClose(block.bn1.running_mean, t.running_mean_after!, 1e-6, 1e-4, 'running mean after one step');
      });
    } finally {
      m.dispose();
      E.dispose(t);
    }
  });

  test('the cifar stem keeps the input resolution into layer1; zeroInitResidual zeroes each block’s bn2', () => {
    const a = createModel('resnet18', { stem: 'cifar', baseWidth: 8, zeroInitResidual: true }) as ResNet;
    try {
      E.tidy(() => {
        const x = E.randn([1, 1, 16, 16]);
        const y = E.noGrad(() => {
          const s = a.bn1.call(a.conv1.call(x));
          return a.layer1.call(s);
        });
        assert.deepEqual(y.shape, [1, 8, 16, 16]);
        const bn2 = (a.layer2.get(1) as unknown as { bn2: { weight: E.Tensor } }).bn2.weight;
        assert.equal(bn2.abs().sum().item(), 0);
        assert.ok(maxAbsDiff(a.bn1.weight!, E.onesLike(a.bn1.weight!)) === 0, 'the stem BN is untouched');
      });
    } finally {
      a.dispose();
    }
  });
});
