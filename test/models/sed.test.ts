import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { createModel, type Sed } from '../../src/models/index.js';
import { assertClose } from '../nn/helpers.js';
import { loadModelFixture, maxAbsDiff, ref, standardModelTests } from './zoo-helpers.js';

standardModelTests({
  name: 'sed',
  input: [2, 1, 64, 32],
  framewise: [2, 32, 10],
  badValue: [{ framewiseResolution: 'frames' }, 'framewiseResolution'],
});

test('sed with PyTorch’s weights: σ(clipwise) is PANNs’ attention-pooled probability, clipwise its logit', () => {
  const { t, sd } = loadModelFixture('sed_small.safetensors');
  const m = createModel('sed', ref.sed_small_config) as Sed;
  try {
    m.loadStateDict(sd);
    m.eval();
    E.tidy(() => {
      const out = E.noGrad(() => m.call(t.x!));
      assertClose(out.clipwise.sigmoid(), t.clip_prob!, 1e-6, 1e-5, 'clip-wise probability');
      assertClose(out.clipwise, t.clip_logit!.to('float32'), 1e-5, 1e-4, 'clip-wise logit');
      assertClose(out.framewise!, t.framewise!, 1e-5, 1e-4, 'frame-wise logits (pooled rate)');
      // Attention pooling, not a mean: the clip probability is not the frame average.
      assert.ok(maxAbsDiff(out.clipwise.sigmoid(), out.framewise!.sigmoid().mean(1)) > 1e-3);
    });
  } finally {
    m.dispose();
    E.dispose(t);
  }
});

test('sed: saturated frames still give finite clip logits and gradients (no log(0))', () => {
  E.manualSeed(6);
  const m = createModel('sed', { melBins: null, channels: [8, 16], numClasses: 3 }) as Sed;
  try {
    m.eval();
    // Huge `cla` weights push σ(cla) to exactly 0 or 1 in float32.
    E.noGrad(() => m.cla.weight.mul_(1e4));
    E.tidy(() => {
      const out = m.call(E.randn([2, 1, 16, 32]).mul(3));
      assert.ok(out.clipwise.isfinite().all().item(), `finite logits: ${out.clipwise.toArray()}`);
      assert.ok(out.clipwise.abs().max().item() > 50, 'beyond what logit(clamp(p)) could express');
      out.clipwise.sum().backward();
      assert.ok(m.cla.weight.grad!.isfinite().all().item(), 'finite gradients');
      assert.ok(m.att.weight.grad!.abs().sum().item() > 0, 'the attention still learns');
    });
  } finally {
    m.dispose();
  }
});

test('sed: the input must have melBins bins; melBins null drops the input BatchNorm', () => {
  const m = createModel('sed', { channels: [8] });
  const n = createModel('sed', { channels: [8], melBins: null }) as Sed;
  try {
    assert.throws(
      () => E.tidy(() => m.call(E.randn([1, 1, 40, 32]))),
      /sed: the input has 40 mel bins but the model's melBins is 64/,
    );
    assert.equal(n.bn0, null);
    assert.ok(!n.stateDictKeys().some((k) => k.startsWith('bn0.')));
    E.tidy(() =>
      assert.deepEqual(
        E.noGrad(() => n.eval().call(E.randn([1, 1, 40, 32])).framewise!.shape),
        [1, 32, 10],
      ),
    );
  } finally {
    m.dispose();
    n.dispose();
  }
});
