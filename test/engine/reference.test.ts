// The engine against PyTorch: forward values and gradients stored by scripts/fixtures/engine_ref.py
// (Debian's python3-torch 1.13, the same libtorch version), compared to 1e-5.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as F from '../../src/engine/functional.js';
import * as E from '../../src/engine/index.js';
import { Adam, AdamW, clipGradNorm, type Optimizer, SGD } from '../../src/engine/optim.js';
import { assertClose, assertTensorClose, type Enc, fromEnc, loadFixture } from './helpers.js';

E.setNumThreads(1);

interface GradCase {
  inputs: Record<string, Enc>;
  args: Record<string, unknown>;
  r: Enc;
  out: Enc;
  grads: Record<string, Enc>;
  runningMeanAfter?: Enc;
  runningVarAfter?: Enc;
}
type AnyCase = GradCase & Record<string, unknown>;
const fx = loadFixture<{ torch: string; cases: Record<string, AnyCase> }>('engine_ref.json');
const cases = fx.cases;

type Fn = (
  inp: Record<string, E.Tensor>,
  args: Record<string, unknown>,
  state: Record<string, E.Tensor>,
) => E.Tensor;
const enc = (a: unknown) => fromEnc(a as Enc);

const ops: Record<string, Fn> = {
  conv2d_stride_pad: (i) => F.conv2d(i.x!, i.w!, i.b, { stride: 2, padding: 1 }),
  conv2d_groups_dilation: (i) => F.conv2d(i.x!, i.w!, null, { padding: [2, 1], dilation: 2, groups: 2 }),
  conv1d: (i) => F.conv1d(i.x!, i.w!, i.b, { stride: 2, padding: 1 }),
  batch_norm_train: (i, _a, s) =>
    F.batchNorm(i.x!, s.rm!, s.rv!, i.w, i.b, { training: true, momentum: 0.1 }),
  batch_norm_eval: (i, _a, s) => F.batchNorm(i.x!, s.rm!, s.rv!, i.w, i.b, { training: false }),
  batch_norm_1d_train: (i, _a, s) => F.batchNorm(i.x!, s.rm!, s.rv!, i.w, i.b, { training: true }),
  layer_norm: (i) => F.layerNorm(i.x!, [5], i.w, i.b),
  linear: (i) => F.linear(i.x!, i.w!, i.b),
  max_pool2d: (i) => F.maxPool2d(i.x!, { kernelSize: 3, stride: 2, padding: 1 }),
  avg_pool2d_ceil: (i) => F.avgPool2d(i.x!, { kernelSize: 2, stride: 2, ceilMode: true }),
  avg_pool2d_pad_exclude: (i) =>
    F.avgPool2d(i.x!, { kernelSize: 3, stride: 2, padding: 1, countIncludePad: false }),
  adaptive_avg_pool2d: (i) => F.adaptiveAvgPool2d(i.x!, [3, 2]),
  adaptive_max_pool2d: (i) => F.adaptiveMaxPool2d(i.x!, [2, 3]),
  max_pool1d: (i) => F.maxPool1d(i.x!, { kernelSize: 3, stride: 2 }),
  avg_pool1d: (i) => F.avgPool1d(i.x!, { kernelSize: 4, stride: 3 }),
  adaptive_avg_pool1d: (i) => F.adaptiveAvgPool1d(i.x!, 4),
  adaptive_max_pool1d: (i) => F.adaptiveMaxPool1d(i.x!, 3),
  cross_entropy_hard: (i) => F.crossEntropy(i.x!, i.t!),
  cross_entropy_weight_ignore: (i, a) =>
    F.crossEntropy(i.x!, i.t!, { weight: enc(a.weight), ignoreIndex: 2 }),
  cross_entropy_soft: (i) => F.crossEntropy(i.x!, i.t!),
  cross_entropy_smoothing: (i) => F.crossEntropy(i.x!, i.t!, { labelSmoothing: 0.1 }),
  cross_entropy_soft_smoothing_sum: (i) =>
    F.crossEntropy(i.x!, i.t!, { labelSmoothing: 0.2, reduction: 'sum' }),
  cross_entropy_none: (i) => F.crossEntropy(i.x!, i.t!, { reduction: 'none' }),
  bce_logits: (i) => F.binaryCrossEntropyWithLogits(i.x!, i.t!),
  bce_logits_weights: (i, a) =>
    F.binaryCrossEntropyWithLogits(i.x!, i.t!, { weight: enc(a.weight), posWeight: enc(a.posWeight) }),
  bce_logits_none: (i, a) =>
    F.binaryCrossEntropyWithLogits(i.x!, i.t!, { posWeight: enc(a.posWeight), reduction: 'none' }),
  interpolate_bilinear: (i) => F.interpolate(i.x!, { size: [7, 5], mode: 'bilinear', alignCorners: false }),
  interpolate_bilinear_corners: (i) =>
    F.interpolate(i.x!, { scaleFactor: 2, mode: 'bilinear', alignCorners: true }),
  interpolate_nearest: (i) => F.interpolate(i.x!, { size: [6, 7], mode: 'nearest' }),
};

test('fixtures come from PyTorch 1.13 and cover every op case', () => {
  assert.match(fx.torch, /^1\.13/);
  for (const name of Object.keys(ops)) assert.ok(cases[name], `fixture case ${name} is missing`);
});

for (const [name, fn] of Object.entries(ops)) {
  test(`${name}: output and gradients match PyTorch`, () => {
    const c = cases[name]!;
    E.tidy(() => {
      const inputs: Record<string, E.Tensor> = {};
      for (const [k, v] of Object.entries(c.inputs)) {
        inputs[k] = fromEnc(v, { requiresGrad: v.dtype === 'float32' });
      }
      const state: Record<string, E.Tensor> = {};
      if (c.args.runningMean) {
        state.rm = enc(c.args.runningMean);
        state.rv = enc(c.args.runningVar);
      }
      const out = fn(inputs, c.args, state);
      assertTensorClose(out, c.out, `${name} output`);
      out.mul(fromEnc(c.r)).sum().backward();
      assert.ok(Object.keys(c.grads).length > 0);
      for (const [k, g] of Object.entries(c.grads)) assertTensorClose(inputs[k]!.grad!, g, `${name} d/d${k}`);
      if (c.runningMeanAfter) {
        assertTensorClose(state.rm!, c.runningMeanAfter, `${name} running mean`);
        assertTensorClose(state.rv!, c.runningVarAfter!, `${name} running var`);
      }
    });
  });
}

test('gru (2 layers, bidirectional, batch first): output, h and input gradient match PyTorch', () => {
  const c = cases.gru as unknown as GradCase & { params: Enc[]; h: Enc };
  E.tidy(() => {
    const x = fromEnc(c.inputs.x!, { requiresGrad: true });
    const params = c.params.map((p) => fromEnc(p));
    const r = F.gru(x, fromEnc(c.inputs.h0!), params, {
      numLayers: 2,
      bidirectional: true,
      batchFirst: true,
    });
    assertTensorClose(r.output, c.out, 'gru output');
    assertTensorClose(r.h, c.h, 'gru h');
    r.output.mul(fromEnc(c.r)).sum().backward();
    assertTensorClose(x.grad!, c.grads.x!, 'gru dx');
  });
});

test('lstm with zero initial state matches PyTorch', () => {
  const c = cases.lstm as unknown as { inputs: { x: Enc }; params: Enc[]; out: Enc; h: Enc; c: Enc };
  E.tidy(() => {
    const r = F.lstm(
      fromEnc(c.inputs.x),
      null,
      c.params.map((p) => fromEnc(p)),
      { numLayers: 1 },
    );
    assertTensorClose(r.output, c.out, 'lstm output');
    assertTensorClose(r.h, c.h, 'lstm h');
    assertTensorClose(r.c, c.c, 'lstm c');
  });
});

interface OptimCase {
  params: Record<string, Enc>;
  grads: Record<string, Enc>[];
  options: Record<string, unknown>;
  after: Record<string, Enc>[];
}

function runOptim(name: string, make: (ps: E.Tensor[], o: Record<string, unknown>) => Optimizer): void {
  const c = cases[name] as unknown as OptimCase;
  E.tidy(() => {
    const keys = Object.keys(c.params);
    const ps = keys.map((k) => fromEnc(c.params[k]!, { requiresGrad: true }));
    const opt = make(ps, c.options);
    c.grads.forEach((g, step) => {
      E.tidy(() => {
        opt.zeroGrad();
        let loss = E.zeros([]);
        keys.forEach((k, j) => {
          loss = loss.add(ps[j]!.mul(fromEnc(g[k]!)).sum());
        });
        loss.backward();
        opt.step();
      });
      keys.forEach((k, j) => {
        assertTensorClose(ps[j]!, c.after[step]![k]!, `${name} step ${step + 1} ${k}`);
      });
    });
    opt.dispose();
  });
}

test('SGD (momentum, nesterov, weight decay, dampening) matches torch.optim.SGD', () => {
  runOptim('sgd_nesterov', (ps, o) => new SGD(ps, o as never));
  runOptim('sgd_dampening', (ps, o) => new SGD(ps, o as never));
});

test('Adam (weight decay, amsgrad) matches torch.optim.Adam', () => {
  runOptim('adam', (ps, o) => new Adam(ps, o as never));
  runOptim('adam_amsgrad', (ps, o) => new Adam(ps, o as never));
});

test('AdamW matches torch.optim.AdamW', () => {
  runOptim('adamw', (ps, o) => new AdamW(ps, o as never));
});

test('stft and rfft match torch.stft / torch.fft.rfft', () => {
  const c = cases.stft as unknown as { inputs: { x: Enc }; out: Enc; rfft: Enc };
  E.tidy(() => {
    const x = fromEnc(c.inputs.x);
    const win = E.tensor(
      Float32Array.from({ length: 32 }, (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / 32)),
      [32],
    );
    assertTensorClose(F.stft(x, { nFft: 32, hopLength: 8, window: win }), c.out, 'stft', 1e-4, 1e-4);
    assertTensorClose(F.rfft(x.select(0, 0).slice(0, 0, 50)), c.rfft, 'rfft', 1e-4, 1e-4);
  });
});

test('clipGradNorm returns the total norm and scales like clip_grad_norm_', () => {
  const c = cases.clip_grad_norm as unknown as {
    grads: Record<string, Enc>;
    maxNorm: number;
    total: number;
    clipped: Record<string, Enc>;
  };
  E.tidy(() => {
    const keys = ['a', 'b'];
    const ps = keys.map((k) => E.zeros(c.grads[k]!.shape, { requiresGrad: true }));
    keys.forEach((k, j) => {
      ps[j]!.mul(fromEnc(c.grads[k]!)).sum().backward();
    });
    const total = clipGradNorm(ps, c.maxNorm);
    assertClose([total], [c.total], 1e-5, 1e-5, 'total norm');
    keys.forEach((k, j) => {
      assertTensorClose(ps[j]!.grad!, c.clipped[k]!, `clipped grad ${k}`);
    });
  });
});
