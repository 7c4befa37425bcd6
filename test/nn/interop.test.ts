import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { Tensor } from '../../src/engine/index.js';
import * as E from '../../src/engine/index.js';
import {
  AdaptiveAvgPool2d,
  BatchNorm2d,
  Conv2d,
  Flatten,
  Linear,
  MaxPool2d,
  Module,
  PReLU,
  ReLU,
  Sequential,
  saveCheckpoint,
  saveSafetensors,
} from '../../src/nn/index.js';
import { assertClose, hasTorchPython, loadFixture, repoPath } from './helpers.js';

/** The same module tree as SmallCNN in scripts/fixtures/nn_common.py. */
class SmallCNN extends Module {
  readonly features = new Sequential(
    new Conv2d(2, 4, 3, { padding: 1 }),
    new BatchNorm2d(4),
    new ReLU(),
    new MaxPool2d(2),
    new Conv2d(4, 6, 3, { padding: 1, bias: false }),
    new BatchNorm2d(6),
    new PReLU(6),
    new AdaptiveAvgPool2d(1),
    new Flatten(),
  );
  readonly head = new Linear(6, 3);
  forward(x: Tensor): Tensor {
    return E.tidy(() => this.head.call(this.features.call(x)));
  }
}

const dir = mkdtempSync(join(tmpdir(), 'audiotag-interop-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('PyTorch interop', () => {
  test('a state dict written by Python loads and gives torch outputs in eval and train mode', () => {
    const m = new SmallCNN();
    const sd = loadFixture('small_cnn.safetensors');
    const io = loadFixture('small_cnn_io.safetensors');
    try {
      m.loadStateDict(sd); // strict: every key and shape must line up with torch's names
      m.eval();
      E.tidy(() => assertClose(m.call(io.x!), io.y_eval!, 1e-5, 1e-4, 'eval output'));
      m.train();
      E.tidy(() => E.noGrad(() => assertClose(m.call(io.x!), io.y_train!, 1e-5, 1e-4, 'train output')));
      E.tidy(() => {
        const after = m.stateDict();
        for (const [k, v] of Object.entries(io)) {
          if (!k.startsWith('after_train.')) continue;
          const key = k.slice('after_train.'.length);
          if (v.dtype === 'int64') assert.equal(after[key]!.item(), v.item(), key);
          else assertClose(after[key]!, v, 1e-6, 1e-5, key);
        }
      });
    } finally {
      m.dispose();
      E.dispose(sd);
      E.dispose(io);
    }
  });

  test('a checkpoint written here loads in PyTorch (strict) and gives the same outputs', (t) => {
    if (!hasTorchPython()) {
      t.skip('/usr/bin/python3 has no torch (apt install python3-torch)');
      return;
    }
    E.manualSeed(5);
    const m = new SmallCNN();
    try {
      // A few train-mode passes so the BN statistics are not at their initial values.
      E.tidy(() =>
        E.noGrad(() => {
          for (let i = 0; i < 3; i++) m.call(E.randn([4, 2, 8, 8]));
        }),
      );
      m.eval();
      saveCheckpoint(dir, m, { classes: ['a', 'b', 'c'] });
      E.tidy(() => {
        const x = E.randn([3, 2, 8, 8]);
        saveSafetensors(join(dir, 'io.safetensors'), { x, y: m.call(x) });
        saveSafetensors(join(dir, 'dtypes.safetensors'), {
          f64: E.tensor([0.1, -2], [2], { dtype: 'float64' }),
          f16: E.tensor([0.5, 2], [2], { dtype: 'float16' }),
          bf16: E.tensor([1, -3.140625], [2], { dtype: 'bfloat16' }),
          i64: E.tensor([-3, 4], [1, 2], { dtype: 'int64' }),
          i32: E.tensor([7], [1], { dtype: 'int32' }),
          u8: E.tensor(new Uint8Array([0, 200]), [2], { dtype: 'uint8' }),
          bool: E.tensor(new Uint8Array([1, 0]), [2], { dtype: 'bool' }),
        });
      });
      const r = spawnSync('/usr/bin/python3', [repoPath('scripts/fixtures/nn_check_ts.py'), dir], {
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      assert.deepEqual(out.keys, m.stateDictKeys());
      assert.equal(out.metadata.format, 'pt');
      assert.deepEqual(out.classes, ['a', 'b', 'c']);
      assert.ok(out.max_abs_diff < 1e-5, `torch vs audiotag output differ by ${out.max_abs_diff}`);
      assert.deepEqual(out.dtypes, {
        f64: ['float64', [2], [0.10000000149011612, -2]],
        f16: ['float16', [2], [0.5, 2]],
        bf16: ['bfloat16', [2], [1, -3.140625]],
        i64: ['int64', [1, 2], [-3, 4]],
        i32: ['int32', [1], [7]],
        u8: ['uint8', [2], [0, 200]],
        bool: ['bool', [2], [1, 0]],
      });
    } finally {
      m.dispose();
    }
  });
});
