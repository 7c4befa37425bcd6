import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import * as E from '../../src/engine/index.js';
import {
  CnnModel1,
  createModel,
  listModels,
  loadModel,
  modelOrigin,
  saveModel,
} from '../../src/models/index.js';
import { assertClose, fixturePath, loadFixture } from '../nn/helpers.js';

interface Ref {
  num_parameters: number;
  state_dict: [string, number[], string][];
  small_config: Record<string, unknown>;
  small_num_parameters: number;
  small_sums: Record<string, number>;
  seed0_sums: Record<string, number>;
}
// From the PyTorch definition in bench/peers/torch_cnn.py (scripts/fixtures/nn_ref.py, cnn_model_1()).
const ref = JSON.parse(readFileSync(fixturePath('cnn_model_1.json'), 'utf8')) as Ref;
const root = mkdtempSync(join(tmpdir(), 'audiotag-models-'));
after(() => rmSync(root, { recursive: true, force: true }));

function sums(m: CnnModel1): Record<string, number> {
  return E.tidy(() =>
    Object.fromEntries(Object.entries(m.stateDict()).map(([k, t]) => [k, t.to('float64').sum().item()])),
  );
}

describe('cnn-model-1', () => {
  test('same state-dict keys, shapes, dtypes and parameter count as the PyTorch definition', () => {
    const m = createModel('cnn-model-1') as CnnModel1;
    try {
      assert.equal(m.numParameters(), ref.num_parameters);
      assert.equal(m.numParameters(), 5256208);
      const mine = E.tidy(() =>
        Object.entries(m.stateDict()).map(([k, t]) => [k, t.shape, t.dtype] as [string, number[], string]),
      );
      assert.deepEqual(mine, ref.state_dict);
    } finally {
      m.dispose();
    }
  });

  test('after manualSeed(0) the weights are PyTorch’s (per-tensor sums)', () => {
    E.manualSeed(0);
    const m = new CnnModel1();
    try {
      const s = sums(m);
      for (const [k, v] of Object.entries(ref.seed0_sums)) {
        assert.ok(
          Math.abs(s[k]! - v) <= 1e-6 * Math.max(1, Math.abs(v)) + 1e-4,
          `${k}: ${s[k]} vs torch ${v}`,
        );
      }
    } finally {
      m.dispose();
    }
  });

  test('a small configuration gives torch’s logits on a fixed input (eval), and [B, C] clipwise output', () => {
    const fx = loadFixture('cnn_model_1_small.safetensors');
    E.manualSeed(0);
    const m = createModel('cnn-model-1', ref.small_config) as CnnModel1;
    try {
      assert.equal(m.numParameters(), ref.small_num_parameters);
      const sd = Object.fromEntries(
        Object.entries(fx)
          .filter(([k]) => k.startsWith('model.'))
          .map(([k, v]) => [k.slice(6), v]),
      );
      m.loadStateDict(sd);
      m.eval();
      E.tidy(() => {
        const out = m.call(fx.x!);
        assert.deepEqual(out.clipwise.shape, [2, 5]);
        assert.equal(out.framewise, undefined);
        assertClose(out.clipwise, fx.y!, 1e-5, 1e-4, 'clipwise logits');
      });
    } finally {
      m.dispose();
      E.dispose(fx);
    }
  });

  test('a training step runs and moves every parameter; bad input is a clear error', () => {
    const m = createModel('cnn-model-1', { numClasses: 4, channels: [4, 8] });
    try {
      E.tidy(() => {
        const out = m.call(E.randn([3, 3, 20, 16]));
        assert.deepEqual(out.clipwise.shape, [3, 4]);
        out.clipwise.sum().backward();
        for (const [k, p] of m.namedParameters()) assert.ok(p.grad !== null, `${k} has a gradient`);
      });
      assert.throws(
        () => E.tidy(() => m.call(E.randn([1, 1, 32, 32]))),
        /cnn-model-1: expected input \[B, 3, H ≥ 4, W ≥ 4\], got \[1, 1, 32, 32\]/,
      );
    } finally {
      m.dispose();
    }
  });
});

describe('model registry', () => {
  test('lists models with their defaults and input spec', () => {
    const info = listModels().find((m) => m.name === 'cnn-model-1');
    assert.ok(info);
    assert.deepEqual(info.defaults, {
      inChannels: 3,
      numClasses: 80,
      channels: [64, 128, 256, 512],
      hidden: 512,
      dropout: [0.25, 0.5],
      convBias: false,
    });
    assert.deepEqual(info.input.exampleShape, [3, 128, 128]);
  });

  test('config errors name the key; unknown models list the known ones', () => {
    assert.throws(
      () => createModel('cnn-model-2'),
      /unknown model "cnn-model-2"; known models: .*cnn-model-1/,
    );
    assert.throws(
      () => createModel('cnn-model-1', { numClasses: 0 }),
      (e: Error) => /model "cnn-model-1": invalid config/.test(e.message) && /numClasses: /.test(e.message),
    );
    assert.throws(() => createModel('cnn-model-1', { nClasses: 10 }), /nClasses/);
    assert.throws(() => createModel('cnn-model-1', { dropout: [0.5] }), /dropout/);
  });

  test('saveModel → loadModel rebuilds the architecture from config.json and restores the weights', () => {
    const dir = join(root, 'ckpt');
    const m = createModel('cnn-model-1', { numClasses: 7, channels: [4, 8], hidden: 16 });
    try {
      assert.deepEqual(modelOrigin(m)?.name, 'cnn-model-1');
      saveModel(dir, m, { classes: ['a', 'b', 'c', 'd', 'e', 'f', 'g'] });
      const { model, config } = loadModel(dir);
      try {
        assert.equal(config.model, 'cnn-model-1');
        assert.deepEqual((config.config as { channels: number[] }).channels, [4, 8]);
        assert.equal(model.training, false);
        m.eval();
        E.tidy(() => {
          const x = E.randn([2, 3, 16, 16]);
          assertClose(model.call(x).clipwise, m.call(x).clipwise, 0, 0);
        });
      } finally {
        model.dispose();
      }
    } finally {
      m.dispose();
    }
  });
});
