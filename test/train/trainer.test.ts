import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { NonFiniteLossError, trainModel } from '../../src/train/trainer.js';
import { tempDir, toySource, toyTrainOptions } from './helpers.js';

describe('trainer', () => {
  test('learns, keeps memory flat across epochs, writes best/last checkpoints and oof.csv', async () => {
    const dir = tempDir();
    const before = E.liveTensors();
    const live: number[] = [];
    const o = toyTrainOptions({ dir, epochs: 4, onEpoch: () => live.push(E.liveTensors()) });
    const r = await trainModel(o);
    o.model.dispose();
    assert.equal(E.liveTensors(), before, 'every tensor the trainer made is freed');
    assert.ok(
      live.every((n) => n === live[0]),
      `live tensors per epoch: ${live.join(', ')}`,
    );
    assert.equal(r.history.length, 4);
    assert.ok(r.best.accuracy! > 0.9, `accuracy ${r.best.accuracy}`);
    assert.ok(r.history[3]!.train_loss < r.history[0]!.train_loss);
    for (const f of [
      'best/model.safetensors',
      'best/config.json',
      'last/optimizer.bin',
      'last/trainer.json',
      'oof.csv',
    ])
      assert.ok(existsSync(join(dir, f)), f);
    const cfg = JSON.parse(readFileSync(join(dir, 'best', 'config.json'), 'utf8'));
    assert.equal(cfg.model, 'small-cnn');
    assert.deepEqual(cfg.classes, ['0', '1', '2']);
    assert.equal(cfg.epoch, r.bestEpoch);
    const oof = readFileSync(join(dir, 'oof.csv'), 'utf8').trim().split('\n');
    assert.equal(oof[0], 'fname,0,1,2');
    assert.equal(oof.length, 49);
  });

  test('a NaN loss stops training and names the batch and the clip with the NaN input', async () => {
    const o = toyTrainOptions({ poison: 17 });
    await assert.rejects(trainModel(o), (e: Error) => {
      assert.ok(e instanceof NonFiniteLossError, String(e));
      assert.ok(e.ids.includes('clip17.wav'));
      assert.deepEqual(e.badInputs, ['clip17.wav']);
      assert.match(
        e.message,
        /the loss is NaN at epoch 1, step \d+; these clips gave non-finite inputs: clip17\.wav/,
      );
      return true;
    });
    o.model.dispose();
  });

  test('early stopping ends the run after `patience` epochs without improvement', async () => {
    // A learning rate of ~0 leaves the model where it is: the metric never improves after epoch 1.
    const o = toyTrainOptions({
      epochs: 10,
      optimizer: { ...toyTrainOptions().optimizer, lr: 1e-12 },
      earlyStopping: { patience: 2, minDelta: 0 },
    });
    const r = await trainModel(o);
    o.model.dispose();
    assert.equal(r.stoppedEarly, true);
    assert.equal(r.history.length, 3);
    assert.equal(r.bestEpoch, 1);
    // monitor 'last' selects nothing: the last epoch is the best, whatever the metric did.
    const last = toyTrainOptions({
      epochs: 2,
      optimizer: { ...toyTrainOptions().optimizer, lr: 1e-12 },
      monitor: 'last',
    });
    const rl = await trainModel(last);
    last.model.dispose();
    assert.equal(rl.bestEpoch, 2);
    assert.ok(rl.history.every((h) => h.improved));
  });

  test('with EMA the checkpoint holds the EMA weights; frozen epochs leave the backbone unchanged', async () => {
    const dir = tempDir();
    const o = toyTrainOptions({
      dir,
      epochs: 2,
      ema: { decay: 0.5, warmup: false },
      freeze: { headPrefix: 'classifier', epochs: 1 },
    });
    const w0 = E.tidy(() => o.model.stateDict()['features.0.layers.0.weight']!.toFloat32Array());
    const snapshots: Float32Array[] = [];
    o.onEpoch = () =>
      snapshots.push(E.tidy(() => o.model.stateDict()['features.0.layers.0.weight']!.toFloat32Array()));
    await trainModel(o);
    assert.deepEqual(snapshots[0], w0, 'the backbone is frozen during epoch 1');
    assert.notDeepEqual(snapshots[1], w0, 'and trains in epoch 2');
    assert.ok(existsSync(join(dir, 'last', 'training.safetensors')));
    const { loadSafetensors } = await import('../../src/nn/safetensors.js');
    const saved = loadSafetensors(join(dir, 'last', 'model.safetensors')).tensors;
    const raw = loadSafetensors(join(dir, 'last', 'training.safetensors')).tensors;
    const k = 'classifier.weight';
    const live = E.tidy(() => o.model.stateDict()[k]!.toFloat32Array());
    assert.deepEqual(raw[k]!.toFloat32Array(), live, 'training.safetensors holds the raw weights');
    assert.notDeepEqual(saved[k]!.toFloat32Array(), live, 'model.safetensors holds the EMA copy');
    E.dispose(saved);
    E.dispose(raw);
    o.model.dispose();
  });

  test('multi-label data trains with BCE and scores lwlrap over sigmoid outputs', async () => {
    const src = toySource(48, 3);
    const ds = { ...src.dataset, multiLabel: true };
    const o = toyTrainOptions({
      valDataset: ds,
      multiLabel: true,
      metrics: ['lwlrap', 'ap_macro'],
      monitor: 'lwlrap',
      epochs: 3,
    });
    const r = await trainModel(o);
    o.model.dispose();
    assert.ok(r.best.lwlrap! > 0.8, `lwlrap ${r.best.lwlrap}`);
    // Sigmoid scores are not a distribution: rows need not sum to 1.
    const sums = Array.from({ length: 48 }, (_, i) =>
      r.valScores!.subarray(i * 3, i * 3 + 3).reduce((a, b) => a + b, 0),
    );
    assert.ok(sums.some((x) => Math.abs(x - 1) > 0.05));
  });

  test('resume with EMA and a plateau schedule repeats the uninterrupted run exactly', async () => {
    const extra = {
      epochs: 3,
      ema: { decay: 0.9, warmup: true },
      schedule: { name: 'plateau' as const, factor: 0.5, patience: 0, threshold: 0, cooldown: 0, minLr: 0 },
      optimizer: { ...toyTrainOptions().optimizer, name: 'sgd' as const, lr: 0.05, momentum: 0.9 },
    };
    const a = tempDir();
    const straight = toyTrainOptions({ ...extra, dir: a, resume: true });
    const ra = await trainModel(straight);
    straight.model.dispose();
    const b = tempDir();
    const crashed = toyTrainOptions({
      ...extra,
      dir: b,
      resume: true,
      onEpoch: (r) => {
        if (r.epoch === 2) throw new Error('crash');
      },
    });
    await assert.rejects(trainModel(crashed), /crash/);
    crashed.model.dispose();
    const trained: number[] = [];
    const resumed = toyTrainOptions({
      ...extra,
      dir: b,
      resume: true,
      onEpoch: (r) => trained.push(r.epoch),
    });
    const rb = await trainModel(resumed);
    resumed.model.dispose();
    // The resumed run trains epoch 3 only (a retrain from scratch would also give equal bits below).
    assert.deepEqual(trained, [3]);
    assert.deepEqual(
      rb.history.map((h) => h.epoch),
      [1, 2, 3],
    );
    assert.deepEqual(
      rb.history.map((h) => [h.lr, h.train_loss, h.metrics]),
      ra.history.map((h) => [h.lr, h.train_loss, h.metrics]),
    );
    // optimizer.bin is not compared byte for byte (torch::serialize keys its state by tensor address);
    // the equal epoch-3 loss above shows the momentum buffers came back.
    for (const f of ['last/model.safetensors', 'last/training.safetensors', 'best/model.safetensors'])
      assert.deepEqual(readFileSync(join(b, f)), readFileSync(join(a, f)), f);
  });
});
