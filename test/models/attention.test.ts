// src/nn/attention.ts (written for spec-transformer) against torch.nn.MultiheadAttention and
// torch.nn.TransformerEncoderLayer; the pre-norm batch-first path is covered by spec-transformer.test.ts.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { MultiheadAttention, TransformerEncoderLayer } from '../../src/nn/index.js';
import { loadSafetensors } from '../../src/nn/safetensors.js';
import { assertClose } from '../nn/helpers.js';
import { fixturePath, maxAbsDiff } from './zoo-helpers.js';

function prefixed(t: Record<string, E.Tensor>, p: string): Record<string, E.Tensor> {
  return Object.fromEntries(
    Object.entries(t)
      .filter(([k]) => k.startsWith(p))
      .map(([k, v]) => [k.slice(p.length), v]),
  );
}

test('MultiheadAttention: PyTorch’s names, and its outputs and weights with key-padding and bool masks', () => {
  const t = loadSafetensors(fixturePath('mha.safetensors')).tensors;
  const mha = new MultiheadAttention(8, 2);
  try {
    assert.deepEqual(mha.stateDictKeys(), [
      'in_proj_weight',
      'in_proj_bias',
      'out_proj.weight',
      'out_proj.bias',
    ]);
    mha.loadStateDict(prefixed(t, 'mha.'));
    mha.eval();
    E.tidy(() => {
      const masks = { keyPaddingMask: t.key_padding_mask!, attnMask: t.attn_mask! };
      const r = mha.forwardWithWeights(t.q!, t.kv!, t.kv!, masks);
      assertClose(r.output, t.out!, 1e-6, 1e-5, 'masked output');
      assertClose(r.weights, t.weights!, 1e-6, 1e-5, 'head-averaged weights');
      // Masked keys get exactly zero weight.
      assert.equal(r.weights.select(0, 0).narrow(1, 3, 2).abs().sum().item(), 0);
      assertClose(mha.call(t.q!, t.kv!, t.kv!), t.out_plain!, 1e-6, 1e-5, 'unmasked output');
      assert.ok(maxAbsDiff(r.output, t.out_plain!) > 1e-3, 'the masks change the result');
    });
    assert.throws(
      () => E.tidy(() => mha.call(E.zeros([3, 2, 6]))),
      /MultiheadAttention: query must be \[L, B, 8\]/,
    );
    assert.throws(() => new MultiheadAttention(8, 3), /numHeads 3 must divide embedDim 8/);
  } finally {
    mha.dispose();
    E.dispose(t);
  }
});

test('TransformerEncoderLayer: post-norm ReLU (PyTorch’s default) with a padding mask gives PyTorch’s output', () => {
  const t = loadSafetensors(fixturePath('mha.safetensors')).tensors;
  const layer = new TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0 });
  try {
    layer.loadStateDict(prefixed(t, 'layer.'));
    layer.eval();
    E.tidy(() => {
      const y = layer.call(t.src!, { keyPaddingMask: t.key_padding_mask! });
      assertClose(y, t.enc!, 1e-5, 1e-4, 'encoder output');
    });
  } finally {
    layer.dispose();
    E.dispose(t);
  }
});

test('after manualSeed(0) MultiheadAttention and TransformerEncoderLayer draw PyTorch’s initial weights', () => {
  const t = loadSafetensors(fixturePath('mha.safetensors')).tensors;
  E.manualSeed(0);
  const mha = new MultiheadAttention(8, 2);
  const layer = new TransformerEncoderLayer(8, 2, { dimFeedforward: 16 });
  try {
    for (const [m, p] of [
      [mha, 'seed0_mha.'],
      [layer, 'seed0_layer.'],
    ] as const) {
      const want = prefixed(t, p);
      const have = m.stateDict();
      assert.deepEqual(Object.keys(have), Object.keys(want));
      for (const k of Object.keys(want)) assertClose(have[k]!, want[k]!, 0, 0, `${p}${k}`);
      E.dispose(have);
    }
  } finally {
    mha.dispose();
    layer.dispose();
    E.dispose(t);
  }
});
