// conv1d-raw trains from a YAML config whose features.format is 'waveform' (the format registry gives
// the loader [1, samples] items and the model one input channel): configs/fsdd-raw.yaml on a few FSDD clips.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import YAML from 'yaml';
import { loadTrainConfig } from '../../src/train/config.js';
import { runTraining } from '../../src/train/run.js';
import { FSDD, ROOT, tempDir } from './helpers.js';

describe('conv1d-raw from a YAML config (features.format: waveform)', () => {
  test('configs/fsdd-raw.yaml validates, and a small copy of it trains an epoch on FSDD clips', async () => {
    const shipped = loadTrainConfig({ file: join(ROOT, 'configs/fsdd-raw.yaml') });
    assert.equal(shipped.features.format, 'waveform');
    assert.equal(shipped.model.name, 'conv1d-raw');

    const dir = tempDir();
    const doc = YAML.parse(readFileSync(join(ROOT, 'configs/fsdd-raw.yaml'), 'utf8'));
    doc.data.manifest = join(FSDD, 'meta.csv');
    doc.data.filter = { label: [0, 1], speaker: ['george', 'theo'] };
    doc.model.config = { channels: [8, 16], kernelSizes: [9, 3], pools: [16], hidden: [16] };
    doc.loader = { batchSize: 16, workers: 0, cacheDir: join(dir, 'cache') };
    doc.train.epochs = 1;
    const file = join(dir, 'raw.yaml');
    writeFileSync(file, YAML.stringify(doc));
    const out = join(dir, 'run');
    const m = await runTraining({ config: loadTrainConfig({ file }), out, quiet: true });

    const log = readFileSync(join(out, 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      log.map((l) => l.epoch),
      [1],
    );
    assert.ok(Number.isFinite(log[0].train_loss) && log[0].train_loss > 0, `train_loss ${log[0].train_loss}`);
    assert.equal(m.folds[0]!.train, 180, '2 digits × 2 speakers × 45 training recordings');
    assert.equal(m.folds[0]!.val, 20);
    const ck = JSON.parse(readFileSync(join(out, 'fold0/last/config.json'), 'utf8'));
    assert.equal(ck.featureConfig.format, 'waveform');
    assert.equal(ck.config.inChannels, 1, 'the registry gives waveforms one channel');
    assert.equal(ck.config.numClasses, 2);
  });
});
