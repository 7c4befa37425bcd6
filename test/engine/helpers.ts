// Shared helpers of the engine tests: fixture decoding, closeness checks and a finite-difference
// gradient check.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as E from '../../src/engine/index.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface Enc {
  shape: number[];
  dtype: string;
  data: number[];
}

/** A stored fixture array as a tensor (float32 unless the fixture says int64). */
export function fromEnc(e: Enc, opts: E.CreateOpts = {}): E.Tensor {
  if (e.dtype === 'int64') return E.tensor(e.data, e.shape, { dtype: 'int64', ...opts });
  return E.tensor(new Float32Array(e.data), e.shape, opts);
}

export function loadFixture<T>(name: string): T {
  return JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'engine', name), 'utf8')) as T;
}

/** |a - b| <= atol + rtol·|b| elementwise, with the first offending index in the message. */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  atol = 1e-5,
  rtol = 1e-5,
  what = 'values',
): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} != ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const b = expected[i]!;
    if (!(Math.abs(a - b) <= atol + rtol * Math.abs(b))) {
      assert.fail(`${what}[${i}]: ${a} != ${b} (|diff| ${Math.abs(a - b)})`);
    }
  }
}

/** Compares a tensor with a fixture array (shape and values). */
export function assertTensorClose(t: E.Tensor, e: Enc, what: string, atol = 1e-5, rtol = 1e-5): void {
  assert.deepEqual(t.shape, e.shape, `${what}: shape`);
  assertClose(t.toFloat64Array(), e.data, atol, rtol, what);
}

/**
 * Checks the gradients of fn against central finite differences in float64. fn gets float64 leaf
 * tensors and returns a tensor; the checked scalar is sum(fn(...) * r) with a fixed random r.
 */
export function gradcheck(
  name: string,
  fn: (...xs: E.Tensor[]) => E.Tensor,
  inputs: { data: Float64Array; shape: number[] }[],
  { eps = 1e-6, atol = 1e-6, rtol = 1e-4 }: { eps?: number; atol?: number; rtol?: number } = {},
): void {
  E.tidy(() => {
    const leaves = inputs.map((i) => E.tensor(i.data, i.shape, { requiresGrad: true }));
    const out = fn(...leaves);
    const r = E.randn(out.shape, { dtype: 'float64' });
    out.mul(r).sum().backward();
    const analytic = leaves.map((l) => l.grad!.toFloat64Array());
    const f = (datas: Float64Array[]): number =>
      E.tidy(() =>
        E.noGrad(() =>
          fn(...datas.map((d, k) => E.tensor(d, inputs[k]!.shape)))
            .mul(r)
            .sum()
            .item(),
        ),
      );
    inputs.forEach((input, k) => {
      const numeric = new Float64Array(input.data.length);
      for (let i = 0; i < input.data.length; i++) {
        const plus = inputs.map((x) => x.data.slice());
        const minus = inputs.map((x) => x.data.slice());
        plus[k]![i]! += eps;
        minus[k]![i]! -= eps;
        numeric[i] = (f(plus) - f(minus)) / (2 * eps);
      }
      assertClose(analytic[k]!, numeric, atol, rtol, `${name}: d/d input ${k}`);
    });
  });
}

/** Deterministic float64 data in [-1, 1) from a seed (LCG), independent of libtorch's generator. */
export function data64(n: number, seed: number, scale = 1): Float64Array {
  const out = new Float64Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

export function input(shape: number[], seed: number, scale = 1): { data: Float64Array; shape: number[] } {
  return {
    data: data64(
      shape.reduce((a, b) => a * b, 1),
      seed,
      scale,
    ),
    shape,
  };
}
