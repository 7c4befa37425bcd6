// The trainer's memory format: channels-last by default (conv weights and 4-D batches in NHWC), and the
// same training as the contiguous layout up to summation order (docs/engine.md, Speed).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { validateConfig } from '../../src/train/config.js';
import { trainModel } from '../../src/train/trainer.js';
import { toyTrainOptions } from './helpers.js';

test('train.memoryFormat defaults to channels-last in the config and the trainer', async () => {
  const cfg = validateConfig({
    data: { manifest: 'x' },
    features: 'speech',
    model: { name: 'small-cnn' },
    train: { epochs: 1, optimizer: { lr: 0.01 } },
  });
  assert.equal(cfg.train.memoryFormat, 'channels-last');
  const o = toyTrainOptions();
  await trainModel(o);
  const convs = o.model.parameters().filter((p) => p.ndim === 4);
  assert.ok(convs.length > 0);
  for (const w of convs) {
    assert.equal(w.isContiguous('channels-last'), true, 'conv weights are NHWC');
    // (one input channel: both layouts are the same strides)
    if (w.shape[1]! > 1) assert.equal(w.isContiguous(), false, 'and no longer NCHW');
  }
  o.model.dispose();
});

test('channels-last trains like contiguous: the same losses and weights up to summation order', async () => {
  const a = toyTrainOptions({ memoryFormat: 'contiguous' });
  const ra = await trainModel(a);
  const b = toyTrainOptions();
  const rb = await trainModel(b);
  assert.equal(a.model.parameters()[0]!.isContiguous(), true, 'the contiguous run stays NCHW');
  for (let e = 0; e < ra.history.length; e++) {
    const la = ra.history[e]!.train_loss;
    const lb = rb.history[e]!.train_loss;
    assert.ok(Math.abs(la - lb) < 1e-4 * Math.max(1, la), `epoch ${e}: ${la} vs ${lb}`);
  }
  assert.equal(ra.best.accuracy, rb.best.accuracy);
  const pa = a.model.parameters();
  const pb = b.model.parameters();
  for (let i = 0; i < pa.length; i++) {
    const d = E.tidy(() => pa[i]!.sub(pb[i]!).abs().max().item());
    const scale = E.tidy(() => pa[i]!.abs().max().item());
    assert.ok(d <= 1e-4 * Math.max(1, scale), `parameter ${i}: max |Δ| ${d}`);
  }
  a.model.dispose();
  b.model.dispose();
});
