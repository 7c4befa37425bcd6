// End to end on real recordings: a tiny FSDD task (digits 0 and 1 of three speakers, official split),
// trained through the CLI, resumed after a simulated crash, evaluated on a held-out manifest, and
// fine-tuned to other digits with a new head.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import YAML from 'yaml';
import * as E from '../../src/engine/index.js';
import { createModel } from '../../src/models/index.js';
import { saveCheckpoint } from '../../src/nn/checkpoint.js';
import { loadSafetensors } from '../../src/nn/safetensors.js';
import { loadTrainConfig } from '../../src/train/config.js';
import { initFromCheckpoint } from '../../src/train/finetune.js';
import { type RunMetrics, runTraining } from '../../src/train/run.js';
import { FSDD, runCli, tempDir } from './helpers.js';

const dir = tempDir();
const cacheDir = join(dir, 'cache');
const baseConfig = {
  seed: 3,
  data: {
    manifest: join(FSDD, 'meta.csv'),
    format: 'csv',
    csv: { pathCol: 'fname', labelCol: 'label', groupCol: 'speaker' },
    filter: { label: [0, 1], speaker: ['george', 'jackson', 'theo'] },
  },
  folds: { strategy: 'split' },
  features: {
    sampleRate: 8000,
    nFft: 256,
    hopLength: 128,
    nMels: 32,
    duration: 1,
    durationAlign: 'center',
    normalize: 'clip',
  },
  model: { name: 'small-cnn', config: { channels: [8, 16, 32], convsPerBlock: 1, dropout: 0.1 } },
  augment: { spectrogram: { name: 'SpecTimeMask', p: 0.5, count: 1, maxWidth: 6 } },
  loader: { batchSize: 16, cacheDir, workers: 0 },
  train: { epochs: 3, optimizer: { name: 'adam', lr: 0.01 }, metrics: ['accuracy', 'f1_macro'], threads: 1 },
};
const straight = join(dir, 'straight');
const weights = (p: string) => {
  const { tensors } = loadSafetensors(p);
  const out = Object.fromEntries(
    Object.entries(tensors).map(([k, t]) => [k, Array.from(t.toFloat64Array())]),
  );
  E.dispose(tensors);
  return out;
};
const readJson = (p: string) => JSON.parse(readFileSync(p, 'utf8'));

describe('train, resume, evaluate, fine-tune (FSDD subset)', () => {
  test('audiotag train writes the run directory and beats chance', async () => {
    const cfg = join(dir, 'tiny.yaml');
    writeFileSync(cfg, YAML.stringify(baseConfig));
    const r = await runCli(['train', '--config', cfg, '--out', straight, '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '', '--quiet prints nothing on stderr');
    for (const f of [
      'config.yaml',
      'log.jsonl',
      'oof.csv',
      'metrics.json',
      'fold0/best/model.safetensors',
      'fold0/best/config.json',
      'fold0/last/optimizer.bin',
    ])
      assert.ok(existsSync(join(straight, f)), f);
    const m = readJson(join(straight, 'metrics.json')) as RunMetrics;
    assert.equal(m.task, 'single-label');
    assert.deepEqual(m.classes, ['0', '1']);
    assert.equal(m.metrics.accuracy!.per_fold.length, 1);
    assert.equal(m.metrics.accuracy!.std, 0);
    assert.ok(m.metrics.accuracy!.mean >= 0.8, `accuracy ${m.metrics.accuracy!.mean} (chance 0.5)`);
    assert.ok(m.oof && m.oof.accuracy === m.metrics.accuracy!.mean);
    assert.deepEqual(m.folds[0]!.val_groups, ['george', 'jackson', 'theo']);
    const log = readFileSync(join(straight, 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      log.map((l) => l.epoch),
      [1, 2, 3],
    );
    assert.ok(
      log.every((l) => l.fold === 0 && typeof l.accuracy === 'number' && typeof l.train_loss === 'number'),
    );
    // oof.csv: fname + one score column per class, one row per validation clip (3 speakers × 2 digits × 5).
    const oof = readFileSync(join(straight, 'oof.csv'), 'utf8').trim().split('\n');
    assert.equal(oof[0], 'fname,0,1');
    assert.equal(oof.length, 31);
    // The resolved config records the filled-in model config and absolute paths.
    const resolved = YAML.parse(readFileSync(join(straight, 'config.yaml'), 'utf8'));
    assert.equal(resolved.model.config.numClasses, 2);
    assert.equal(resolved.data.manifest, join(FSDD, 'meta.csv'));
    assert.match(r.stdout, /1\/1 folds, accuracy/);
  });

  test('a crash after epoch 2 and a resume give the same weights and metrics as 3 straight epochs', async () => {
    assert.ok(existsSync(join(straight, 'metrics.json')), 'needs the first test');
    const out = join(dir, 'resumed');
    const config = loadTrainConfig({ object: baseConfig });
    await assert.rejects(
      runTraining({
        config,
        out,
        quiet: true,
        onEpoch: (_fold, rec) => {
          if (rec.epoch === 2) throw new Error('simulated crash');
        },
      }),
      /simulated crash/,
    );
    assert.ok(!existsSync(join(out, 'fold0', 'result.json')));
    assert.equal(readJson(join(out, 'fold0', 'last', 'trainer.json')).epochsDone, 2);
    const trained: number[] = [];
    const m = await runTraining({ config, out, quiet: true, onEpoch: (_f, rec) => trained.push(rec.epoch) });
    // Only epoch 3 is trained again (a deterministic retrain from scratch would give the same bits).
    assert.deepEqual(trained, [3]);
    assert.deepEqual(
      readFileSync(join(out, 'log.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).epoch),
      [1, 2, 3],
    );
    assert.deepEqual(
      weights(join(out, 'fold0/last/model.safetensors')),
      weights(join(straight, 'fold0/last/model.safetensors')),
    );
    assert.deepEqual(
      weights(join(out, 'fold0/best/model.safetensors')),
      weights(join(straight, 'fold0/best/model.safetensors')),
    );
    const ref = readJson(join(straight, 'metrics.json')) as RunMetrics;
    assert.deepEqual(m.metrics, ref.metrics);
    assert.equal(readFileSync(join(out, 'oof.csv'), 'utf8'), readFileSync(join(straight, 'oof.csv'), 'utf8'));
    // Running it once more trains nothing: the fold is finished, its files are not rewritten.
    const kept = ['fold0/result.json', 'fold0/best/model.safetensors', 'fold0/last/trainer.json'];
    const mtimes = kept.map((f) => statSync(join(out, f)).mtimeMs);
    const retrained: number[] = [];
    const again = await runTraining({
      config,
      out,
      quiet: true,
      onEpoch: (_f, rec) => retrained.push(rec.epoch),
    });
    assert.deepEqual(retrained, []);
    assert.deepEqual(
      kept.map((f) => statSync(join(out, f)).mtimeMs),
      mtimes,
    );
    assert.equal(readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').length, 3);
    assert.deepEqual(again.metrics, m.metrics);
    // A different config in the same directory is refused unless forced.
    await assert.rejects(runTraining({ config: { ...config, seed: 4 }, out, quiet: true }), {
      name: 'RunExistsError',
      message: /already holds a run with a different config/,
    });
  });

  test('audiotag evaluate scores a held-out manifest and prints a table', async () => {
    const manifest = join(dir, 'heldout.csv');
    // Two speakers the run never saw, digits 0 and 1, recordings 0-9.
    const rows = ['fname,label,speaker'];
    for (const spk of ['nicolas', 'yweweler'])
      for (const d of [0, 1]) for (let i = 0; i < 10; i++) rows.push(`${d}_${spk}_${i}.wav,${d},${spk}`);
    writeFileSync(manifest, `${rows.join('\n')}\n`);
    const out = join(dir, 'eval');
    const r = await runCli([
      'evaluate',
      '--run',
      straight,
      '--manifest',
      manifest,
      '--audio-dir',
      join(FSDD, 'audio'),
      '--out',
      out,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /40 clips scored by the fold0 model/);
    assert.match(r.stdout, /^accuracy\s+\d\.\d{4}\s+\d\.\d{4}$/m);
    const m = readJson(join(out, 'metrics.json'));
    assert.equal(m.clips, 40);
    assert.ok(m.metrics.accuracy > 0.5, `held-out accuracy ${m.metrics.accuracy}`);
    assert.equal(m.metrics.accuracy, m.per_fold.fold0.accuracy);
    const preds = readFileSync(join(out, 'predictions.csv'), 'utf8').trim().split('\n');
    assert.equal(preds.length, 41);
    assert.equal(preds[1]!.split(',')[0], '0_nicolas_0.wav');
    // A label the run never learnt cannot be scored, and is named.
    writeFileSync(manifest, 'fname,label,speaker\n7_nicolas_0.wav,7,nicolas\n');
    const bad = await runCli([
      'evaluate',
      '--run',
      straight,
      '--manifest',
      manifest,
      '--audio-dir',
      join(FSDD, 'audio'),
    ]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /7_nicolas_0\.wav \(7\)/);
  });

  test('fine-tuning: a new head for other classes; the backbone stays as loaded while frozen, then trains', async () => {
    const out = join(dir, 'finetune');
    const source = join(straight, 'fold0', 'best');
    const config = loadTrainConfig({
      object: {
        ...baseConfig,
        data: { ...baseConfig.data, filter: { label: [2, 3], speaker: ['george', 'jackson', 'theo'] } },
        train: { ...baseConfig.train, epochs: 2 },
        init: { from: source, freezeEpochs: 1 },
      },
    });
    const before = weights(join(source, 'model.safetensors'));
    const perEpoch: Record<string, number[]>[] = [];
    const m = await runTraining({
      config,
      out,
      quiet: true,
      onEpoch: () => perEpoch.push(weights(join(out, 'fold0', 'last', 'model.safetensors'))),
    });
    assert.deepEqual(m.classes, ['2', '3']);
    assert.equal(perEpoch.length, 2);
    for (const k of Object.keys(before)) {
      if (k.startsWith('classifier.'))
        assert.notDeepEqual(perEpoch[0]![k], before[k], `${k} is a new, trained head`);
      else
        assert.deepEqual(
          perEpoch[0]![k],
          before[k],
          `${k} is frozen in epoch 1 (BatchNorm statistics included)`,
        );
    }
    assert.notDeepEqual(
      perEpoch[1]!['features.0.layers.0.weight'],
      before['features.0.layers.0.weight'],
      'epoch 2 trains the backbone',
    );
    const cfg = readJson(join(out, 'fold0', 'best', 'config.json'));
    assert.deepEqual(cfg.classes, ['2', '3']);
  });

  test('initFromCheckpoint: head detection, shape mismatches, newHead never', () => {
    const ck = join(dir, 'ck');
    E.manualSeed(0);
    const a = createModel('small-cnn', { numClasses: 3, channels: [4, 8] });
    saveCheckpoint(ck, a, { model: 'small-cnn', classes: ['x', 'y', 'z'] });
    const b = createModel('small-cnn', { numClasses: 2, channels: [4, 8] });
    const r = initFromCheckpoint(b, { from: ck }, ['p', 'q']);
    assert.equal(r.headPrefix, 'classifier');
    assert.equal(r.newHead, true);
    assert.deepEqual(r.sourceClasses, ['x', 'y', 'z']);
    const sa = E.tidy(() => a.stateDict()['features.1.layers.0.weight']!.toFloat32Array());
    const sb = E.tidy(() => b.stateDict()['features.1.layers.0.weight']!.toFloat32Array());
    assert.deepEqual(sb, sa);
    assert.throws(
      () => initFromCheckpoint(b, { from: ck, newHead: 'never' }, ['p', 'q']),
      /"classifier\.weight" has shape \[3, 8\] there, \[2, 8\] here/,
    );
    // Same classes: the head is loaded too (a warm restart).
    const c = createModel('small-cnn', { numClasses: 3, channels: [4, 8] });
    assert.equal(initFromCheckpoint(c, { from: ck }, ['x', 'y', 'z']).newHead, false);
    const d = createModel('small-cnn', { numClasses: 3, channels: [4, 16] });
    assert.throws(() => initFromCheckpoint(d, { from: ck }, ['x', 'y', 'z']), /does not fit this model/);
    assert.throws(
      () => initFromCheckpoint(c, { from: ck, head: 'nothing' }, ['x']),
      /init\.head: the model has no parameters under "nothing"/,
    );
    for (const m of [a, b, c, d]) m.dispose();
  });
});
