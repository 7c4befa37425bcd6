// Bad use gives an EngineError naming the op, never a crash: libtorch errors (shape mismatch,
// wrong dtype, out of range) and the checks made in TypeScript (data length, dtype, device, dispose).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import * as F from '../../src/engine/functional.js';
import * as E from '../../src/engine/index.js';
import { Adam, SGD } from '../../src/engine/optim.js';
import { ROOT } from './helpers.js';

function throwsEngine(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof E.EngineError, `expected an EngineError, got ${String(e)}`);
    assert.equal(e.name, 'EngineError');
    assert.match(e.message, re);
    assert.doesNotMatch(e.message, /Exception raised from|frame #/, 'no C++ backtrace in the message');
    return true;
  });
}

test('shape mismatch: elementwise, matmul, conv2d channels, linear, cat', () => {
  E.tidy(() => {
    throwsEngine(
      () => E.zeros([2, 3]).add(E.zeros([4])),
      /^add: The size of tensor a \(3\) must match the size of tensor b \(4\) at non-singleton dimension 1$/,
    );
    throwsEngine(
      () => E.zeros([2, 3]).matmul(E.zeros([2, 3])),
      /^matmul: mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x3\)/,
    );
    throwsEngine(
      () => F.conv2d(E.zeros([2, 1, 8, 8]), E.zeros([8, 3, 3, 3])),
      /^conv2d: Given groups=1, weight of size \[8, 3, 3, 3\], expected input\[2, 1, 8, 8\] to have 3 channels, but got 1 channels instead$/,
    );
    throwsEngine(
      () => F.linear(E.zeros([2, 5]), E.zeros([3, 4])),
      /^linear: mat1 and mat2 shapes cannot be multiplied/,
    );
    throwsEngine(() => E.cat([E.zeros([2, 2]), E.zeros([3, 3])]), /^cat: Sizes of tensors must match/);
    throwsEngine(
      () => E.zeros([6]).reshape([4, -1]),
      /^reshape: shape '\[4, -1\]' is invalid for input of size 6/,
    );
    throwsEngine(() => E.zeros([2, 3]).bmm(E.zeros([2, 3])), /^bmm: batch1 must be a 3D tensor/);
  });
});

test('wrong dtype: float indices, int targets for BCE, float class ids, gradients of ints', () => {
  E.tidy(() => {
    throwsEngine(
      () => F.embedding(E.zeros([2]), E.zeros([4, 3])),
      /^embedding: Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; but got CPUFloatType/,
    );
    throwsEngine(
      () => F.crossEntropy(E.zeros([2, 3]), E.tensor([0.5, 1])),
      /^crossEntropy: class-id targets must be int64, got float32$/,
    );
    throwsEngine(
      () => F.binaryCrossEntropyWithLogits(E.zeros([2]), E.tensor(new BigInt64Array([0n, 1n]))),
      /^binaryCrossEntropyWithLogits: result type Float can't be cast to the desired output type Long$/,
    );
    throwsEngine(
      () => E.zeros([2]).matmul(E.zeros([2], { dtype: 'float64' })),
      /^matmul: dot : expected both vectors to have same dtype, but found Float and Double$/,
    );
    throwsEngine(
      () => E.zeros([2], { dtype: 'int64', requiresGrad: true }),
      /^zeros: only floating point tensors can require gradients, not int64$/,
    );
    throwsEngine(() => {
      E.ones([1], { dtype: 'int32' }).requiresGrad = true;
    }, /^requiresGrad: only floating point tensors can require gradients, not int32$/);
    throwsEngine(
      () => E.zeros([2]).gather(0, E.zeros([2])),
      /^gather: gather\(\): Expected dtype int64 for index/,
    );
  });
});

test('out of range: select, item of many values, dims', () => {
  E.tidy(() => {
    throwsEngine(
      () => E.zeros([2]).select(0, 5),
      /^select: select\(\): index 5 out of range for tensor of size \[2\]/,
    );
    throwsEngine(() => E.zeros([2]).item(), /^item: a Tensor with 2 elements cannot be converted to Scalar/);
    throwsEngine(() => E.zeros([2]).sum(3), /^sum: Dimension out of range/);
    throwsEngine(() => E.zeros([2]).size(1), /^size: dim 1 is out of range for 1 dims/);
  });
});

test('use after dispose names the op, for the tensor itself and for operands', () => {
  const a = E.ones([2]);
  const b = E.ones([2]);
  b.dispose();
  b.dispose(); // a second dispose is a no-op
  assert.equal(b.disposed, true);
  throwsEngine(() => b.add(1), /^add: tensor used after dispose\(\)$/);
  throwsEngine(() => a.add(b), /^add: tensor used after dispose\(\)$/);
  throwsEngine(() => b.shape, /^shape: tensor used after dispose\(\)$/);
  throwsEngine(() => b.toFloat32Array(), /^toFloat32Array: tensor used after dispose\(\)$/);
  throwsEngine(() => F.conv2d(a, b), /^conv2d: tensor used after dispose\(\)$/);
  throwsEngine(() => E.cat([a, b]), /^cat: tensor used after dispose\(\)$/);
  a.dispose();
});

test('bad data for a shape, bad shapes, unknown dtype or device are caught before libtorch', () => {
  throwsEngine(
    () => E.tensor(new Float32Array(5), [2, 3]),
    /^tensor: 5 values do not fit shape \[2, 3\] \(6 expected\)$/,
  );
  throwsEngine(
    () => E.tensor([1, 2, 3], [2, 2]),
    /^tensor: 3 values do not fit shape \[2, 2\] \(4 expected\)$/,
  );
  throwsEngine(() => E.zeros([2, -1]), /^zeros: shape \[2, -1\] has a bad dimension -1$/);
  throwsEngine(() => E.zeros([2.5]), /^zeros: shape \[2\.5\] has a bad dimension 2\.5$/);
  throwsEngine(
    () => E.zeros([2], { dtype: 'float8' as E.DType }),
    /^zeros: unknown dtype "float8" \(expected one of float32, /,
  );
  throwsEngine(
    () => E.zeros([2], { device: 'gpu' }),
    /^zeros: unknown device "gpu" \(expected 'cpu', 'cuda' or 'cuda:N'\)$/,
  );
  throwsEngine(() => E.ones([2]).to('tpu' as E.DType), /^to: unknown dtype or device "tpu"$/);
  throwsEngine(
    () => E.tensor(new Int16Array(2) as unknown as Float32Array),
    /^tensor: data must be a number, number\[\]/,
  );
  throwsEngine(() => E.tensor(['a'] as unknown as number[]), /^tensor: data must hold only numbers$/);
  throwsEngine(
    () => E.fromBytes(new Uint8Array(7), [2], 'float32'),
    /^fromBytes: 7 bytes do not fit shape \[2\] of float32 \(8 expected\)$/,
  );
  throwsEngine(
    () => E.ones([2]).add('x' as unknown as number),
    /^add: the other operand must be a Tensor or a number, got string$/,
  );
  throwsEngine(
    () => F.conv2d(E.ones([1, 1, 3, 3]), {} as E.Tensor),
    /^conv2d: weight must be a Tensor, got Object$/,
  );
  throwsEngine(
    () => F.maxPool2d(E.ones([1, 1, 4, 4]), { kernelSize: [2, 2, 2] }),
    /^maxPool2d: kernelSize needs 2 values/,
  );
  throwsEngine(
    () => F.crossEntropy(E.ones([1, 2]), E.zeros([1], { dtype: 'int64' }), { reduction: 'avg' as 'mean' }),
    /reduction must be/,
  );
  throwsEngine(() => F.dropout(E.ones([2]), 1.5), /^dropout: p must be in \[0, 1\], got 1\.5$/);
  throwsEngine(
    () => F.batchNorm(E.ones([2, 2]), null, null),
    /^batchNorm: eval mode \(training: false\) needs runningMean/,
  );
});

test('optimiser misuse', () => {
  E.tidy(() => {
    const p = E.zeros([2], { requiresGrad: true });
    throwsEngine(() => new SGD([p], { lr: -1 }), /^SGD: lr must be a number >= 0, got -1$/);
    throwsEngine(
      () => new SGD([p], { lr: 0.1, nesterov: true }),
      /^SGD: nesterov needs momentum > 0 and dampening 0$/,
    );
    throwsEngine(() => new Adam([], { lr: 0.1 }), /^Adam: params must be a non-empty array$/);
    throwsEngine(() => new Adam([p], { lr: 0.1, betas: [1.2, 0.9] }), /^Adam: betas must be in \[0, 1\)/);
    const opt = new Adam([p], { lr: 0.1 });
    throwsEngine(() => opt.loadStateBytes(new Uint8Array([1, 2, 3])), /^optimLoadStateBytes: /);
    throwsEngine(() => opt.getLr(3), /^optimGetLr: no parameter group 3$/);
    opt.dispose();
    throwsEngine(() => opt.step(), /^Adam\.step: optimizer used after dispose\(\)$/);
  });
});

test('async functions are refused by tidy and noGrad', async () => {
  const before = E.liveTensors();
  throwsEngine(
    () =>
      E.tidy(async () => {
        E.ones([1]);
        await Promise.resolve();
      }),
    /^tidy: the function returned a Promise; async functions are not supported/,
  );
  assert.equal(E.liveTensors(), before, 'tensors made before the first await are released');
  throwsEngine(() => E.noGrad(async () => 1), /^noGrad: the function returned a Promise/);
  assert.equal(E.isGradEnabled(), true);
});

test('a missing addon gives an error telling to run make setup', () => {
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      "import('./src/engine/index.js').catch((e) => { console.error(e.message); process.exit(3); })",
    ],
    {
      cwd: ROOT,
      env: { ...process.env, AUDIOTAG_NATIVE: join(ROOT, 'build', 'no-such-addon.node') },
      encoding: 'utf8',
    },
  );
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stderr, /the native addon .*no-such-addon\.node is missing; run `make setup`/);
});
