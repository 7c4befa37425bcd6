// Winograd convolutions (native/src/winograd.cc): the same results as libtorch's direct convolution up to
// rounding — forward, input, weight and bias gradients, both layouts, with and without grad — and libtorch's
// own path, bit for bit, wherever Winograd does not apply.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import * as F from '../../src/engine/functional.js';
import type { Tensor } from '../../src/engine/index.js';
import * as E from '../../src/engine/index.js';

E.setNumThreads(1);

interface Case {
  shape: [number, number, number, number];
  out: number;
  channelsLast: boolean;
  bias: boolean;
  padding?: number;
  stride?: number;
  kernel?: number;
}

// y, and the gradients of sum(y²) for x, w and b, under one algorithm.
function convAndGrads(c: Case, alg: E.ConvAlgorithm, seed = 1): Tensor[] {
  return E.withConvAlgorithm(alg, () => {
    E.manualSeed(seed);
    const k = c.kernel ?? 3;
    let x = E.randn(c.shape);
    if (c.channelsLast) x = x.contiguous('channels-last');
    let w = E.randn([c.out, c.shape[1], k, k]).mul(0.1);
    if (c.channelsLast) w = w.contiguous('channels-last');
    const b = c.bias ? E.randn([c.out]) : null;
    for (const t of [x, w, b]) if (t) t.requiresGrad = true;
    const y = F.conv2d(x, w, b, { padding: c.padding ?? 1, stride: c.stride ?? 1 });
    y.mul(y).sum().backward();
    const grads = [x.grad!, w.grad!, ...(b ? [b.grad!] : [])];
    const inference = E.noGrad(() => F.conv2d(x, w, b, { padding: c.padding ?? 1, stride: c.stride ?? 1 }));
    return [y.detach(), inference, ...grads];
  });
}

const relMax = (a: Tensor, b: Tensor) =>
  (a.sub(b).abs().max().item() as number) / Math.max(1e-12, b.abs().max().item() as number);

for (const c of [
  { shape: [16, 32, 24, 24], out: 64, channelsLast: true, bias: false },
  { shape: [16, 32, 24, 24], out: 64, channelsLast: false, bias: true },
  { shape: [8, 16, 13, 11], out: 32, channelsLast: true, bias: true },
  { shape: [8, 16, 12, 12], out: 16, channelsLast: false, bias: false, padding: 0 },
] as Case[]) {
  const name = `${c.shape.join('×')} → ${c.out}, ${c.channelsLast ? 'channels-last' : 'contiguous'}, bias ${c.bias}, pad ${c.padding ?? 1}`;
  test(`winograd equals direct up to rounding: ${name}`, () => {
    const d = convAndGrads(c, 'direct');
    const w = convAndGrads(c, 'winograd');
    const labels = ['y', 'y (no grad)', 'grad x', 'grad w', 'grad b'];
    const diffs = d.map((_, i) => {
      assert.deepEqual(w[i]!.shape, d[i]!.shape, labels[i]);
      const r = relMax(w[i]!, d[i]!);
      assert.ok(r < 2e-5, `${labels[i]}: relative difference ${r}`);
      return r;
    });
    // Not bit-identical: the Winograd kernels ran (a fall-back to direct would give exact zeros). The
    // inference path needs 512 output tiles (16 × 6 × 6 here).
    assert.ok(diffs[0]! > 0, 'winograd gave exactly the direct results: its path did not run');
    if (c.shape[0] === 16) assert.ok(diffs[1]! > 0, 'no-grad winograd did not run');
    if (c.channelsLast) assert.ok(w[0]!.isContiguous('channels-last'), 'output keeps the input layout');
  });
}

for (const c of [
  { shape: [8, 32, 16, 16], out: 64, channelsLast: false, bias: true, stride: 2 },
  { shape: [8, 32, 16, 16], out: 64, channelsLast: false, bias: true, kernel: 1, padding: 0 },
  { shape: [8, 3, 16, 16], out: 64, channelsLast: true, bias: false },
  { shape: [1, 32, 4, 4], out: 32, channelsLast: false, bias: false },
] as Case[]) {
  test(`where winograd does not apply it is libtorch's convolution, bit for bit: ${c.shape.join('×')} k${c.kernel ?? 3} s${c.stride ?? 1}`, () => {
    const d = convAndGrads(c, 'direct');
    const w = convAndGrads(c, 'winograd');
    for (let i = 0; i < d.length; i++) assert.equal(w[i]!.sub(d[i]!).abs().max().item(), 0);
  });
}

test('setConvAlgorithm validates, convAlgorithm reads back, withConvAlgorithm restores', () => {
  const before = E.convAlgorithm();
  E.withConvAlgorithm('winograd', () => assert.equal(E.convAlgorithm(), 'winograd'));
  assert.equal(E.convAlgorithm(), before);
  assert.throws(
    () => E.setConvAlgorithm('fft' as E.ConvAlgorithm),
    /expected 'winograd' or 'direct', got "fft"/,
  );
});

test('AUDIOTAG_CONV_ALGORITHM=direct in the environment overrides setConvAlgorithm', () => {
  const script = `import * as E from './src/engine/index.js'; E.setConvAlgorithm('winograd'); console.log(E.convAlgorithm());`;
  const run = (env: Record<string, string>) =>
    execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
    }).trim();
  assert.equal(run({ AUDIOTAG_CONV_ALGORITHM: 'direct' }), 'direct');
  assert.equal(run({}), 'winograd');
});
